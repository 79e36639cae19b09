"""The adversarial suite: every exploit in submissions.py gets a complete result, gains nothing, and
leaves the grader grading the next submission exactly right."""

from __future__ import annotations

import shutil

import nbformat
import pytest
import yaml

from autograder.config import load_config
from autograder.grading import Grader
from autograder.sandbox import namespaces_available
from conftest import ROOT
from submissions import ARRAYS, CASES, FULL, IMPORTS, PREPARE, RELABEL, SPLIT, Case, write_submission


def _pids_cgroup_writable() -> bool:
    from pathlib import Path

    probe = Path("/sys/fs/cgroup/pids/autograder-probe")
    try:
        probe.mkdir(exist_ok=True)
        probe.rmdir()
        return True
    except OSError:
        return False


AVAILABLE = {"namespaces": namespaces_available(), "pids": _pids_cgroup_writable()}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder with private things to protect: solutions, another submission, a gradebook."""
    root = tmp_path_factory.mktemp("course")
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    (root / "course.yml").write_text(yaml.safe_dump(raw))
    shutil.copytree(ROOT / "solutions", root / "solutions")
    other = root / "submitted" / "other_student" / "binary_mnist"
    other.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(RELABEL)]), other / "binary_mnist.ipynb")
    (root / "gradebook.db").write_bytes(b"SQLite format 3\x00 pretend")
    return root


def grader_for(course, case: Case) -> Grader:
    limits = {"startup_timeout_s": 60, "call_timeout_s": 20, "submission_timeout_s": 120, **case.limits}
    return Grader(load_config(course / "course.yml", limits=limits), log=lambda m: None)


def control_notebook(path):
    cells = [nbformat.v4.new_code_cell(c) for c in (IMPORTS, RELABEL, SPLIT, PREPARE)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind}-{c.name}")
def test_exploit_gains_nothing_and_the_next_submission_is_graded_right(case, course, tmp_path):
    if case.requires and not AVAILABLE[case.requires]:
        pytest.skip(f"this machine gives the grader no {case.requires}; the exploit is not contained here")
    grader = grader_for(course, case)
    submission = write_submission(case, tmp_path / "binary_mnist.ipynb", course)
    private = {p: p.read_bytes() for p in course.rglob("*") if p.is_file()}
    result = grader.grade_notebook(submission, groups=case.groups)
    assert {p: p.read_bytes() for p in course.rglob("*") if p.is_file()} == private, "the course folder changed"

    # A complete record: every group asked for, every check of it, each failure with a reason.
    assert [g.name for g in result.groups] == [g for g in ("relabel", "split", "prepare", "mlp", "cnn", "deep_cnn",
                                                           "compile", "accuracy") if g in case.groups]
    assert all(g.checks for g in result.groups)
    assert all(c.message for g in result.groups for c in g.checks if not c.passed)
    assert {g.name: g.score for g in result.groups} == case.expected, result.to_text()

    control = grader_for(course, Case("control", "control", FULL)).grade_notebook(
        control_notebook(tmp_path / "control.ipynb"), groups=ARRAYS)
    assert {g.name: g.score for g in control.groups} == FULL, control.to_text()


def test_the_suite_covers_every_class_with_at_least_40_submissions():
    kinds = {c.kind for c in CASES}
    assert kinds == {"malformed", "tampering", "spoofing", "process", "resources", "leakage", "forgery", "ml"}
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
