"""grade-all --write-gradebook: the ledger's grades in a real nbgrader gradebook, read back through nbgrader's API."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.batch.gradebook_writer import GradebookError, write_gradebook
from autograder.support.config import CourseConfig
from repo_paths import ROOT

# The demo course's points: the declared defaults (autograder/support/check_groups.py).
POINTS = CourseConfig().points


def ledger_line(student, failed_groups=(), accuracy_passed=("build_mlp", "build_cnn", "build_deep_cnn")):
    groups = {g: {"score": 0.0 if g in failed_groups else float(p), "max_score": float(p)} for g, p in POINTS.items()}
    groups["accuracy"]["score"] = float(len(accuracy_passed))
    tests = [{"name": f"accuracy: check_accuracy_above_threshold[{b}_for_accuracy]", "group": "accuracy",
              "status": "passed" if b in accuracy_passed else "failed"} for b in ("build_mlp", "build_cnn", "build_deep_cnn")]
    return {"student": student, "status": "graded", "groups": groups, "score": sum(g["score"] for g in groups.values()),
            "max_score": float(sum(POINTS.values())), "result": {"tests": tests}}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from autograder.course import nbgrader_course
    from autograder.support.config import load_config
    from autograder.course.demo import make_demo_course

    work = tmp_path_factory.mktemp("gradebook")
    course = make_demo_course(load_config(ROOT / "course.yml"), work, "sample")
    nbgrader_course.generate(course, env={"COURSE_CONFIG": str(course / "course.yml"), "TF_CPP_MIN_LOG_LEVEL": "2"})
    return course


@pytest.mark.slow  # nbgrader generate_assignment: about 40 s
def test_grades_written_read_back_through_nbgrader_group_by_group(course):
    from nbgrader.api import Gradebook

    from autograder.course.nbgrader_records import gradebook_scores

    entries = {"ada": ledger_line("ada"),
               "ben": ledger_line("ben", failed_groups=("relabel", "cnn"), accuracy_passed=("build_mlp",))}
    assert write_gradebook(course, "binary_mnist", "binary_mnist", entries) == 2
    scores = gradebook_scores(course, "binary_mnist", "binary_mnist", ["ada", "ben"])
    assert scores["ada"] == {g: (float(p), float(p)) for g, p in POINTS.items()}
    assert scores["ben"]["relabel"] == (0.0, 1.0) and scores["ben"]["cnn"] == (0.0, 2.0)
    assert scores["ben"]["split"] == (1.0, 1.0) and scores["ben"]["accuracy"] == (1.0, 3.0)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission("binary_mnist", "ada").score == 13
        assert gb.find_submission("binary_mnist", "ben").score == 13 - 1 - 2 - 2
        assert not gb.find_submission("binary_mnist", "ben").needs_manual_grade


def test_a_gradebook_without_the_assignment_is_a_clear_error(tmp_path):
    with pytest.raises(GradebookError, match="does not exist"):
        write_gradebook(tmp_path, "binary_mnist", "binary_mnist", {})


def test_the_slimmed_line_the_coordinator_holds_gives_every_cell_the_same_points():
    from autograder.batch.gradebook_writer import cell_points, check_outcomes_only

    line = ledger_line("ben", failed_groups=("relabel",), accuracy_passed=("build_cnn",))
    for test in line["result"]["tests"]:
        test["output"] = "a long failure message " * 50
    slim = check_outcomes_only(line)
    assert "result" not in slim and "a long failure message" not in str(slim)
    assert slim["checks"] == [["accuracy", f"{b}_for_accuracy", b == "build_cnn"]
                              for b in ("build_mlp", "build_cnn", "build_deep_cnn")]
    for cell in ("test_relabel", "test_split", "test_accuracy_build_mlp", "test_accuracy_build_cnn"):
        assert cell_points(cell, 1.0, slim) == cell_points(cell, 1.0, line), cell
    assert cell_points("test_accuracy_build_cnn", 1.0, slim) == 1.0 and cell_points("test_relabel", 1.0, slim) == 0.0


def test_each_per_model_cell_is_scored_by_the_real_accuracy_check_of_its_model():
    """The accuracy checks' probes are named build_mlp_for_accuracy etc., not after the builder: each per-model
    cell must still find its own check, in a ledger line made from the real registry's results."""
    from autograder.batch.gradebook_writer import cell_points
    from autograder.hidden.every_check import checks_for
    from autograder.hidden.every_probe import function_called_by
    from autograder.report.gradescope_style import gradescope_results
    from autograder.engine.results import CheckResult, GradeResult, GroupResult

    checks = checks_for(("accuracy",))
    assert sorted(function_called_by(c.probe.name) for c in checks) == ["build_cnn", "build_deep_cnn", "build_mlp"]
    results = [CheckResult.of(c, passed=function_called_by(c.probe.name) == "build_cnn") for c in checks]
    result = GradeResult("nb", [GroupResult("accuracy", 3.0, results, partial_credit=True)])
    # The record the ledger stores now, and the Gradescope-style dict a ledger written before held.
    for stored in (result.to_dict(), gradescope_results(result)):
        line = {"groups": {"accuracy": {"score": 1.0, "max_score": 3.0}}, "result": stored}
        points = {b: cell_points(f"test_accuracy_{b}", 1.0, line) for b in ("build_mlp", "build_cnn", "build_deep_cnn")}
        assert points == {"build_mlp": 0.0, "build_cnn": 1.0, "build_deep_cnn": 0.0}, stored.get("format")


# ---------------------------------------------------------------- a gradebook another program holds (issue 31, item 6)

