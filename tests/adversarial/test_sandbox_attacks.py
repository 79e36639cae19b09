"""One hostile notebook that goes after the sandbox's mechanisms (issue 29's root causes R1 to R7), graded by
`grade`: it gains nothing, changes nothing outside its own work folder, and leaves no process behind.

The notebook's relabel_odd_even answers right only if an attack worked (``ok``), so each attack that worked
would show as a point gained; it also plants markers where a write would be seen outside, and a process that
tries to outlive its grading. The test then looks for all of them from outside the sandbox.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.grader.grading import Grader
from autograder.isolation.jail import sandbox_problem
from autograder.report.text import result_text
from autograder.support.config import load_config
from conftest import processes_with
from repo_paths import ROOT
from submissions import ARRAYS, IMPORTS, PREPARE, RELABEL_LOST, SPLIT, relabel_doing

# Where a write from the sandbox would be seen by the grader or the next student (R2, R3).
WRITE_TARGETS = ("/etc", "/root", "/usr/local/bin", "/var/tmp", "/tmp", "/dev/shm", "/home", "/kit/autograder")

ATTACK = r'''
import ctypes, os, sys, subprocess, time
marker = "MARKER"
me = os.getpid()
# R1: every process in sight, through every entry of its /proc.
for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != me]:
    base = f"/proc/{pid}"
    try:
        command = open(f"{base}/cmdline", "rb").read()
        # A process outside its own sandbox: the grader (pytest here), the model process, a worker. Its own
        # sandbox's init, bubblewrap, is in sight by design: its arguments are the sandbox's own paths.
        if not command.split(bytes(1))[0].endswith(b"bwrap"):
            ok = ok or any(word in command for word in (b"in_model_process", b"pytest", b"grade_child", b"dask"))
    except OSError:
        pass
    for entry in ("cwd", "root"):
        try:
            ok = ok or bool({"gradebook.db", "solutions", "calibration", "submitted"} & set(os.listdir(f"{base}/{entry}")))
        except OSError:
            pass
    try:
        for fd in os.listdir(f"{base}/fd"):
            target = os.readlink(f"{base}/fd/{fd}")
            ok = ok or any(word in target for word in ("gradebook", "solutions", "submitted", "calibration"))
    except OSError:
        pass
    try:
        ok = ok or b"MNIST_PATH" in open(f"{base}/environ", "rb").read()
    except OSError:
        pass
    try:
        with open(f"{base}/mem", "rb") as memory:
            memory.seek(0x400000)
            ok = ok or bool(memory.read(16))
    except (OSError, ValueError, OverflowError):
        pass
# R2, R3: write wherever a later reader (the grader, its PATH, the next student) would look.
for folder in TARGETS:
    try:
        with open(os.path.join(folder, marker), "w") as planted:
            planted.write("#!/bin/sh\necho planted\n")
        os.chmod(os.path.join(folder, marker), 0o755)
    except OSError:
        pass
# R4: a process that leaves its session, clears its parent-death signal and double-forks.
if os.fork() == 0:
    os.setsid()
    ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)
    if os.fork() == 0:
        os.execv("/bin/sleep", [marker, "600"])
    os._exit(0)
time.sleep(0.2)
# R5: the cgroup filesystem.
for controller in ("pids", "memory", "unified"):
    try:
        os.mkdir(f"/sys/fs/cgroup/{controller}/{marker}")
        ok = True
    except OSError:
        pass
# R6: the jail's report, rewritten where the old jail kept it.
for name in ("jail-report.json", "jail.json"):
    try:
        open(name, "w").write('{"hidden": false, "cgroups": [], "capabilities_dropped": false, "network": "on"}')
    except OSError:
        pass
# R7: the instructor wing, by import and by walking every folder in sight.
for module in ("autograder.grader.reference", "autograder.course.examples", "autograder.hidden.probes"):
    try:
        __import__(module)
        ok = True
    except Exception:
        pass
for top in ("/kit", "/work", "/usr/lib", "/opt"):
    for folder, _, files in os.walk(top):
        ok = ok or "reference.py" in files and "grader" in folder or "examples.py" in files and "course" in folder
'''


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


def attack_for(marker: str) -> str:
    """relabel_odd_even with every attack in it: right only if one of them worked."""
    return relabel_doing(ATTACK.replace("MARKER", marker).replace("TARGETS", repr(WRITE_TARGETS)))


def assert_nothing_reached_the_machine(marker: str) -> None:
    planted = [str(Path(folder) / marker) for folder in WRITE_TARGETS if (Path(folder) / marker).exists()]
    assert planted == [], f"writes from the sandbox reached the machine: {planted}"
    assert not any(Path("/sys/fs/cgroup", c, marker).exists() for c in ("pids", "memory", "unified"))
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == {}, "a process the submission started outlived its grading"


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
