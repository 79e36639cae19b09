"""The students' self-check: one test per visible check of the grader (run: ``pytest autograder``)."""

from __future__ import annotations

import pytest

from autograder.checks import checks_for
from autograder.i18n import _

VISIBLE = checks_for(include_hidden=False)


@pytest.mark.parametrize("check", VISIBLE, ids=[f"{c.group}:{c.name}" for c in VISIBLE])
def test_check(check, grader, calls):
    if isinstance(calls, str):
        pytest.fail(grader.translator(_("the notebook could not be graded: {reason}"), reason=calls), pytrace=False)
    result = grader.run_check(check, calls)
    if not result.passed:
        pytest.fail(f"{result.rule}\n{result.message}", pytrace=False)
