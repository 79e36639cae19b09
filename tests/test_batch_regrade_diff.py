"""grade-all's regrade diff: what a regrade under a new grading key changed, student by student (old score, new
score, the checks that flipped), as grades/<assignment>-regrade-diff.csv and a section of the class report.

Seconds, no TensorFlow: ledger lines made by hand, and ``grade-all`` itself run with an in-process stand-in
executor whose outcomes have the worker's layout (autograder/batch/worker_task.py grade_submission).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from autograder.__main__ import main
from autograder.batch.ledger import LedgerWriter
from autograder.batch.regrade_diff import Flip, regrade_diff, regrade_diff_path
from tests.batch_helpers import StandInExecutor, make_course, outcome

STUDENTS = ("ada", "ben", "cal", "dan", "eve")
RELABEL = "relabel: check_relabel_maps_odd_to_1[relabel_digits]"
SPLIT = "split: check_split_sizes[split_train_val]"
OLD_ACCURACY = "accuracy: check_accuracy_above_threshold[build_mlp]"
NEW_ACCURACY = "accuracy: check_model_reaches_reference_accuracy[build_mlp_for_accuracy]"


def line(student: str, key: str, checks: dict[str, bool], sha: str | None = None, status: str = "graded") -> dict:
    """A ledger line as grade-all appends it (autograder/batch/class_run.py _entry)."""
    base = {"student": student, "assignment": "binary_mnist", "sha256": sha or student.ljust(64, "0"), "key": key,
            "notebook": f"{student}.ipynb", "attempts": 1}
    if status != "graded":
        return {**base, "status": status, "reason": "RuntimeError: boom", "score": None, "max_score": None,
                "groups": {}, "result": None}
    return {**base, "status": "graded", "reason": "", **outcome(checks)}


def write_ledger(path: Path, *lines: dict) -> Path:
    with LedgerWriter(path) as writer:
        writer.append(*lines)
    return path


def current(*students: str) -> dict[str, str]:
    return {s: s.ljust(64, "0") for s in students}


def test_a_student_whose_score_changed_gets_old_and_new_score_and_each_flipped_check(tmp_path):
    ledger = write_ledger(tmp_path / "binary_mnist.jsonl",
                          line("ada", "old", {RELABEL: True, SPLIT: True, OLD_ACCURACY: True}),
                          line("ada", "new", {RELABEL: False, SPLIT: True, NEW_ACCURACY: True}))
    diff = regrade_diff(ledger, "binary_mnist", "new", current("ada"))
    assert diff.compared == ["ada"] and diff.changed == 1, f"ada went from 3 to 2 points; got {diff}"
    change = diff.changes[0]
    assert (change.old_score, change.new_score, change.max_score, change.change) == (3.0, 2.0, 3.0, -1.0)
    assert (change.old_key, change.new_key) == ("old", "new")
    # A renamed check is one removed and one added: the ledger knows names, not what a name used to be called.
    assert change.flips == [Flip(RELABEL, "passed", "failed"), Flip(NEW_ACCURACY, None, "passed"),
                            Flip(OLD_ACCURACY, "passed", None)], change.flips
    assert [f.kind for f in change.flips] == ["now_failed", "added", "removed"]


def test_a_student_whose_score_did_not_change_is_compared_but_gets_no_row(tmp_path):
    ledger = write_ledger(tmp_path / "binary_mnist.jsonl",
                          line("ben", "old", {RELABEL: True, OLD_ACCURACY: False}),
                          line("ben", "new", {RELABEL: True, NEW_ACCURACY: False}))
    diff = regrade_diff(ledger, "binary_mnist", "new", current("ben"))
    assert diff.compared == ["ben"] and diff.changes == [] and diff.unchanged == 1, diff


def test_only_the_same_notebook_is_compared_and_only_once_regraded_under_the_current_key(tmp_path):
    ledger = write_ledger(
        tmp_path / "binary_mnist.jsonl",
        line("ada", "old", {RELABEL: True}), line("ada", "new", {RELABEL: False}, sha="f" * 64),  # resubmitted
        line("ben", "old", {RELABEL: True}),                                                     # not regraded yet
        line("cal", "old", {RELABEL: True}), line("cal", "new", {}, status="not graded"),        # regrade failed
        line("dan", "new", {RELABEL: True}),                                                     # first graded now
        line("eve", "older", {RELABEL: False}), line("eve", "old", {RELABEL: True}),
        line("eve", "new", {RELABEL: True}))
    diff = regrade_diff(ledger, "binary_mnist", "new", {**current("ben", "cal", "dan", "eve"), "ada": "f" * 64})
    # eve is compared with her last grading under another key ("old", 1 point), not her first ("older", 0).
    assert diff.compared == ["eve"] and diff.changes == [], diff


def test_a_first_grading_has_nothing_to_compare(tmp_path):
    ledger = write_ledger(tmp_path / "binary_mnist.jsonl", *(line(s, "new", {RELABEL: True}) for s in STUDENTS))
    diff = regrade_diff(ledger, "binary_mnist", "new", current(*STUDENTS))
    assert diff.compared == [] and not diff.regraded_by(set(STUDENTS)), diff


def before(student: str) -> dict[str, bool]:
    """The class under the old key: everyone passes relabel, split and the old accuracy check."""
    return {RELABEL: True, SPLIT: True, OLD_ACCURACY: True}


def after(student: str) -> dict[str, bool]:
    """The class under the new key: the accuracy check renamed; ben's relabel fails now, cal's split."""
    return {RELABEL: student != "ben", SPLIT: student != "cal", NEW_ACCURACY: True}


@dataclass
class Course:
    root: Path
    executor: StandInExecutor  # what grade-all grades with, in place of its local pool


@pytest.fixture
def course(tmp_path, monkeypatch) -> Course:
    """A course root with five submissions, grade-all's executor replaced by ``course.executor``."""
    course = Course(make_course(tmp_path, STUDENTS), StandInExecutor(before))
    monkeypatch.setattr("autograder.batch.cli._executor_factory", lambda args, config, settings: lambda: course.executor)
    return course


