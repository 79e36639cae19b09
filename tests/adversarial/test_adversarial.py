"""The adversarial suite: every exploit in submissions.py gets a complete result, gains nothing, and
leaves the grader grading the next submission exactly right."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.support.config import GROUPS, load_config
from autograder.grader.grading import Grader
from autograder.isolation.jail import sandbox_problem
from autograder.report.text import result_text
from conftest import cgroup_writable
from repo_paths import ROOT
from submissions import ARRAYS, CASES, FULL, IMPORTS, PREPARE, RELABEL, SPLIT, Case, write_submission

pytestmark = pytest.mark.slow  # 65 hostile submissions, each graded in full: many minutes


AVAILABLE = {"namespaces": sandbox_problem() is None, "pids": cgroup_writable("pids"), "memory": cgroup_writable("memory")}


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
    # Another grading's work folder, as grade-all's other worker leaves it in the shared temp folder meanwhile.
    elsewhere = Path(tempfile.mkdtemp(prefix="autograder-"))
    (elsewhere / "plan.json").write_text('{"cells": ["def relabel_odd_even(y): return y % 2"]}')
    yield root
    shutil.rmtree(elsewhere, ignore_errors=True)


def grader_for(course, case: Case) -> Grader:
    limits = {"startup_timeout_s": 60, "call_timeout_s": 20, "submission_timeout_s": 120, **case.limits}
    return Grader(load_config(course / "course.yml", limits=limits), log=lambda m: None)


def control_notebook(path):
    cells = [nbformat.v4.new_code_cell(c) for c in (IMPORTS, RELABEL, SPLIT, PREPARE)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def _summary(result) -> dict:
    return {"groups": [{"name": g.name, "score": g.score, "checks": [{"passed": c.passed, "message": str(c.message)}
                                                                    for c in g.checks]} for g in result.groups],
            "text": result_text(result)}


# Grades one submission in a fresh interpreter and reports its result and the grader's own peak memory
# (ru_maxrss of that process: the submission's process is its child, not counted).
_GRADE_IN_FRESH_PROCESS = """
import json, resource, sys
from autograder.support.config import load_config
from autograder.grader.grading import Grader
from autograder.report.text import result_text
course, limits, submission, groups = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], tuple(sys.argv[4].split(","))
result = Grader(load_config(course, limits=limits), log=lambda m: None).grade_notebook(submission, groups=groups)
summary = {"groups": [{"name": g.name, "score": g.score, "checks": [{"passed": c.passed, "message": str(c.message)}
                                                                   for c in g.checks]} for g in result.groups],
           "text": result_text(result), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
print("SUMMARY " + json.dumps(summary))
"""


def grade_in_fresh_process(course, case: Case, submission) -> dict:
    """The submission's result as plain data, with ``peak_mb``: the most memory the grading process held."""
    limits = {"startup_timeout_s": 60, "call_timeout_s": 20, "submission_timeout_s": 120, **case.limits}
    done = subprocess.run([sys.executable, "-c", _GRADE_IN_FRESH_PROCESS, str(course / "course.yml"),
                           json.dumps(limits), str(submission), ",".join(case.groups)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("SUMMARY ")]
    assert done.returncode == 0 and lines, f"the grader failed (exit code {done.returncode}):\n{done.stderr[-3000:]}"
    return json.loads(lines[-1][len("SUMMARY "):])


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind}-{c.name}")
def test_exploit_gains_nothing_and_the_next_submission_is_graded_right(case, course, tmp_path):
    if case.requires and not AVAILABLE[case.requires]:
        pytest.skip(f"this machine gives the grader no {case.requires}; the exploit is not contained here")
    submission = write_submission(case, tmp_path / "binary_mnist.ipynb", course)
    private = {p: p.read_bytes() for p in course.rglob("*") if p.is_file()}
    if case.max_grader_mb:
        result = grade_in_fresh_process(course, case, submission)
        print(f"{case.name}: the grader's peak memory was {result['peak_mb']:.0f} MB")
        assert result["peak_mb"] < case.max_grader_mb, (
            f"the grader held {result['peak_mb']:.0f} MB (at most {case.max_grader_mb} MB):\n{result['text']}")
    else:
        result = _summary(grader_for(course, case).grade_notebook(submission, groups=case.groups))
    assert {p: p.read_bytes() for p in course.rglob("*") if p.is_file()} == private, "the course folder changed"

    # A complete record: every group asked for, every check of it, each failure with a reason.
    groups = result["groups"]
    assert [g["name"] for g in groups] == [g for g in GROUPS if g in case.groups]
    assert all(g["checks"] for g in groups)
    assert all(c["message"] for g in groups for c in g["checks"] if not c["passed"])
    assert {g["name"]: g["score"] for g in groups} == case.expected, result["text"]
    if case.reason:
        assert case.reason in result["text"], result["text"]

    control = grader_for(course, Case("control", "control", FULL)).grade_notebook(
        control_notebook(tmp_path / "control.ipynb"), groups=ARRAYS)
    assert {g.name: g.score for g in control.groups} == FULL, result_text(control)


def test_the_suite_covers_every_class_with_at_least_40_submissions():
    kinds = {c.kind for c in CASES}
    assert kinds == {"malformed", "tampering", "spoofing", "process", "resources", "leakage", "forgery", "ml"}
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
