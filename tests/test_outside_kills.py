"""A jailed process killed from outside the grader is the machine's fault, never the student's (issue 31, item 1).

Each case kills a real jailed process from outside, by its host pid, as an operator or the host's OOM killer
would. The jail tells such a kill from an end of the process's own (an exit, an abort, its own memory cgroup's OOM
kill). The submission's process is run again (a second kill at the same place is its own doing: it may SIGKILL
itself), and the machine killing it at more than a few places, or killing the model process, raises
``InfrastructureFault`` instead of failing checks; ``grade`` then says "not graded … run again" with its own exit
code, ``feedback`` names the student and goes on. That a model too big for its own memory limit still costs its
checks is test_model_process.py's
test_a_model_that_exhausts_the_model_memory_costs_its_checks_and_the_next_submission_is_graded_normally.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from autograder.isolation import jail
from autograder.isolation.infrastructure_fault import EXIT_RUN_AGAIN, InfrastructureFault
from autograder.messages.i18n import Translator
from conftest import cgroup_writable, processes_with
from repo_paths import ROOT

SOLUTION = ROOT / "solutions" / "binary_mnist" / "binary_mnist.ipynb"


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds:g} s")


def kill_from_outside(marker: str, sig: int = signal.SIGKILL) -> int:
    """SIGKILL the process whose command line holds ``marker``, from the host's /proc: the jailed process itself,
    not bubblewrap (as the host's OOM killer picks the process that holds the memory)."""
    pid = wait_for(lambda: next((p for p, c in processes_with(marker).items() if b"bwrap" not in c
                                 and b"jail_launcher" not in c), None), 60, f"a process with {marker}")
    os.kill(pid, sig)
    return pid


def jailed(command: list[str], work: Path, **kwargs) -> jail.JailedProcess:
    return jail.start_jailed(jail.SUBMISSION, command, work, jail.ProbeLimits(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, **kwargs)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_jailed_process_killed_from_outside_is_told_from_its_own_end(tmp_path, sig):
    marker = f"outside-{uuid.uuid4().hex}"
    process = jailed([sys.executable, "-c", "import time, sys; time.sleep(60)", marker], tmp_path)
    try:
        kill_from_outside(marker, sig)
        process.proc.wait(timeout=30)
        why = process.killed_from_outside()
    finally:
        process.end()
    assert why and why.startswith(f"{signal.Signals(sig).name} from outside the grader"), why


def test_a_jailed_process_that_exits_or_aborts_by_itself_was_not_killed_from_outside(tmp_path):
    for code in ("import sys; sys.exit(3)", "import os, signal; os.kill(os.getpid(), signal.SIGABRT)"):
        process = jailed([sys.executable, "-c", code], tmp_path)
        try:
            process.proc.wait(timeout=30)
            assert process.proc.returncode != 0
            assert process.killed_from_outside() is None, code
        finally:
            process.end()


@pytest.mark.skipif(not cgroup_writable("memory"), reason="no writable memory cgroup here: no limit of its own kills")
def test_a_jailed_process_killed_by_its_own_memory_limit_was_not_killed_from_outside(tmp_path):
    # 64 MB for its cgroup, far below the 1 GB of address space: the cgroup's OOM killer ends it with SIGKILL.
    process = jailed([sys.executable, "-c", "x = [bytearray(2**20) for _ in range(400)]"], tmp_path,
                     memory_bytes=64 * 2**20)
    try:
        process.proc.wait(timeout=60)
        assert process.status.exit_code == 128 + signal.SIGKILL or process.proc.returncode == 128 + signal.SIGKILL
        assert process.ran_out_of_its_memory()
        assert process.killed_from_outside() is None
    finally:
        process.end()


def sleeping_once(name: str) -> str:
    """A cell that sleeps the first time it runs only: its process is killed there once from outside."""
    return (f"import os, time\nif not os.path.exists({name!r}):\n    open({name!r}, 'w').close()\n"
            "    time.sleep(120)")


RELABEL = "def relabel_odd_even(y):\n    return y % 2"


def collect_in_a_thread(sample_grader, notebook, tmp_path):
    """Start grading ``notebook``'s relabel calls in a thread; return (its work folder, thread, its outcome)."""
    from autograder.hidden.every_check import checks_for

    path = tmp_path / "notebook.ipynb"
    nbformat.write(notebook, path)
    work = tmp_path / f"work-{uuid.uuid4().hex}"
    work.mkdir()
    outcome: dict = {}

    def collect():
        try:
            outcome["run"] = sample_grader.collect_calls(path, checks_for(("relabel",), include_hidden=False), work)[1]
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=collect)
    thread.start()
    return work, thread, outcome


def the_child_of(work: Path) -> str:
    return f"autograder.isolation.child\x00{work.resolve()}"


def test_the_submission_s_process_killed_from_outside_during_a_cell_is_run_again_and_costs_nothing(
        sample_grader, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(RELABEL),
                                               nbformat.v4.new_code_cell(sleeping_once("asleep"))])
    work, thread, outcome = collect_in_a_thread(sample_grader, notebook, tmp_path)
    wait_for(lambda: (work / "asleep").exists(), 120, "the sleeping cell")
    kill_from_outside(the_child_of(work))
    thread.join(120)
    run = outcome["run"]
    assert run.processes == 2 and run.calls["relabel_digits"].status == "ok"
    assert [c.status for c in run.cells] == ["ok", "ok"], run.cells
    english = [Translator("en")(p) for p in run.problems]
    assert ("the submission's process was killed by SIGKILL, a signal the grader did not send, during cell 2; the "
            "grader ran the notebook again") in english, english