# Another program's transaction on gradebook.db, held until its stdin closes: BEGIN EXCLUSIVE blocks readers
# too, BEGIN IMMEDIATE only writers (a formgrader save in progress, a sqlite3 shell in a transaction).
HOLD_GRADEBOOK = ("import sqlite3, sys; db = sqlite3.connect(sys.argv[1], isolation_level=None); "
                  "db.execute('BEGIN ' + sys.argv[2]); print('held', flush=True); sys.stdin.read()")


@pytest.fixture(scope="module")
def gradebook_template(tmp_path_factory):
    """A gradebook.db with the assignment, its notebook and two test cells, made once through nbgrader's API
    (a few seconds, where `nbgrader generate_assignment` takes 40)."""
    from nbgrader import api

    path = tmp_path_factory.mktemp("gradebook_template") / "gradebook.db"
    runs_alembic = api.get_alembic_version
    api.get_alembic_version = alembic_head_here  # a new gradebook runs the `alembic` command, seconds of start-up
    try:
        with api.Gradebook(f"sqlite:///{path}") as gb:
            gb.add_assignment("binary_mnist")
            gb.add_notebook("binary_mnist", "binary_mnist")
            for cell in ("test_relabel", "test_split"):
                gb.add_grade_cell(cell, "binary_mnist", "binary_mnist", max_score=1, cell_type="code")
                gb.add_source_cell(cell, "binary_mnist", "binary_mnist", cell_type="code", locked=True, source="",
                                   checksum="")
    finally:
        api.get_alembic_version = runs_alembic
    return path


def alembic_head_here() -> str:
    """What nbgrader's ``get_alembic_version`` asks the `alembic` command, asked in this process."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader import api

    with api._temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        return ScriptDirectory.from_config(Config(ini)).get_current_head()


@pytest.fixture
def small_gradebook(tmp_path, gradebook_template):
    """A course folder holding a fresh copy of the template's gradebook.db."""
    import shutil

    shutil.copy(gradebook_template, tmp_path / "gradebook.db")
    return tmp_path


def students_in(course: Path) -> list[str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return sorted(s.id for s in gb.students)


@pytest.mark.parametrize("lock", ["EXCLUSIVE", "IMMEDIATE"])
def test_a_locked_gradebook_is_retried_then_refused_with_nothing_written(small_gradebook, lock):
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", HOLD_GRADEBOOK, str(small_gradebook / "gradebook.db"), lock],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(GradebookError) as refused:
            write_gradebook(small_gradebook, "binary_mnist", "binary_mnist",
                            {"ada": ledger_line("ada"), "ben": ledger_line("ben")}, busy_timeout_s=0.2, attempts=2)
    finally:
        holder.stdin.close()
        holder.wait(10)
    message = str(refused.value)
    assert "is locked by another program" in message and "tried 2 times, waiting 0.2 s each" in message, message
    assert "nothing was written to it" in message and "--write-gradebook again" in message, message
    assert students_in(small_gradebook) == []
    assert write_gradebook(small_gradebook, "binary_mnist", "binary_mnist", {"ada": ledger_line("ada")}) == 1
    assert students_in(small_gradebook) == ["ada"]


def test_a_failure_in_mid_class_leaves_the_gradebook_as_it_was(small_gradebook, monkeypatch):
    """All students in one transaction: nbgrader commits each student and submission it creates, so before
    this a failure at the second student left the first one written."""
    from autograder.batch import gradebook_writer

    real_points = gradebook_writer.cell_points

    def fails_for_ben(grade_id, max_score, entry):
        if entry["student"] == "ben":
            raise OSError(28, "No space left on device")
        return real_points(grade_id, max_score, entry)

    monkeypatch.setattr(gradebook_writer, "cell_points", fails_for_ben)
    with pytest.raises(OSError, match="No space left"):
        write_gradebook(small_gradebook, "binary_mnist", "binary_mnist",
                        {"ada": ledger_line("ada"), "ben": ledger_line("ben")})
    assert students_in(small_gradebook) == []


def test_grade_all_write_gradebook_on_a_locked_gradebook_says_so_and_keeps_the_grades(small_gradebook, monkeypatch):
    import json
    import shutil
    import subprocess
    import sys

    from autograder.__main__ import main
    from autograder.batch import gradebook_writer
    from tests.batch_helpers import StandInExecutor, make_course

    course = make_course(small_gradebook / "course", ["ada", "ben"])
    shutil.move(small_gradebook / "gradebook.db", course / "gradebook.db")
    monkeypatch.setattr(gradebook_writer, "GRADEBOOK_BUSY_TIMEOUT_S", 0.2)
    executor = StandInExecutor(lambda student: {"relabel: check_relabel[relabel_odd_even]": True})
    monkeypatch.setattr("autograder.batch.cli._executor_factory", lambda args, config, settings: lambda: executor)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_GRADEBOOK, str(course / "gradebook.db"), "EXCLUSIVE"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SystemExit) as refused:
            main(["--config", str(course / "course.yml"), "grade-all", str(course), "--quiet", "--write-gradebook"])
    finally:
        holder.stdin.close()
        holder.wait(10)
    message = str(refused.value.code)
    assert message.startswith(f"error: {course / 'gradebook.db'} is locked by another program"), message
    assert message.endswith(f"the grades stay in {course / 'grades' / 'binary_mnist.jsonl'}"), message
    ledger = (course / "grades" / "binary_mnist.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["student"] for line in ledger) == ["ada", "ben"]
    assert students_in(course) == []
