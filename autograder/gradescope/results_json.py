"""Gradescope's results.json, from a graded result or from what went wrong instead.

Gradescope's format (https://gradescope-autograders.readthedocs.io/en/latest/specs/): top level
``score``, ``execution_time``, ``output``, ``stdout_visibility`` and ``tests``; per test ``name``,
``number``, ``score``, ``max_score``, ``status``, ``output``, ``tags``, ``visibility``. The kit's own
Gradescope-style rendering of a graded result (``autograder.report.gradescope_style``, also what
``grade --json`` writes and what the class ledger keeps) names the group in ``group`` and keeps
``max_score`` at the top; for Gradescope (``from_graded``) the group becomes the test's tag and the
totals move to ``extra_data``.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.support.atomic_files import write_atomically
from autograder.support.config import GradescopeSettings


def from_graded(graded: dict, settings: GradescopeSettings, output: str) -> dict:
    """A results.json from ``report.gradescope_style.gradescope_results(result)``: hidden checks count, shown
    when the course says."""
    tests = []
    group_numbers: dict[str, int] = {}
    check_numbers: dict[str, int] = {}
    for test in graded["tests"]:
        group = test["group"]
        group_numbers.setdefault(group, len(group_numbers) + 1)
        check_numbers[group] = check_numbers.get(group, 0) + 1
        tests.append({"name": test["name"], "number": f"{group_numbers[group]}.{check_numbers[group]}",
                      "score": test["score"], "max_score": test["max_score"], "status": test["status"],
                      "output": test["output"], "tags": [group],
                      "visibility": settings.hidden_checks_visibility if test["visibility"] == "hidden" else "visible"})
    extra = dict(graded.get("extra_data") or {}, max_score=graded["max_score"])
    return {"score": graded["score"], "execution_time": graded["execution_time"], "output": output,
            "stdout_visibility": settings.stdout_visibility, "tests": tests, "extra_data": extra}


def not_graded(what: str, reason: str, max_score: float, settings: GradescopeSettings,
               execution_time: float = 0.0) -> dict:
    """A results.json for an upload that could not be graded: one visible entry, score 0, saying why."""
    return {"score": 0.0, "execution_time": round(execution_time, 2), "output": reason,
            "stdout_visibility": settings.stdout_visibility,
            "tests": [{"name": what, "number": "0", "score": 0.0, "max_score": max_score, "status": "failed",
                       "output": reason, "tags": ["submission"], "visibility": "visible"}],
            "extra_data": {"max_score": max_score}}


def write_results(path: Path, results: dict) -> None:
    """Write results.json whole or not at all: Gradescope must never read half a file."""
    write_atomically(path, json.dumps(results, indent=2, ensure_ascii=False) + "\n")