def test_a_submission_that_kills_itself_is_charged_for_it_after_one_more_try(sample_grader, tmp_path):
    # The same signal at the same place twice is the submission's own doing (the adversarial case sigkill_self).
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, signal\ndef relabel_odd_even(y):\n    os.kill(os.getpid(), signal.SIGKILL)")])
    work, thread, outcome = collect_in_a_thread(sample_grader, notebook, tmp_path)
    thread.join(120)
    run = outcome["run"]
    assert run.calls["relabel_digits"].status == "crashed" and run.processes == 2
    assert "exited with code 137" in str(run.calls["relabel_digits"].error["message"])


def test_a_machine_that_keeps_killing_the_submission_s_process_gives_no_grade(sample_grader, tmp_path):
    from autograder.isolation.sandbox import MAX_OUTSIDE_KILLS

    cells = [nbformat.v4.new_code_cell(RELABEL)] + [nbformat.v4.new_code_cell(sleeping_once(f"asleep-{n}"))
                                                    for n in range(MAX_OUTSIDE_KILLS + 1)]
    work, thread, outcome = collect_in_a_thread(sample_grader, nbformat.v4.new_notebook(cells=cells), tmp_path)
    for n in range(MAX_OUTSIDE_KILLS + 1):  # killed once in each sleeping cell: each time at another place
        wait_for(lambda: (work / f"asleep-{n}").exists(), 120, f"sleeping cell {n + 1}")
        kill_from_outside(the_child_of(work))
        wait_for(lambda: not any(b"bwrap" not in c and b"jail_launcher" not in c
                                 for c in processes_with(the_child_of(work)).values()) or not thread.is_alive(),
                 30, "the killed process's end")
    thread.join(60)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), InfrastructureFault), outcome
    assert "the submission's process was killed by SIGKILL from outside the grader" in str(outcome["error"])
    assert "4 times, each at another place (cell 2, cell 3, cell 4, cell 5)" in str(outcome["error"])


@pytest.mark.slow  # one notebook graded up to its model checks: the submission's process and the model process
def test_the_model_process_killed_from_outside_mid_checks_costs_no_check_and_the_next_grading_is_whole(
        sample_config, monkeypatch, tmp_path):
    from autograder.grader.grading import Grader
    from autograder.isolation import model_process_client

    grader = Grader(sample_config, log=lambda m: None)
    real_send = model_process_client.ModelProcess._send
    killed = []

    def send_then_kill(self, request):
        # The request is on its way: the process is loading and training the first model when it is killed.
        real_send(self, request)
        if not killed:
            killed.append(kill_from_outside(f"autograder.isolation.model_process_server\x00{self.root}"))

    monkeypatch.setattr(model_process_client.ModelProcess, "_send", send_then_kill)
    try:
        with pytest.raises(InfrastructureFault, match="the grader's process for the models was killed by SIGKILL "
                                                      "from outside the grader"):
            grader.grade_notebook(SOLUTION, groups=("mlp", "accuracy"))
        assert killed
        again = grader.grade_notebook(SOLUTION, groups=("mlp",))  # a worker's retry, on the same grader
        assert {g.name: g.score for g in again.groups} == {"mlp": 2.0} and grader.model_process.starts == 2
    finally:
        grader.model_process.close()


def test_grade_says_not_graded_and_exits_with_its_own_code_on_an_outside_kill(monkeypatch, capsys):
    from autograder.__main__ import main
    from autograder.grader.grading import Grader

    def killed(self, path, include_hidden=True, groups=None):
        raise InfrastructureFault("the submission's process was killed by SIGKILL from outside the grader, not "
                                  "from the process's own limits; grade it again")

    monkeypatch.setattr(Grader, "grade_notebook", killed)
    code = main(["--config", str(ROOT / "course.yml"), "grade", str(SOLUTION), "--data", "sample", "--quiet"])
    captured = capsys.readouterr()
    assert code == EXIT_RUN_AGAIN and EXIT_RUN_AGAIN not in (0, 1, 2, 3)
    assert "not graded: the submission's process was killed by SIGKILL from outside the grader" in captured.err
    assert "run the same command again" in captured.err and "score" not in captured.out.lower()


def test_feedback_names_each_student_the_machine_could_not_grade_and_goes_on(tmp_path):
    from types import SimpleNamespace

    from autograder.course.feedback import write_feedback_reports
    from autograder.support.config import load_config
    from tests.batch_helpers import make_course

    course = make_course(tmp_path / "course", ("ada", "ben"))
    tried = []

    def grade_notebook(notebook, include_hidden=True):
        tried.append(Path(notebook).parts[-3])
        raise InfrastructureFault("the grader's process for the models was killed by SIGKILL from outside the grader")

    grader = SimpleNamespace(config=load_config(course / "course.yml"), grade_notebook=grade_notebook)
    not_graded: dict[str, str] = {}
    assert write_feedback_reports(course, grader, Translator("en"), not_graded=not_graded) == {}
    assert tried == ["ada", "ben"] and sorted(not_graded) == ["ada", "ben"]
    assert "killed by SIGKILL from outside the grader" in not_graded["ben"]
    assert not (course / "feedback").exists()
