"""One grade-all per course: a second run (another process, as a second TA's would be) is refused, naming the
first; a lock left by a killed run is taken over; two runs started together grade each student once (issue 31,
item 5). No TensorFlow: the runs grade with the stand-in executor of tests/batch_helpers.py."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograder.__main__ import main
from autograder.batch.course_lock import CourseBusy, CourseLock, lock_path
from tests.batch_helpers import ROOT, StandInExecutor, make_course

STUDENTS = ("ada", "ben", "cal")
CHECKS = {"relabel: check_relabel[relabel_odd_even]": True}

# A process of its own that takes the course's lock, says so, and holds it until its stdin closes.
HOLD_THE_LOCK = ("import sys; from pathlib import Path; from autograder.batch.course_lock import CourseLock; "
                 "lock = CourseLock.take(Path(sys.argv[1])); print('held', flush=True); sys.stdin.read()")


def ledger_of(course: Path) -> Path:
    return course / "grades" / "binary_mnist.jsonl"


def holder(ledger: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(ledger)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout.readline().strip() == "held"
    return process


def grade_all(course: Path, monkeypatch, executor) -> int:
    monkeypatch.setattr("autograder.batch.cli._executor_factory", lambda args, config, settings: lambda: executor)
    return main(["--config", str(course / "course.yml"), "grade-all", str(course), "--quiet"])


def test_a_second_run_is_refused_naming_the_first_runs_pid_host_and_start(tmp_path, monkeypatch):
    course = make_course(tmp_path / "course", STUDENTS)
    first = holder(ledger_of(course))
    executor = StandInExecutor(lambda student: CHECKS)
    try:
        with pytest.raises(SystemExit) as refused:
            grade_all(course, monkeypatch, executor)
    finally:
        first.stdin.close()
        first.wait(10)
    message = str(refused.value.code)
    assert message.startswith("error: another run is grading this assignment of the course: "
                              f"pid {first.pid} on host {socket.gethostname()}, started 20"), message
    assert "two runs would grade the same students twice" in message and str(lock_path(ledger_of(course))) in message
    assert executor.graded == [] and not ledger_of(course).exists()
    # The first run gone, the same command runs.
    assert grade_all(course, monkeypatch, executor) == 0 and executor.graded == list(STUDENTS)


def test_the_lock_of_a_killed_run_is_taken_over_and_that_is_said(tmp_path, monkeypatch, capsys):
    course = make_course(tmp_path / "course", STUDENTS)
    dead = holder(ledger_of(course))
    dead.send_signal(signal.SIGKILL)  # as the OOM killer or `kill -9` would: no code of its runs
    dead.wait(10)
    assert str(dead.pid) in lock_path(ledger_of(course)).read_text(), "the killed run's lock file names it"
    executor = StandInExecutor(lambda student: CHECKS)
    assert grade_all(course, monkeypatch, executor) == 0 and executor.graded == list(STUDENTS)
    err = capsys.readouterr().err
    assert f"note: took over the lock of a run that ended without releasing it (pid {dead.pid} on host" in err, err
    assert lock_path(ledger_of(course)).read_text() == "", "a run that ends cleanly leaves an empty lock file"


def test_a_lock_released_cleanly_is_not_reported_as_taken_over(tmp_path):
    ledger = tmp_path / "grades" / "binary_mnist.jsonl"
    with CourseLock.take(ledger) as first:
        assert first.took_over == ""
        with pytest.raises(CourseBusy, match=f"pid {__import__('os').getpid()} on host"):
            CourseLock.take(ledger)  # another open file description: flock refuses it even in this process
    with CourseLock.take(ledger) as second:
        assert second.took_over == ""


# A grade-all of its own process whose stand-in executor, once the run holds the lock, waits for a file to
# appear before it grades: the test starts a second run in that window.
WAITING_RUN = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path[:0] = [{root!r}, {root!r} + "/tests"]  # tests.batch_helpers imports repo_paths as the tests do
    import autograder.batch.cli as cli
    from tests.batch_helpers import StandInExecutor
    from autograder.__main__ import main

    class WaitsForGo(StandInExecutor):
        def submit(self, student, path):
            Path({started!r}).touch()
            while not Path({go!r}).exists():
                time.sleep(0.05)
            return super().submit(student, path)

    cli._executor_factory = lambda args, config, settings: lambda: WaitsForGo(lambda s: {checks!r})
    sys.exit(main(["--config", {config!r}, "grade-all", {course!r}, "--quiet"]))
""")


def test_two_runs_started_together_grade_each_student_once(tmp_path):
    course = make_course(tmp_path / "course", STUDENTS)
    go, started = tmp_path / "go", tmp_path / "started"
    script = tmp_path / "run.py"
    script.write_text(WAITING_RUN.format(root=str(ROOT), started=str(started), go=str(go), checks=CHECKS,
                                         config=str(course / "course.yml"), course=str(course)))
    first = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not started.exists():  # the first run holds the lock and is grading
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    second = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    go.touch()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, (out, err)
    assert second.returncode == 1, (second.stdout, second.stderr)
    assert f"another run is grading this assignment of the course: pid {first.pid}" in second.stderr
    lines = [json.loads(line) for line in ledger_of(course).read_text().splitlines()]
    assert sorted(line["student"] for line in lines) == list(STUDENTS), "each student graded exactly once"


def test_verify_which_grades_into_the_same_ledger_is_refused_too(tmp_path):
    course = make_course(tmp_path / "course", STUDENTS)
    (course / "gradebook.db").touch()  # verify needs one to start; the lock refuses it before it is read
    first = holder(ledger_of(course))
    try:
        with pytest.raises(SystemExit) as refused:
            main(["--config", str(course / "course.yml"), "verify", str(course), "--quiet"])
    finally:
        first.stdin.close()
        first.wait(10)
    assert f"another run is grading this assignment of the course: pid {first.pid}" in str(refused.value.code)
    assert not ledger_of(course).exists()
