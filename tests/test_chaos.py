"""Chaos: whatever ends a grade-all run, nothing of it is left behind (issue 31, item 2).

A real grade-all (sample data, one local worker) grades a student whose notebook plants a process of its own and
loops. Each fault is then applied from outside, as an operator or the machine would: SIGKILL of the pool's worker
(the coordinator retries the student on a fresh worker), SIGTERM of the coordinator, SIGINT of its process group
(Ctrl-C), SIGKILL of the coordinator alone (its worker sees it and ends itself). After each: no process the run
started (every descendant of the coordinator seen while it ran, the student's planted one included), none of its
temp folders and none of its cgroups remains; a coordinator killed outright leaves its own temp folder to the next
run's sweep, which the test runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.isolation import jail
from conftest import processes_with
from repo_paths import ROOT

pytestmark = pytest.mark.slow  # each case starts a real grade-all and its worker (TensorFlow): 30 to 60 s

LOOPER = """import os, time
open(os.path.join(os.environ['HOME'], 'looping'), 'w').close()
if os.fork() == 0:
    os.execv('/bin/sleep', [{marker!r}, '600'])
while True:
    time.sleep(0.2)
"""


def course_with_a_looping_student(root: Path, marker: str) -> Path:
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    raw["limits"].update(cell_timeout_s=600, submission_timeout_s=900)  # the loop runs until the fault ends it
    root.mkdir(parents=True)
    (root / "course.yml").write_text(yaml.safe_dump(raw))
    folder = root / "submitted" / "ada" / "binary_mnist"
    folder.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LOOPER.format(marker=marker))]),
                   folder / "binary_mnist.ipynb")
    return root


def start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def descendants(root_pid: int) -> set[tuple[int, str]]:
    """Every living descendant of ``root_pid`` (host pids), with its start time, so a reused pid is not mistaken."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root_pid]
    while todo:
        for child in children.get(todo.pop(), []):
            started = start_time(child)
            if started:
                found.add((child, started))
                todo.append(child)
    return found


class Run:
    """A grade-all run in a session of its own, watched: every process below it is remembered."""

    def __init__(self, course: Path, marker: str):
        self.marker = marker
        command = [sys.executable, "-m", "autograder", "--config", str(course / "course.yml"), "grade-all",
                   "--quiet", "--workers", "1"]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        self.seen: set[tuple[int, str]] = {(self.proc.pid, start_time(self.proc.pid))}

    def watch(self) -> None:
        self.seen |= descendants(self.proc.pid)

    def wait_for_the_loop(self, seconds: float = 300) -> int:
        """Wait until the student's planted process runs; return the pid of the worker grading it."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.watch()
            if processes_with(self.marker) and self.proc.poll() is None:
                self.watch()
                workers = [pid for pid, _ in descendants(self.proc.pid)
                           if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
                           and b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]
                if workers:
                    return workers[0]
            assert self.proc.poll() is None, f"grade-all ended before the loop ran: {self.proc.communicate()}"
            time.sleep(0.2)
        raise AssertionError("the looping student's process did not start")

    def end(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=120)
        return self.proc.returncode, out, err

    def assert_nothing_left(self) -> None:
        pids = {pid for pid, _ in self.seen}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (self.alive() or processes_with(self.marker)):
            time.sleep(0.2)
        assert not self.alive(), f"processes of the run outlived it: {self.alive()}"
        assert processes_with(self.marker) == {}, "the student's planted process outlived the run"
        folders = [p for p in Path(tempfile.gettempdir()).glob("autograder-*")
                   if any(f"-{pid}-" in p.name for pid in pids)]
        assert folders == [], f"temp folders of the run were left: {folders}"
        groups = [g for g in jail.CGROUP_ROOT.glob("*/autograder-*") if any(g.name.startswith(jail.cgroup_prefix(pid))
                                                                           for pid in pids)]
        assert groups == [], f"cgroups of the run were left: {groups}"

    def alive(self) -> list[str]:
        return [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
                for pid, started in self.seen if start_time(pid) == started]

    def kill_everything(self) -> None:
        for pid, started in self.seen:
            if start_time(pid) == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def run(tmp_path):
    marker = f"chaos-{uuid.uuid4().hex}"
    course = course_with_a_looping_student(tmp_path / "course", marker)
    started = Run(course, marker)
    yield started
    started.kill_everything()  # whatever the assertions found left, so that it does not load the next tests


def test_a_killed_worker_then_sigterm_leave_nothing_and_exit_143(run):
    first_worker = run.wait_for_the_loop()
    first_loop = set(processes_with(run.marker))
    os.kill(first_worker, signal.SIGKILL)
    # The coordinator replaces the worker, ends its jail through its cgroup, and retries the student.
    deadline = time.monotonic() + 30
    while set(processes_with(run.marker)) & first_loop and time.monotonic() < deadline:
        run.watch()
        time.sleep(0.1)
    assert not set(processes_with(run.marker)) & first_loop, "the killed worker's student process kept running"
    second_worker = run.wait_for_the_loop()
    assert second_worker != first_worker
    run.proc.send_signal(signal.SIGTERM)
    code, out, err = run.end()
    assert code == 143, (code, out, err)
    assert "terminated (SIGTERM)" in err and "run the same command again to resume" in err, err
    run.assert_nothing_left()


def test_ctrl_c_leaves_nothing_and_exits_130(run):
    run.wait_for_the_loop()
    os.killpg(run.proc.pid, signal.SIGINT)  # as a terminal sends it: to the whole foreground group
    code, out, err = run.end()
    assert code == 130, (code, out, err)
    assert "interrupted" in err and "run the same command again to resume" in err, err
    run.assert_nothing_left()


def test_a_coordinator_killed_outright_leaves_nothing_once_the_next_run_has_swept(run):
    worker = run.wait_for_the_loop()
    run.proc.kill()  # the coordinator alone, as the OOM killer would: its worker must notice by itself
    run.end()
    deadline = time.monotonic() + 30
    while start_time(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not start_time(worker), "the worker did not notice that its coordinator died"
    # The coordinator's own temp folder (its copy of the kit) is the next run's to sweep.
    subprocess.run([sys.executable, "-c", "from autograder.isolation.jail import sweep_leftovers; sweep_leftovers()"],
                   check=True, timeout=60)
    run.assert_nothing_left()