def change_grading_key(course: Course) -> None:
    """course.yml's calibration margin changes: a new grading key, the same notebooks."""
    raw = yaml.safe_load((course.root / "course.yml").read_text())
    raw["calibration"]["margin"] = raw["calibration"]["margin"] + 0.01
    (course.root / "course.yml").write_text(yaml.safe_dump(raw))


def grade_all(course: Course, *args: str) -> int:
    return main(["--config", str(course.root / "course.yml"), "grade-all", str(course.root), "--quiet", *args])


def csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_a_first_grading_writes_no_diff(course, capsys):
    assert grade_all(course) == 0
    diff_csv = regrade_diff_path(course.root / "grades" / "binary_mnist.jsonl", "binary_mnist")
    assert not diff_csv.exists(), f"a first grading has no old grades to compare, yet {diff_csv} was written"
    assert "regrade diff" not in capsys.readouterr().out


def test_a_regrade_under_a_new_key_writes_the_rows_of_the_students_whose_score_changed(course, capsys, tmp_path):
    assert grade_all(course) == 0
    change_grading_key(course)
    course.executor = StandInExecutor(after)
    capsys.readouterr()
    assert grade_all(course, "--class-report", str(tmp_path / "class.html")) == 0
    out = capsys.readouterr().out
    diff_csv = course.root / "grades" / "binary_mnist-regrade-diff.csv"
    assert "regrade diff: 2 of 5 student(s) regraded under the new grading key" in out and str(diff_csv) in out, out
    rows = csv_rows(diff_csv)
    assert [(r["student"], r["old_score"], r["new_score"], r["change"], r["max_score"]) for r in rows] == [
        ("ben", "3", "2", "-1", "3"), ("cal", "3", "2", "-1", "3")], rows
    assert rows[0]["flipped_checks"] == (f"{RELABEL} (passed -> failed); {NEW_ACCURACY} (added, passed); "
                                         f"{OLD_ACCURACY} (removed, was passed)")
    html = (tmp_path / "class.html").read_text(encoding="utf-8")
    assert "What the regrade under the new grading key changed" in html
    assert "2 of 5 student(s) regraded under the new grading key" in html and "3 kept theirs" in html
    assert f"{RELABEL}: passed before, fails now" in html and f"{OLD_ACCURACY}: no longer checked (it had passed)" in html
    assert "<td>ada</td>" not in html.split('id="regrade-diff"')[1], "ada's score did not change: she has no row"


def test_a_regrade_killed_in_mid_run_and_resumed_writes_every_students_row(course, capsys):
    from autograder.batch.cli import EXIT_INTERRUPTED

    assert grade_all(course) == 0
    change_grading_key(course)
    course.executor = StandInExecutor(after, interrupt="cal")  # ada and ben regraded, then Ctrl-C
    assert grade_all(course) == EXIT_INTERRUPTED
    assert "interrupted" in capsys.readouterr().err
    course.executor = StandInExecutor(lambda s: {**after(s), RELABEL: s != "eve"})
    capsys.readouterr()
    assert grade_all(course) == 0
    assert course.executor.graded == ["cal", "dan", "eve"]  # the resume regrades only the rest
    assert "regrade diff: 3 of 5 student(s)" in capsys.readouterr().out
    assert [r["student"] for r in csv_rows(course.root / "grades" / "binary_mnist-regrade-diff.csv")] == ["ben", "cal", "eve"]


def test_a_run_that_regrades_no_one_under_a_new_key_leaves_the_last_diff_as_it_is(course, capsys):
    assert grade_all(course) == 0
    change_grading_key(course)
    course.executor = StandInExecutor(after)
    assert grade_all(course) == 0
    diff_csv = course.root / "grades" / "binary_mnist-regrade-diff.csv"
    written = diff_csv.read_bytes()
    (course.root / "submitted" / "ada" / "binary_mnist" / "binary_mnist.ipynb").write_text('{"cells": [1]}')  # resubmitted
    capsys.readouterr()
    assert grade_all(course) == 0
    out = capsys.readouterr().out
    assert "graded now 1, already in the ledger 4" in out and "regrade diff" not in out, out
    assert diff_csv.read_bytes() == written, "a resubmission is no regrade under a new key: the diff stays"
