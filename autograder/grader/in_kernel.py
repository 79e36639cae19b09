"""The hidden test cells' entry point: ``check_hidden_group`` runs a group's hidden checks in nbgrader's kernel.

The source notebook's hidden test cells import it (between ``### BEGIN/END HIDDEN TESTS``, so the
student release never names it). The calls go through the same files and safe loading as the
jailed grader (``Grader.calls_for_functions``); the output rules are the visible cells' own
(``autograder.notebook.report_group``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from autograder.hidden.every_check import checks_for
from autograder.notebook import course_config, report_group


@lru_cache(maxsize=1)
def _grader():
    from autograder.grader.grading import Grader

    return Grader(course_config(), log=lambda msg: None)


def check_hidden_group(group: str, **functions: Callable) -> None:
    """Run one group's hidden checks on the given functions; raise AssertionError listing every failure."""
    wanted = [c for c in checks_for((group,)) if c.hidden and c.probe.function in functions]
    if not wanted:
        raise ValueError(f"no hidden checks of group {group!r} use {sorted(functions)}")
    report_group(_grader(), group, wanted, functions, hidden=True)
