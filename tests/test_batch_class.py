"""grade-all on a small real class (sample data): the local pool and a Dask LocalCluster give the results serial
``grade`` gives, submission by submission; the coordinator never imports TensorFlow; a run SIGKILLed in mid-run
resumes with every student graded exactly once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pytest
import yaml

from autograder.engine.results import GradeResult
from autograder.report.gradescope_style import gradescope_results
from repo_paths import ROOT

RELEASE = ROOT / "assignments" / "binary_mnist" / "binary_mnist.ipynb"
NO_MODELS = {f"build_{m}": f"def build_{m}():\n    raise NotImplementedError()" for m in ("mlp", "cnn", "deep_cnn")}
INVERTED = {"relabel_odd_even": "def relabel_odd_even(y):\n    return 1 - y % 2"}
# Coordinator's report of itself, printed after the command returns.
RUN_CLI = ("import sys; from autograder.__main__ import main; rc = main(sys.argv[1:]); "
           "print('COORDINATOR_IMPORTED_TENSORFLOW=' + str('tensorflow' in sys.modules)); sys.exit(rc)")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course on the sample data with five submissions: complete, two broken without models, stubs, not JSON."""
    from autograder.course.examples import filled_release

    root = tmp_path_factory.mktemp("class")
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    (root / "course.yml").write_text(yaml.safe_dump(raw))
    release = nbformat.read(RELEASE, as_version=4)
    notebooks = {"ada": filled_release(release, {}), "ben": filled_release(release, {**NO_MODELS, **INVERTED}),
                 "cal": filled_release(release, NO_MODELS), "dan": release, "fay": None}
    for student, nb in notebooks.items():
        folder = root / "submitted" / student / "binary_mnist"
        folder.mkdir(parents=True)
        if nb is None:
            (folder / "binary_mnist.ipynb").write_text('{"cells": [', encoding="utf-8")  # cut short: not JSON
        else:
            nbformat.write(nb, folder / "binary_mnist.ipynb")
    return root


@pytest.fixture(scope="module")
def serial(course):
    """Each submission graded the way ``python -m autograder grade`` grades it, one after another."""
    from autograder.support.config import load_config
    from autograder.grader.grading import Grader
    from autograder.report.gradescope_style import gradescope_results

    grader = Grader(load_config(course / "course.yml"), log=lambda msg: None)
    return {p.parent.parent.name: gradescope_results(grader.grade_notebook(p))
            for p in sorted((course / "submitted").glob("*/binary_mnist/binary_mnist.ipynb"))}


def comparable(result: dict) -> dict:
    """A results.json without what differs from run to run: seconds, and the models' process's peak memory."""
    out = {k: v for k, v in result.items() if k != "execution_time"}
    out["extra_data"] = {k: v for k, v in result["extra_data"].items() if k != "timings"}
    isolation = out["extra_data"].get("isolation") or {}
    if isinstance(isolation.get("models"), dict):
        out["extra_data"]["isolation"] = {**isolation, "models": {k: v for k, v in isolation["models"].items()
                                                                  if k != "peak_mb"}}
    return out


def grade_all(course, *args, **popen):
    command = [sys.executable, "-c", RUN_CLI, "--config", str(course / "course.yml"), "grade-all", "--quiet", *args]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if popen:
        return subprocess.Popen(command, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, **popen)
    return subprocess.run(command, cwd=course, env=env, capture_output=True, text=True, timeout=900)


def ledger_lines(course) -> list[dict]:
    path = course / "grades" / "binary_mnist.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.endswith("}")]


def fresh(course) -> None:
    shutil.rmtree(course / "grades", ignore_errors=True)


# The HTML reports (each trains the reference models for its curves) are asked of one executor only: what
# they show does not depend on the executor, and CI's time does.
@pytest.mark.parametrize("executor, reports", [
    (["--workers", "2"], True),
    # Dask's pool is tested with stand-in gradings in test_batch_pools.py; a real class through it is extended.
    pytest.param(["--dask-local", "2"], False, marks=pytest.mark.extended)], ids=["local_pool", "dask_local"])
def test_every_submission_gets_the_result_serial_grade_gives(course, serial, tmp_path, executor, reports):
    fresh(course)
    extra = ["--html-dir", str(tmp_path / "html"), "--class-report", str(tmp_path / "class.html")] if reports else []
    run = grade_all(course, *executor, "--json-dir", str(tmp_path / "json"), *extra)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "COORDINATOR_IMPORTED_TENSORFLOW=False" in run.stdout
    assert serial["ada"]["score"] == 13 and serial["dan"]["score"] == 0  # the class spans the range
    for student, expected in serial.items():  # each file is the grade's record: rendered, the serial result
        written = GradeResult.from_dict(json.loads((tmp_path / "json" / f"{student}.json").read_text(encoding="utf-8")))
        assert comparable(gradescope_results(written)) == comparable(expected), student
    lines = ledger_lines(course)
    assert sorted(e["student"] for e in lines) == sorted(serial)
    assert {e["student"]: e["score"] for e in lines} == {s: r["score"] for s, r in serial.items()}
    if reports:
        assert sorted(p.stem for p in (tmp_path / "html").glob("*.html")) == sorted(serial)
        assert "Feedback: " in (tmp_path / "html" / "ada.html").read_text(encoding="utf-8")
        assert "5 submission(s) graded" in (tmp_path / "class.html").read_text(encoding="utf-8")
    # Run again: everything is in the ledger under the same key, nothing is graded twice.
    again = grade_all(course, *executor)
    assert again.returncode == 0 and "graded now 0, already in the ledger 5" in again.stdout, again.stdout
    assert len(ledger_lines(course)) == 5


def test_a_run_killed_in_mid_run_resumes_and_grades_every_student_exactly_once(course, serial):
    fresh(course)
    run = grade_all(course, "--workers", "1", start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while len(ledger_lines(course)) < 2 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert run.poll() is None, "the run finished before it could be killed: " + run.communicate()[0]
        os.kill(run.pid, signal.SIGKILL)  # the coordinator, as a power cut or the OOM killer would
        run.wait()
    finally:
        try:
            os.killpg(run.pid, signal.SIGKILL)  # its orphaned workers
        except ProcessLookupError:
            pass
    first = ledger_lines(course)
    assert 2 <= len(first) < 5
    resumed = grade_all(course, "--workers", "1")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    lines = ledger_lines(course)
    assert sorted(e["student"] for e in lines) == sorted(serial)  # each exactly once
    assert {e["student"]: e["score"] for e in lines} == {s: r["score"] for s, r in serial.items()}
    assert f"already in the ledger {len(first)}" in resumed.stdout
    # That a changed notebook is graded again and the unchanged ones are not is tested with stand-in gradings
    # (test_batch_pools.py::test_a_changed_notebook_is_graded_again...): a third real run here cost a minute of CI.
