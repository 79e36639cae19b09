"""The executors with stand-in tasks (no TensorFlow, seconds): a crash or a dead worker is retried once, then
recorded as not graded with the reason; the default worker count fits the machine; an absent scheduler is
reported quickly; --json-dir and --html-dir after a resume hold (or name) every student's file."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from autograder.batch.class_run import grade_class
from autograder.batch.ledger import LedgerWriter, read_ledger
from autograder.batch.local_pool import LocalPool
from autograder.batch.worker_count import PEAK_BYTES_PER_SUBMISSION, default_workers
from autograder.batch.worker_task import GradingSettings, no_warm_up
from autograder.support.config import load_config
from autograder.submissions import Submission
from repo_paths import ROOT



def misbehaving_task(settings, student, path):
    """Stand-in for grading: 'die*' kills its worker, 'crash*' raises, 'flaky' crashes on its first try only."""
    if student.startswith("die"):
        os._exit(9)
    if student.startswith("crash"):
        raise RuntimeError(f"grader bug on {student}")
    if student == "flaky" and not Path(path).with_suffix(".tried").exists():
        Path(path).with_suffix(".tried").write_text("")
        raise RuntimeError("first try fails")
    return {"student": student, "score": 1.0, "max_score": 1.0, "groups": {"g": {"score": 1.0, "max_score": 1.0}},
            "seconds": 0.0, "calibration": "none", "worker": f"{socket.gethostname()}:{os.getpid()}", "result": {"score": 1.0}}


def submissions(tmp_path, names):
    out = []
    for name in names:
        path = tmp_path / f"{name}.ipynb"
        path.write_text("{}")
        out.append(Submission(name, path, name.ljust(64, "0")))
    return out


def run_class(tmp_path, names, task, workers=2, key="k", force=False):
    ledger = tmp_path / "grades" / "binary_mnist.jsonl"
    settings = GradingSettings(None)
    report = grade_class(submissions(tmp_path, names), [], assignment="binary_mnist", key=key, ledger=ledger,
                         executor_factory=lambda: LocalPool(workers, settings, task=task, initializer=no_warm_up),
                         force=force, show_progress=False)
    return report, read_ledger(ledger, "binary_mnist").entries


def test_a_dying_worker_and_a_crashing_grading_are_retried_once_then_not_graded_with_the_reason(tmp_path):
    report, entries = run_class(tmp_path, ["ada", "die_hard", "ben", "crash_bang", "flaky", "cleo"], misbehaving_task)
    by_student = {e["student"]: e for e in entries}
    assert sorted(by_student) == ["ada", "ben", "cleo", "crash_bang", "die_hard", "flaky"] and len(entries) == 6
    assert by_student["die_hard"]["status"] == "not graded" and by_student["die_hard"]["attempts"] == 2
    assert "WorkerDied" in by_student["die_hard"]["reason"] and by_student["die_hard"]["score"] is None
    assert by_student["crash_bang"]["status"] == "not graded"
    assert by_student["crash_bang"]["reason"] == "RuntimeError: grader bug on crash_bang"
    assert by_student["flaky"]["status"] == "graded" and by_student["flaky"]["attempts"] == 2
    # The submissions graded beside a dying worker lose nothing: each is graded on its first try.
    assert all(by_student[s]["status"] == "graded" and by_student[s]["attempts"] == 1 for s in ("ada", "ben", "cleo"))
    assert not report.complete and sorted(e["student"] for e in report.not_graded) == ["crash_bang", "die_hard"]


def test_a_rerun_grades_only_what_changed_force_everything_and_never_rewrites_a_line(tmp_path):
    run_class(tmp_path, ["ada", "ben"], misbehaving_task, workers=1)
    before = (tmp_path / "grades" / "binary_mnist.jsonl").read_bytes()
    report, entries = run_class(tmp_path, ["ada", "ben"], misbehaving_task, workers=1)
    assert (report.skipped, len(report.graded), len(entries)) == (2, 0, 2)
    report, entries = run_class(tmp_path, ["ada", "ben"], misbehaving_task, workers=1, key="another config")
    assert (report.skipped, len(report.graded), len(entries)) == (0, 2, 4)
    report, entries = run_class(tmp_path, ["ada", "ben"], misbehaving_task, workers=1, key="another config", force=True)
    assert (report.skipped, len(report.graded), len(entries)) == (0, 2, 6)
    assert (tmp_path / "grades" / "binary_mnist.jsonl").read_bytes().startswith(before)  # appended, never rewritten


def test_a_changed_notebook_is_graded_again_and_the_unchanged_ones_are_not(tmp_path):
    run_class(tmp_path, ["ada", "ben"], misbehaving_task, workers=1)
    ledger = tmp_path / "grades" / "binary_mnist.jsonl"
    edited = [Submission(s.student, s.path, "f" * 64) if s.student == "ada" else s
              for s in submissions(tmp_path, ["ada", "ben"])]
    report = grade_class(edited, [], assignment="binary_mnist", key="k", ledger=ledger,
                         executor_factory=lambda: LocalPool(1, GradingSettings(None), task=misbehaving_task,
                                                            initializer=no_warm_up), show_progress=False)
    assert ([e["student"] for e in report.graded], report.skipped) == (["ada"], 1)
    assert [e["student"] for e in read_ledger(ledger, "binary_mnist").entries].count("ada") == 2


def test_the_summary_lists_what_was_not_graded_with_its_reason(tmp_path):
    from autograder.batch.summary import summary_text

    report, entries = run_class(tmp_path, ["ada", "crash_x"], misbehaving_task, workers=1)
    text = summary_text(report, [e for e in entries if e["status"] == "graded"])
    assert "NOT GRADED" in text and "crash_x: RuntimeError: grader bug on crash_x (after 2 attempts)" in text


def test_the_command_exits_with_a_distinct_code_when_a_submission_is_not_graded(tmp_path, capsys):
    import yaml

    from autograder.__main__ import main
    from autograder.batch.cli import EXIT_NOT_GRADED

    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    (tmp_path / "course.yml").write_text(yaml.safe_dump(raw))
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "ada.ipynb").write_text("{}")
    (tmp_path / "class" / "Ada.ipynb").write_text("{}")  # the same student twice: nothing to grade, both listed
    assert EXIT_NOT_GRADED not in (0, 1, 2)
    assert main(["--config", str(tmp_path / "course.yml"), "grade-all", str(tmp_path / "class"), "--quiet"]) == EXIT_NOT_GRADED
    out = capsys.readouterr().out
    assert "NOT GRADED" in out and "two submissions with the same student id" in out
    assert "class/ada.ipynb" in out and "class/Ada.ipynb" in out


def test_default_workers_are_cores_over_cpu_threads_at_least_two_capped_by_memory():
    config = load_config(ROOT / "course.yml")  # limits.cpu_threads: 2
    assert default_workers(config, cores=16, memory=64 * 1024**3) == 8
    assert default_workers(config, cores=16, memory=3 * PEAK_BYTES_PER_SUBMISSION) == 3
    assert default_workers(config, cores=2, memory=64 * 1024**3) == 2  # measured faster than 1 (README)
    assert default_workers(config, cores=2, memory=PEAK_BYTES_PER_SUBMISSION) == 1
    assert default_workers(config, cores=1, memory=1) == 1


def test_a_scheduler_that_does_not_answer_is_reported_within_seconds():
    from autograder.batch.dask_pool import DaskPool

    started = time.monotonic()
    with pytest.raises(ConnectionError, match="did not answer within 10 s"):
        DaskPool(GradingSettings(None), address="tcp://127.0.0.1:9")
    assert time.monotonic() - started < 30  # a behaviour bound (10 s plus start-up), not a speed goal


def unisolated_task(settings, student, path):
    """Stand-in for grading on a machine without namespaces."""
    return {**misbehaving_task(settings, student, path), "isolated": False}


def test_a_machine_without_isolation_is_said_once_and_every_line_records_it(tmp_path, capsys):
    report, entries = run_class(tmp_path, ["ada", "ben", "cleo"], unisolated_task)
    assert [e["isolated"] for e in entries] == [False, False, False]
    assert capsys.readouterr().err.count("cannot give submissions their own namespaces") == 1


def test_a_full_disk_stops_the_run_with_a_clear_error_and_keeps_what_was_recorded(tmp_path, monkeypatch):
    from autograder.batch.ledger import LedgerError, LedgerWriter

    real_write = LedgerWriter._write
    calls = []

    def fills_up(self, data):
        calls.append(data)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        real_write(self, data)

    monkeypatch.setattr(LedgerWriter, "_write", fills_up)
    with pytest.raises(LedgerError, match="No space left on device"):
        run_class(tmp_path, ["ada", "ben", "cleo"], misbehaving_task, workers=1)
    monkeypatch.undo()
    assert [e["student"] for e in read_ledger(tmp_path / "grades" / "binary_mnist.jsonl", "binary_mnist").entries] == ["ada"]


@pytest.mark.slow  # a Dask LocalCluster starts in about 10 s on 2 cores, and restarts its killed workers
def test_on_dask_a_dying_worker_and_a_crash_are_retried_once_then_not_graded(tmp_path):
    from autograder.batch.dask_pool import DaskPool

    class OneAtATime(DaskPool):
        """One submission in flight: Dask hands a task to a worker before that worker is free, so a submission
        waiting behind die_hard on its worker would die with it (and, under load, on both attempts): this test is
        about the dying submission and the crash, not about that (README, "On a Dask cluster")."""
        capacity = 1

    ledger = tmp_path / "grades" / "binary_mnist.jsonl"
    report = grade_class(submissions(tmp_path, ["ada", "die_hard", "crash_bang", "ben"]), [], assignment="binary_mnist",
                         key="k", ledger=ledger, show_progress=False,
                         executor_factory=lambda: OneAtATime(GradingSettings(None), local_workers=2, task=misbehaving_task))
    by_student = {e["student"]: e for e in read_ledger(ledger, "binary_mnist").entries}
    assert {s: e["status"] for s, e in by_student.items()} == {
        "ada": "graded", "die_hard": "not graded", "crash_bang": "not graded", "ben": "graded"}
    assert by_student["die_hard"]["status"] == "not graded" and by_student["die_hard"]["attempts"] == 2
    assert "KilledWorker" in by_student["die_hard"]["reason"]
    assert by_student["crash_bang"]["reason"] == "RuntimeError: grader bug on crash_bang"
    assert sorted(e["student"] for e in report.not_graded) == ["crash_bang", "die_hard"]
    assert by_student["ada"]["attempts"] == 1 and by_student["ben"]["attempts"] == 1


@pytest.mark.slow  # a Dask LocalCluster starts in about 10 s on 2 cores
def test_on_dask_two_submissions_per_worker_are_in_flight_and_every_one_is_recorded(tmp_path):
    from autograder.batch.dask_pool import DaskPool

    class Counted(DaskPool):
        """Counts the submissions handed to Dask and not yet collected."""
        open = peak = 0

        def submit(self, student, path):
            self.open += 1
            self.peak = max(self.peak, self.open)
            return super().submit(student, path)

        def outcome(self, future):
            self.open -= 1
            return super().outcome(future)

    pools = []
    names = [f"s{i:02d}" for i in range(12)]
    ledger = tmp_path / "grades" / "binary_mnist.jsonl"
    report = grade_class(submissions(tmp_path, names), [], assignment="binary_mnist", key="k", ledger=ledger,
                         show_progress=False, executor_factory=lambda: pools.append(
                             Counted(GradingSettings(None), local_workers=2, task=misbehaving_task)) or pools[0])
    assert len(report.graded) == 12 and sorted(e["student"] for e in read_ledger(ledger, "binary_mnist").entries) == names
    # The scheduler holds the next submission of each worker, not the whole class.
    assert pools[0].peak == 4


# --json-dir and --html-dir after a resume: grade-all run with an in-process stand-in executor (seconds).

CHECKS = {"relabel: check_relabel_maps_odd_to_1[relabel_digits]": True, "split: check_split_sizes[split_train_val]": False}
CLASS = ("ada", "ben", "cal", "dan", "eve")


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """A course root of five submissions whose grade-all grades with ``stand_in.executor``, in this process."""
    from tests.batch_helpers import StandInExecutor, make_course

    class Course:
        root = make_course(tmp_path / "course", CLASS)
        executor = StandInExecutor(lambda student: CHECKS)

    monkeypatch.setattr("autograder.batch.cli._executor_factory", lambda args, config, settings: lambda: Course.executor)
    return Course


def grade_all_here(course, *args) -> int:
    from autograder.__main__ import main

    return main(["--config", str(course.root / "course.yml"), "grade-all", "--quiet", *args])


def ledger_results(course) -> dict[str, dict]:
    return {e["student"]: e["result"] for e in read_ledger(course.root / "grades" / "binary_mnist.jsonl", "binary_mnist",
                                                           keep_results=True).entries}


def test_json_dir_after_a_resume_gets_one_file_per_student_from_the_ledger(stand_in, tmp_path, capsys):
    import json

    assert grade_all_here(stand_in, str(stand_in.root)) == 0
    capsys.readouterr()
    assert grade_all_here(stand_in, str(stand_in.root), "--json-dir", str(tmp_path / "new")) == 0
    out = capsys.readouterr().out
    written = sorted(p.stem for p in (tmp_path / "new").glob("*.json"))
    assert written == list(CLASS), f"--json-dir after a resume should hold one file per student (5 of 5), holds {written}"
    recorded = ledger_results(stand_in)
    for student in CLASS:  # the very result the worker returned, as it was written when graded
        assert json.loads((tmp_path / "new" / f"{student}.json").read_text(encoding="utf-8")) == recorded[student]
    assert "graded now 0, already in the ledger 5" in out
    assert "5 of 5 submission(s) have their <student>.json (0 graded now, 5 from the ledger's full result)" in out, out


def test_json_dir_of_a_run_killed_and_resumed_gets_the_graded_and_the_recorded_alike(stand_in, tmp_path, capsys):
    from autograder.batch.cli import EXIT_INTERRUPTED

    from tests.batch_helpers import StandInExecutor

    stand_in.executor = StandInExecutor(lambda student: CHECKS, interrupt="cal")  # ada and ben recorded, then Ctrl-C
    assert grade_all_here(stand_in, str(stand_in.root)) == EXIT_INTERRUPTED
    assert "interrupted: the workers and the students' processes were stopped; what finished is in " in (
        capsys.readouterr().err)
    stand_in.executor = StandInExecutor(lambda student: CHECKS)
    assert grade_all_here(stand_in, str(stand_in.root), "--json-dir", str(tmp_path / "new")) == 0
    assert sorted(p.stem for p in (tmp_path / "new").glob("*.json")) == list(CLASS)
    assert "5 of 5 submission(s) have their <student>.json (3 graded now, 2 from the ledger" in capsys.readouterr().out


def test_a_folder_whose_notebook_is_already_in_the_ledger_gets_its_json_file(stand_in, tmp_path, capsys):
    assert grade_all_here(stand_in, str(stand_in.root)) == 0
    folder = tmp_path / "late"
    folder.mkdir()
    (folder / "ada.ipynb").write_bytes((stand_in.root / "submitted" / "ada" / "binary_mnist" / "binary_mnist.ipynb").read_bytes())
    capsys.readouterr()
    assert grade_all_here(stand_in, str(folder), "--json-dir", str(tmp_path / "new")) == 0
    out = capsys.readouterr().out
    assert "graded now 0, already in the ledger 1" in out, out
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["ada.json"]


def test_a_ledger_line_without_its_full_result_is_named_with_why_its_json_is_missing(stand_in, tmp_path, capsys):
    import json

    assert grade_all_here(stand_in, str(stand_in.root)) == 0
    ledger = stand_in.root / "grades" / "binary_mnist.jsonl"
    ben = next(e for e in map(json.loads, ledger.read_text(encoding="utf-8").splitlines()) if e["student"] == "ben")
    with LedgerWriter(ledger) as writer:  # ben's grade as a hand-edited or older line: scores, no result
        writer.append({**ben, "result": None})
    capsys.readouterr()
    assert grade_all_here(stand_in, str(stand_in.root), "--json-dir", str(tmp_path / "new")) == 0
    out = capsys.readouterr().out
    assert "4 of 5 submission(s) have their <student>.json" in out and not (tmp_path / "new" / "ben.json").exists()
    assert "  ben: its ledger line holds no full result (only its scores); run again with --force to regrade it" in out, out


def test_html_dir_after_a_resume_says_which_reports_are_missing_and_why(stand_in, tmp_path, capsys):
    assert grade_all_here(stand_in, str(stand_in.root)) == 0
    capsys.readouterr()
    assert grade_all_here(stand_in, str(stand_in.root), "--html-dir", str(tmp_path / "html")) == 0
    out = capsys.readouterr().out
    assert "0 of 5 submission(s) have their <student>.html" in out, out
    assert "  ada, ben, cal, dan, eve: already in the ledger, not graded now: an HTML report is drawn while grading" in out
    assert "--force" in out and "grade NOTEBOOK --html FILE" in out


def sleepy_task(settings, student, path):
    """Stand-in for a grading that takes a while: 'quick*' returns at once, the others after 20 s."""
    if not student.startswith("quick"):
        time.sleep(20)
    return misbehaving_task(settings, student, path)


@pytest.mark.slow  # a Dask LocalCluster starts in about 10 s on 2 cores
def test_on_dask_a_lost_scheduler_stops_the_run_and_charges_no_student_an_attempt(tmp_path):
    from autograder.batch.class_run import ExecutorLost
    from autograder.batch.dask_pool import DaskPool

    class LosesItsScheduler(DaskPool):
        """Its scheduler goes away once the first submission is collected, the others still running."""

        def outcome(self, future):
            result = super().outcome(future)
            self.watching = self._client.run(watching_its_coordinator)
            self._cluster.sync(self._cluster.scheduler.close)
            return result

    pools = []
    ledger = tmp_path / "grades" / "binary_mnist.jsonl"
    started = time.monotonic()
    with pytest.raises(ExecutorLost) as lost:
        grade_class(submissions(tmp_path, ["quick", "ada", "ben"]), [], assignment="binary_mnist", key="k",
                    ledger=ledger, show_progress=False, executor_factory=lambda: pools.append(
                        LosesItsScheduler(GradingSettings(None), local_workers=2, task=sleepy_task)) or pools[0])
    assert str(lost.value) == f"the scheduler at {pools[0].address} went away; run the same command again to resume"
    # What finished is recorded; the two in flight are not, so a rerun grades them on a first attempt.
    assert [(e["student"], e["status"]) for e in read_ledger(ledger, "binary_mnist").entries] == [("quick", "graded")]
    assert time.monotonic() - started < 60  # the run ends at once, not after the two gradings' 20 s or retries
    # Each LocalCluster worker watches its coordinator (the worker plugin), to end itself and its jails if it dies.
    assert len(pools[0].watching) == 2 and all(pools[0].watching.values()), pools[0].watching


def watching_its_coordinator() -> bool:
    from autograder.batch import worker_task

    return bool(worker_task._watching) and worker_task._watching[0] == os.getppid()


def test_sigterm_stops_grade_all_as_ctrl_c_does_with_its_own_exit_code_and_a_resume(stand_in, capsys):
    import signal

    from autograder.batch.cli import EXIT_INTERRUPTED, EXIT_TERMINATED
    from tests.batch_helpers import StandInExecutor

    class TerminatedAt(StandInExecutor):
        def submit(self, student, path):
            if student == "cal":  # a real SIGTERM to this process, as `kill PID` sends it
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler raises in this thread at once
            return super().submit(student, path)

    stand_in.executor = TerminatedAt(lambda student: CHECKS)
    assert grade_all_here(stand_in, str(stand_in.root)) == EXIT_TERMINATED
    assert EXIT_TERMINATED not in (0, 1, 2, 3, EXIT_INTERRUPTED)
    assert "terminated (SIGTERM): the workers and the students' processes were stopped; what finished is in " in (
        capsys.readouterr().err)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is grade-all's only while it runs
    assert sorted(ledger_results(stand_in)) == ["ada", "ben"]
    stand_in.executor = StandInExecutor(lambda student: CHECKS)
    assert grade_all_here(stand_in, str(stand_in.root)) == 0
    assert stand_in.executor.graded == ["cal", "dan", "eve"]


def test_a_lost_executor_stops_grade_all_with_its_own_exit_code_and_records_no_one_in_flight(stand_in, capsys):
    from concurrent.futures import Future

    from autograder.batch.class_run import ExecutorLost
    from autograder.batch.cli import EXIT_EXECUTOR_LOST
    from tests.batch_helpers import StandInExecutor

    class LosesItsSchedulerAt(StandInExecutor):
        def outcome(self, future: Future) -> dict:
            if future.result()["student"] == "cal":
                raise ExecutorLost("the scheduler at tcp://10.0.0.5:8786 went away; run the same command again to resume")
            return super().outcome(future)

        def submit(self, student, path):
            future = super().submit(student, path)
            future.result()["student"] = student
            return future

    stand_in.executor = LosesItsSchedulerAt(lambda student: CHECKS)
    assert grade_all_here(stand_in, str(stand_in.root)) == EXIT_EXECUTOR_LOST
    err = capsys.readouterr().err
    assert "stopped: the scheduler at tcp://10.0.0.5:8786 went away; run the same command again to resume" in err
    assert "no student's attempt was spent" in err
    recorded = read_ledger(stand_in.root / "grades" / "binary_mnist.jsonl", "binary_mnist").entries
    # cal, in flight when the scheduler went away, is not recorded (no attempt spent); dan, finished in the same
    # batch, is; eve was never handed out.
    assert sorted((e["student"], e["status"]) for e in recorded) == [("ada", "graded"), ("ben", "graded"), ("dan", "graded")]
