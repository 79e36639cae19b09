"""``verify`` compares nbgrader's gradebook with the grade-all ledger: what the ledger holds is compared without
grading; what it lacks (never graded, or a notebook changed since) is graded through grade-all's path first.

A small course built in seconds: a real nbgrader gradebook (made through nbgrader's API, with the test cells the
source notebook declares), ledger lines made from real ``GradeResult``s, and a stand-in executor where grading
must happen. The real grading path is covered by tests/test_nbgrader_parity.py and test_nbgrader_roundtrip.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from concurrent.futures import Future
from pathlib import Path

import pytest
import yaml

from autograder.batch.class_run import _entry
from autograder.batch.grading_key import grading_key
from autograder.batch.ledger import LedgerWriter, UnreadableResult, ledger_path, recorded_result
from autograder.support.config import load_config
from autograder.course.nbgrader_records import gradebook_scores, grade_id_of
from autograder.course.verify import verify_course
from autograder.report.gradescope_style import gradescope_results
from autograder.engine.results import CheckResult, GradeResult, GroupResult
from autograder.submissions import Submission
from repo_paths import ROOT

BUILDERS = ("build_mlp", "build_cnn", "build_deep_cnn")
INVERTED = "relabel_odd_even(y_train[:5]) has the classes inverted: odd digits must be 1"


def grade(config, failing=(), accuracy_failing=()) -> GradeResult:
    """A result shaped like the grader's: two checks per group (one hidden), one accuracy check per model."""
    groups = []
    for name, points in config.points.items():
        if name == "accuracy":
            checks = [CheckResult(check="check_accuracy_above_threshold", probe=f"{b}_for_accuracy", group=name,
                                  rule="accuracy above the threshold", hidden=True, passed=b not in accuracy_failing,
                                  message="" if b not in accuracy_failing else f"{b}: 0.51 < 0.90")
                      for b in BUILDERS]
        else:
            message = INVERTED if name == "relabel" else f"{name} is wrong"
            checks = [CheckResult(check=f"check_{name}", probe="visible", group=name, rule=f"{name} rule",
                                  hidden=False, passed=name not in failing, message="" if name not in failing else message),
                      CheckResult(check=f"check_{name}_hidden", probe="probe", group=name, rule=f"{name} hidden rule",
                                  hidden=True, passed=True)]
        groups.append(GroupResult(name, float(points), checks, partial_credit=name in config.partial_credit))
    return GradeResult("submission.ipynb", groups, notes=["graded on the sample data"], execution_time=12.5)


def outcome(result: GradeResult, stored=GradeResult.to_dict) -> dict:
    """What a worker returns for ``result`` (autograder/batch/worker_task.py grade_submission): its record; with
    ``stored=gradescope_results``, what a worker returned before the kit stored records."""
    return {"isolated": True, "score": round(result.score, 4), "max_score": round(result.max_score, 4),
            "groups": {g.name: {"score": round(g.score, 4), "max_score": round(g.max_score, 4)} for g in result.groups},
            "seconds": result.execution_time, "calibration": "sample-test", "worker": "here:1",
            "result": stored(result)}


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course with ada (complete) and eve (relabel inverted): autograded in the gradebook, graded in the ledger."""
    from nbgrader.api import Gradebook

    # nbgrader stamps a new gradebook by running `alembic`, installed next to this interpreter.
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    (tmp_path / "course.yml").write_text(yaml.safe_dump(raw))
    config = load_config(tmp_path / "course.yml")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        gb.add_assignment("binary_mnist")
        gb.add_notebook("binary_mnist", "binary_mnist")
        for group, points in config.points.items():
            cells = ([(grade_id_of(group, b), points / len(BUILDERS)) for b in BUILDERS] if group == "accuracy"
                     else [(grade_id_of(group), points)])
            for name, most in cells:
                gb.add_grade_cell(name, "binary_mnist", "binary_mnist", max_score=most, cell_type="code")
    results = {"ada": grade(config), "eve": grade(config, failing=("relabel",))}
    for student, result in results.items():
        submit(tmp_path, student, f"{student}'s notebook")
        record(tmp_path, config, student, result)
        autograde(tmp_path, student, result)
    return tmp_path, config


def submit(course: Path, student: str, text: str) -> Path:
    path = course / "submitted" / student / "binary_mnist" / "binary_mnist.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def record(course: Path, config, student: str, result: GradeResult) -> None:
    """Append ``student``'s grade of their current notebook to the ledger, as grade-all does."""
    path = course / "submitted" / student / "binary_mnist" / "binary_mnist.ipynb"
    submission = Submission(student, path, hashlib.sha256(path.read_bytes()).hexdigest())
    with LedgerWriter(ledger_path(course, "binary_mnist")) as writer:
        writer.append(_entry(submission, "binary_mnist", grading_key(config), 1, outcome(result)))


