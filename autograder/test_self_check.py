"""The students' self-check: one test per visible check of the grader (run: ``pytest autograder``)."""

from __future__ import annotations

import sys

import pytest

from autograder.messages.cell_stderr import captured_stderr
from autograder.checks import visible_checks
from autograder.fit_summary import run_training_check
from autograder.messages.i18n import _

VISIBLE = visible_checks()


@pytest.mark.parametrize("check", VISIBLE, ids=[f"{c.group}:{c.name}" for c in VISIBLE])
def test_check(check, self_check_session, calls, fit_trainings, request):
    if isinstance(calls, str):
        pytest.fail(self_check_session.translator(_("the notebook could not be graded: {reason}"), reason=calls),
                    pytrace=False)
    # Only the accuracy checks need the data set; without full MNIST they train on the sample data.
    runner = request.getfixturevalue("accuracy_session") if check.needs_training else self_check_session
    # TensorFlow's own log (tf.data's "E0000 … NodeDef" line) would show under a failed check as if it were the cause.
    with captured_stderr(record_warnings=False) as caught:
        if check.needs_training:  # its training's time and memory go into the summary "will this fit the grader?"
            result = run_training_check(runner, self_check_session, check, calls, fit_trainings)
        else:
            result = runner.run_check(check, calls)
    for line in caught.other_lines:
        print(line, file=sys.stderr)
    if not result.passed:
        note = getattr(runner, "fallback_note", None)
        t = runner.translator
        pytest.fail(f"{result.rule_text(t)}\n{result.message_text(t)}" + (f"\n{t(_('note: {note}'), note=note)}"
                                                                           if note else ""), pytrace=False)
