"""Example submissions for the demo and the round-trip tests, made from the release notebook.

Each example fills the release's answer cells with the reference code, except for the functions
it replaces with a known bug; so the examples never drift from the assignment.
"""

from __future__ import annotations

import copy
import inspect

import nbformat

from autograder import reference

_RELABEL_INVERTED = '''def relabel_odd_even(y):
    return 1 - y % 2  # bug: odd and even swapped
'''


def reference_source(name: str) -> str:
    """The reference function's source without nbgrader's solution markers (what a student writes)."""
    lines = inspect.getsource(getattr(reference, name)).splitlines()
    return "\n".join(line for line in lines if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def _cnn_with_softmax_output() -> str:
    source = reference_source("build_cnn")
    last = 'layers.Dense(1, activation="sigmoid"),'
    if last not in source:
        raise RuntimeError("reference.build_cnn no longer ends in Dense(1, sigmoid): update this example")
    return source.replace(last, 'layers.Dense(1, activation="softmax"),  # bug: softmax over one unit is always 1.0')


# student name -> {function name: replacement source}; None = the untouched release (all stubs).
EXAMPLES: dict[str, dict[str, str] | None] = {
    "ada_complete": {},
    "ben_relabel_inverted": {"relabel_odd_even": _RELABEL_INVERTED},
    "cleo_cnn_softmax": {"build_cnn": _cnn_with_softmax_output()},
    "dan_untouched_stubs": None,
}


def filled_release(release: nbformat.NotebookNode, replacements: dict[str, str] | None) -> nbformat.NotebookNode:
    """A copy of the release with every answer cell filled in (reference code or a replacement)."""
    nb = copy.deepcopy(release)
    if replacements is None:
        return nb
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in reference.FUNCTION_NAMES:
            name = meta["grade_id"]
            cell.source = replacements.get(name, reference_source(name)).rstrip()
    return nb