def autograde(course: Path, student: str, result: GradeResult) -> None:
    """nbgrader's autograded points of ``result``, cell by cell (grade-all --write-gradebook's mapping)."""
    from autograder.batch.gradebook_writer import write_gradebook

    write_gradebook(course, "binary_mnist", "binary_mnist", {student: outcome(result)})


def set_nbgrader_points(course: Path, student: str, cell: str, points: float) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grade = next(g for g in gb.find_submission_notebook("binary_mnist", "binary_mnist", student).grades
                     if g.name == cell)
        grade.auto_score = points
        gb.db.commit()


@pytest.fixture
def no_grading(monkeypatch):
    """Any attempt to grade (start the local pool, or grade a notebook in this process) fails the test."""
    import autograder.batch.local_pool
    import autograder.grader.grading

    def refuse(*args, **kwargs):
        raise AssertionError("verify graded a submission the ledger already holds")

    monkeypatch.setattr(autograder.batch.local_pool, "LocalPool", refuse)
    monkeypatch.setattr(autograder.grader.grading.Grader, "grade_notebook", refuse)


class StandInExecutor:
    """grade-all's executor interface, grading in this process with ``grade(student)``; records what it graded."""

    capacity = 4

    def __init__(self, grade):
        self.grade = grade
        self.graded: list[str] = []

    def submit(self, student: str, path: str) -> Future:
        self.graded.append(student)
        future: Future = Future()
        try:
            future.set_result(outcome(self.grade(student)))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def finished(self, in_flight) -> set:
        return {f for f in in_flight if f.done()}

    def outcome(self, future: Future) -> dict:
        return future.result()

    def close(self, cancel: bool = False) -> None:
        pass


def verify(course, config, **kwargs):
    return verify_course(course, config, "binary_mnist", "binary_mnist", log=lambda m: None, **kwargs)


def ledger_lines(course: Path) -> list[dict]:
    return [json.loads(line) for line in ledger_path(course, "binary_mnist").read_text(encoding="utf-8").splitlines()]


def test_a_ledger_line_gives_back_the_record_it_stored_whole(course):
    _, config = course
    original = grade(config, failing=("relabel", "cnn"), accuracy_failing=("build_cnn",))
    rebuilt = recorded_result({"student": "ada", "notebook": "ada.ipynb", **outcome(original)}, config.partial_credit)
    assert rebuilt == original  # every check, probe, rule and message, the failed checks' rules included
    assert rebuilt.group("cnn").first_failure.rule == "cnn rule"


def test_a_ledger_line_written_before_records_gives_back_the_result_it_recorded(course):
    _, config = course
    original = grade(config, failing=("relabel", "cnn"), accuracy_failing=("build_cnn",))
    entry = {"student": "ada", "notebook": "ada.ipynb", **outcome(original, stored=gradescope_results)}
    rebuilt = recorded_result(entry, config.partial_credit)
    assert gradescope_results(rebuilt)["tests"] == gradescope_results(original)["tests"]
    assert [(g.name, g.score, g.max_score, g.partial_credit) for g in rebuilt.groups] == \
        [(g.name, g.score, g.max_score, g.partial_credit) for g in original.groups]
    assert rebuilt.group("relabel").first_failure.message == INVERTED and rebuilt.notes == original.notes


def test_a_ledger_line_whose_checks_disagree_with_its_scores_is_refused(course):
    _, config = course
    entry = {"student": "ada", "notebook": "ada.ipynb", **outcome(grade(config), stored=gradescope_results)}
    entry["groups"]["relabel"]["score"] = 0.0  # damaged, or edited by hand
    with pytest.raises(UnreadableResult, match="relabel"):
        recorded_result(entry, config.partial_credit)
    del entry["result"]["tests"]
    with pytest.raises(UnreadableResult, match="cannot be read back"):
        recorded_result(entry, config.partial_credit)


def test_what_the_ledger_holds_is_compared_without_grading_anything(course, no_grading):
    root, config = course
    verification = verify(root, config)
    assert verification.all_agree, verification.text()
    assert verification.from_ledger == ["ada", "eve"] and verification.graded_now == []
    assert verification.results["eve"].group("relabel").score == 0.0
    assert verification.results["ada"].score == verification.results["ada"].max_score == config.max_score
    assert "2 submission(s) compared: 2 with the ledger's grade, 0 graded now" in verification.text()
    assert len(ledger_lines(root)) == 2  # nothing appended


