"""One hostile notebook that goes after the sandbox's mechanisms (issue 29's root causes R1 to R7), graded by
`grade`: it gains nothing, changes nothing outside its own work folder, and leaves no process behind.

The notebook's relabel_odd_even answers right only if an attack worked (``ok``), so each attack that worked
would show as a point gained; it also plants markers where a write would be seen outside, and a process that
tries to outlive its grading. The test then looks for all of them from outside the sandbox.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import uuid

import nbformat
import pytest
import yaml

from autograder.grader.grading import Grader
from autograder.isolation.jail import sandbox_problem
from autograder.course.nbgrader_course import html_text
from autograder.report.text import result_text
from autograder.support.config import load_config
from sandbox_attack import assert_nothing_reached_the_machine, attack_for
from repo_paths import ROOT
from submissions import ARRAYS, IMPORTS, PREPARE, RELABEL_LOST, SPLIT

@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    (root / "course.yml").write_text(yaml.safe_dump(raw))
    shutil.copytree(ROOT / "solutions", root / "solutions")
    (root / "gradebook.db").write_bytes(b"SQLite format 3\x00 pretend")
    return root


@pytest.fixture
def marker():
    if problem := sandbox_problem():
        pytest.skip(f"no sandbox on this machine: {problem}")
    return f"planted-{uuid.uuid4().hex[:12]}"


def test_an_attack_on_every_mechanism_gains_nothing_touches_nothing_and_leaves_nothing(course, tmp_path, marker):
    cells = [IMPORTS, attack_for(marker), SPLIT, PREPARE]
    notebook = tmp_path / "binary_mnist.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), notebook)
    course_before = {p: p.read_bytes() for p in course.rglob("*") if p.is_file()}

    config = load_config(course / "course.yml", limits={"startup_timeout_s": 60, "call_timeout_s": 30})
    result = Grader(config, log=lambda m: None).grade_notebook(notebook, groups=ARRAYS)

    assert {g.name: g.score for g in result.groups} == RELABEL_LOST, result_text(result)
    assert {p: p.read_bytes() for p in course.rglob("*") if p.is_file()} == course_before, "the course folder changed"
    assert_nothing_reached_the_machine(marker)
    # What the result says was in force comes from the jail, not from the rewritten report.
    submission = result.isolation["submission"]
    assert submission["hidden"] and submission["network"] == "off" and submission["pid_namespace"], submission


def complete_notebook_but(replacements: dict[str, str]) -> nbformat.NotebookNode:
    from autograder.course.examples import filled_release

    return filled_release(nbformat.read(ROOT / "assignments" / "binary_mnist" / "binary_mnist.ipynb", as_version=4),
                          replacements)


@pytest.mark.slow  # a class of two graded in full by grade-all, one worker: about a minute
@pytest.mark.parametrize("executor", [
    ["--workers", "1"],
    # The same through Dask: a LocalCluster of one worker (a second path over the same sandbox; its start costs CI).
    pytest.param(["--dask-local", "1"], marks=pytest.mark.extended)], ids=["local_pool", "dask_local"])
def test_the_same_attack_graded_first_by_grade_all_costs_the_next_student_nothing(course, marker, executor):
    # The attacker is graded first on the one worker; the honest student after it, by the same worker.
    for student, nb in (("aaa_attacker", complete_notebook_but({"relabel_odd_even": attack_for(marker)})),
                        ("zed_honest", complete_notebook_but({}))):
        folder = course / "submitted" / student / "binary_mnist"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "binary_mnist.ipynb")
    run = subprocess.run([sys.executable, "-m", "autograder", "--config", str(course / "course.yml"), "grade-all",
                          "--quiet", *executor], cwd=course, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    ledger = [json.loads(line) for line in (course / "grades" / "binary_mnist.jsonl").read_text().splitlines()]
    scores = {entry["student"]: entry["score"] for entry in ledger}
    assert scores == {"aaa_attacker": 12.0, "zed_honest": 13.0}, ledger
    assert_nothing_reached_the_machine(marker)


@pytest.mark.slow  # one upload graded in full by run_autograder: about half a minute
def test_the_same_attack_under_gradescope_gains_nothing_and_results_json_stays_the_grader_s(tmp_path, marker):
    from tests.gradescope_helpers import build, run_autograder

    bundle = build(tmp_path / "bundle", gradescope={"html_report": False})
    upload = nbformat.writes(complete_notebook_but({"relabel_odd_even": attack_for(marker)})).encode()
    run = run_autograder(bundle, tmp_path / "root", {"nb.ipynb": upload})
    assert run.results["score"] == 12.0, run.results["output"]
    assert_nothing_reached_the_machine(marker)
    # Read again after run_autograder returned: nothing of the upload is left to rewrite it.
    time.sleep(1)
    assert json.loads((tmp_path / "root" / "results" / "results.json").read_text())["score"] == 12.0


@pytest.mark.slow  # in the suite's one real nbgrader autograde (conftest.py's autograded_course), then looked at
def test_the_same_attack_in_nbgraders_kernel_then_verify_and_feedback_gains_nothing_and_touches_nothing(
        autograded_course, nbgrader_verification, sample_grader):
    from autograder.course.feedback import write_feedback_reports
    from autograder.course.nbgrader_records import gradebook_scores
    from autograder.messages.i18n import Translator
    from conftest import KERNEL_ATTACKER
    from sandbox_attack import KERNEL_ATTACK_MARKER

    course, _ = autograded_course
    points = gradebook_scores(course, "binary_mnist", "binary_mnist", [KERNEL_ATTACKER])[KERNEL_ATTACKER]
    assert {group: got for group, (got, _) in points.items()} == {
        group: 0.0 if group == "relabel" else most for group, (_, most) in points.items()}, points
    # verify graded it out of kernel (the parity test holds it to nbgrader's points); feedback grades it again.
    assert nbgrader_verification.results[KERNEL_ATTACKER].score == sum(most for _, most in points.values()) - 1
    report = write_feedback_reports(course, sample_grader, Translator("en"), students=[KERNEL_ATTACKER])
    assert re.search(r"relabel\s*0/1", html_text(report[KERNEL_ATTACKER]))
    # Nothing of the attack landed in the course: not in the gradebook, the ledger, the solutions or another
    # student's folder (only the attacker's own notebook, as submitted, autograded and fed back, holds the marker).
    marked = [str(path.relative_to(course)) for path in course.rglob("*")
              if KERNEL_ATTACKER not in path.parts and (KERNEL_ATTACK_MARKER in path.name or path.is_file()
                                                         and KERNEL_ATTACK_MARKER.encode() in path.read_bytes())]
    assert marked == [], f"the kernel wrote into the course: {marked}"
    assert not (course / "grades" / "binary_mnist.jsonl").exists() or KERNEL_ATTACK_MARKER not in (
        course / "grades" / "binary_mnist.jsonl").read_text()
    assert_nothing_reached_the_machine(KERNEL_ATTACK_MARKER)
