"""grade-all --write-gradebook: the ledger's grades in a real nbgrader gradebook, read back through nbgrader's API."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.batch.gradebook import GradebookError, write_gradebook

ROOT = Path(__file__).resolve().parent.parent
POINTS = {"relabel": 1, "split": 1, "prepare": 1, "mlp": 2, "cnn": 2, "deep_cnn": 2, "compile": 1, "accuracy": 3}


def ledger_line(student, failed_groups=(), accuracy_passed=("build_mlp", "build_cnn", "build_deep_cnn")):
    groups = {g: {"score": 0.0 if g in failed_groups else float(p), "max_score": float(p)} for g, p in POINTS.items()}
    groups["accuracy"]["score"] = float(len(accuracy_passed))
    tests = [{"name": f"accuracy: check_accuracy_above_threshold[{b}_for_accuracy]", "group": "accuracy",
              "status": "passed" if b in accuracy_passed else "failed"} for b in ("build_mlp", "build_cnn", "build_deep_cnn")]
    return {"student": student, "status": "graded", "groups": groups, "score": sum(g["score"] for g in groups.values()),
            "max_score": 13.0, "result": {"tests": tests}}


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

    from autograder.course.gradebook import gradebook_scores

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
    from autograder.batch.gradebook import cell_points, check_outcomes_only

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
    from autograder.batch.gradebook import cell_points
    from autograder.hidden.every_check import checks_for
    from autograder.hidden.probes import function_called_by
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