def test_a_planted_discrepancy_is_reported_and_written_back(course, no_grading):
    root, config = course
    set_nbgrader_points(root, "eve", "test_relabel", 1.0)  # the kernel was fooled
    set_nbgrader_points(root, "ada", "test_accuracy_build_cnn", 0.0)  # or unfair
    verification = verify(root, config, write_back=True)
    assert [(d.student, d.group, d.nbgrader_points, d.verified_points) for d in verification.discrepancies] == \
        [("ada", "accuracy", 2.0, 3.0), ("eve", "relabel", 1.0, 0.0)]
    assert verification.discrepancies[1].reason == INVERTED
    after = gradebook_scores(root, "binary_mnist", "binary_mnist", ["ada", "eve"])
    assert after["eve"]["relabel"] == (0.0, 1.0) and after["ada"]["accuracy"] == (3.0, 3.0)
    assert verify(root, config).all_agree


def test_a_notebook_changed_since_its_ledger_line_is_graded_again_and_compared_with_the_new_grade(course):
    root, config = course
    submit(root, "ada", "ada's notebook, resubmitted")
    executor = StandInExecutor(lambda student: grade(config, failing=("split",)))
    verification = verify(root, config, executor_factory=lambda: executor)
    assert executor.graded == ["ada"]  # eve's notebook is unchanged: hers comes from the ledger
    assert verification.graded_now == ["ada"] and verification.from_ledger == ["eve"]
    assert [(d.student, d.group, d.verified_points) for d in verification.discrepancies] == [("ada", "split", 0.0)]
    lines = ledger_lines(root)
    assert [e["student"] for e in lines] == ["ada", "eve", "ada"]  # appended; the old grade stays in the file
    assert lines[-1]["sha256"] == hashlib.sha256(b"ada's notebook, resubmitted").hexdigest()


def test_a_submission_that_cannot_be_graded_is_listed_never_compared_as_zero(course):
    root, config = course
    submit(root, "ada", "ada's notebook, resubmitted")

    def crash(student):
        raise RuntimeError("the grader's calibration is missing")

    executor = StandInExecutor(crash)
    verification = verify(root, config, executor_factory=lambda: executor)
    assert executor.graded == ["ada", "ada"]  # tried once more, as grade-all does
    assert verification.not_graded == {"ada": "RuntimeError: the grader's calibration is missing"}
    assert verification.discrepancies == [] and "ada" not in verification.results and not verification.all_agree
    assert "NOT GRADED out of kernel" in verification.text() and "calibration is missing" in verification.text()


def test_a_student_never_autograded_is_listed_and_not_graded(course, no_grading):
    root, config = course
    submit(root, "zoe", "zoe's late notebook")
    verification = verify(root, config)
    assert verification.not_autograded == ["zoe"] and "zoe" not in verification.results
    assert verification.from_ledger == ["ada", "eve"]


def test_the_command_exits_0_1_or_3_and_writes_what_it_compared_as_json(course, no_grading, tmp_path_factory):
    from autograder.__main__ import main

    root, config = course
    out = tmp_path_factory.mktemp("out") / "verify.json"
    command = ["--config", str(root / "course.yml"), "verify", str(root), "--quiet", "--json", str(out)]
    assert main(command) == 0
    assert json.loads(out.read_text()) == {"discrepancies": [], "not_autograded": [], "not_graded": {},
                                           "from_ledger": ["ada", "eve"], "graded_now": []}
    set_nbgrader_points(root, "eve", "test_relabel", 1.0)
    assert main(command) == 1
    assert main(command + ["--write-back"]) == 0
    with ledger_path(root, "binary_mnist").open("a", encoding="utf-8") as f:  # eve's line, damaged by hand
        line = ledger_lines(root)[1]
        line["groups"]["relabel"]["score"] = 1.0
        f.write(json.dumps(line) + "\n")
    assert main(command) == 3
    assert "eve" in json.loads(out.read_text())["not_graded"]


def test_grades_written_into_the_gradebook_by_grade_all_agree_with_verify(course, no_grading, capsys):
    from autograder.batch.cli import _write_gradebook

    root, config = course
    set_nbgrader_points(root, "eve", "test_relabel", 1.0)
    set_nbgrader_points(root, "ada", "test_accuracy_build_mlp", 0.0)
    assert len(verify(root, config).discrepancies) == 2
    _write_gradebook(config, ledger_path(root, "binary_mnist"), {"ada", "eve"})  # grade-all --write-gradebook
    assert "wrote 2 student(s)' grades" in capsys.readouterr().out
    assert verify(root, config).all_agree
