"""Run a submission's notebook in a fresh interpreter, inside limits, and bring back plain data.

The grader writes the notebook's cell plan (``autograder.engine.notebook_runner``), the probes to run and
their inputs into a work folder, starts the submission's process there (``autograder.isolation.jail`` →
``autograder.isolation.child``) and watches it. A student cell gets ``limits.cell_timeout_s`` (its own
interrupt stops it; a cell that ignores it, or kills the process, is left out of a new run); a call
that runs past ``limits.call_timeout_s`` or a process that dies is recorded against that one call,
and a new process carries on with the calls that are left, until ``limits.submission_timeout_s`` is
spent. A process killed by a signal none of its limits sends (``Ended.KILLED_FROM_OUTSIDE``) is run again
first: only a second kill at the same cell or call is the submission's own doing (it may SIGKILL itself);
kills at more than ``MAX_OUTSIDE_KILLS`` places are the machine's (``InfrastructureFault``). Nothing the child
writes is unpickled.

Isolation (``autograder.isolation.jail``): a bubblewrap sandbox (its own PID, mount, network and IPC
namespaces; a read-only root holding the student wing and not the course; no capabilities; an unprivileged
uid), memory and process caps in cgroups where the grader may make them, rlimits always, a scrubbed
environment, and at most ``limits.output_limit_bytes`` of output kept. What was in force comes from the jail's
status pipe, never from the work folder, which the submission writes.
"""

from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.messages.cell_stderr import is_framework_line
from autograder.support.config import Limits
from autograder.messages.i18n import Message, _
from autograder.isolation import untrusted_files
from autograder.isolation.infrastructure_fault import InfrastructureFault
from autograder.isolation.jail import SUBMISSION, sandbox_problem, start_jailed
from autograder.isolation.recording import load_call, probe_to_data
from autograder.engine.notebook_runner import STUDENT, CellOutcome, PlannedCell, Wanted, outcomes_from_data
from autograder.evidence.call_record import Call
from autograder.evidence.probes import Probe

# Seconds past limits.cell_timeout_s before the grader ends a process whose cell did not stop when interrupted.
CELL_GRACE_S = 10.0
# Places (a cell, a call) where the submission's process may be killed from outside and run again before the
# grading is given up as the machine's fault (InfrastructureFault): beyond a few, the machine keeps killing it.
MAX_OUTSIDE_KILLS = 3


@dataclass
class SubmissionRun:
    """What running a submission produced: one Call per probe, plus what went wrong on the way."""

    calls: dict[str, Call]
    # What went wrong on the way: the limits' messages (translated when shown), and the child's own text.
    problems: list[Message | str] = field(default_factory=list)
    output: str = ""
    processes: int = 0
    # What each of the notebook's cells did (the last process's record, and the cells that ended a process).
    cells: list[CellOutcome] = field(default_factory=list)
    # Seconds per phase inside the child processes (defining the code, each call), as they reported them.
    timings: dict[str, float] = field(default_factory=dict)
    # Which protections were in force (from the jail's report).
    isolation: dict = field(default_factory=dict)


def run_submission(cells: list[PlannedCell], groups: dict[str, str], probes: list[Probe],
                   inputs: dict[str, dict[str, np.ndarray]], kwargs: dict[str, dict], workdir: Path, limits: Limits,
                   seed: int = 0, load_models: bool = True) -> SubmissionRun:
    """Run the notebook's cells (``notebook_runner``'s plan) in a child process, calling each probe's function
    where the check cell of its group (``groups``: probe name → group) runs; return what each cell and call did.

    A cell that hangs past its limit or kills the process is run no more: a new process runs the notebook
    again without it. With ``load_models=False`` a returned model stays a file in ``workdir/out`` for the
    grader's bounded model process (``isolation.model_process_client``) to load; the call records only that it
    returned one.
    """
    workdir = Path(workdir)
    outdir = workdir / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    flat = {f"{name}__{arg}": arr for name, per_probe in inputs.items() for arg, arr in per_probe.items()}
    np.savez(workdir / "inputs.npz", **flat)

    run = SubmissionRun(calls={})
    sandbox_timings: dict[str, float] = {}
    pending = [p for p in probes]
    kinds = {c.cell: c.kind for c in cells}
    ended_in: dict[int, Message] = {}  # student cells that ended a process: not run again
    killed_at: list[str] = []  # where a process was killed from outside (as it seemed): each place once
    log_path = workdir / "output.log"
    deadline = time.monotonic() + limits.submission_timeout_s
    output = _CappedOutput(log_path, limits.output_limit_bytes)
    with output:
        while pending:
            if time.monotonic() >= deadline:
                message = _("the submission used up its time limit of {seconds:g} s").format(
                    seconds=limits.submission_timeout_s)
                run.problems.append(_("{reason}; {count} call(s) were not made").format(reason=message,
                                                                                      count=len(pending)))
                for p in pending:
                    run.calls[p.name] = Call(p, inputs.get(p.name, {}), kwargs.get(p.name, {}), "timeout",
                                             {"message": message})
                break
            # The child is told each probe's call (never looked up in the hidden probes, which it cannot see).
            untrusted_files.write_fresh(workdir / "request.json", json.dumps({
                "cells": [c.to_data() for c in cells],
                "calls": [Wanted(p.name, groups[p.name], p.function).to_data() for p in pending],
                "cell_timeout_s": limits.cell_timeout_s, "skip_cells": sorted(ended_in),
                "probes": [probe_to_data(p) for p in pending], "seed": seed,
                # The sandbox gives the process a PID namespace of its own (start_jailed decides the same way).
                "own_pid_namespace": sandbox_problem() is None,
                "kwargs": {p.name: kwargs.get(p.name, {}) for p in pending},
            }).encode())
            (outdir / "current.json").unlink(missing_ok=True)
            (outdir / "notebook.json").unlink(missing_ok=True)
            run.processes += 1
            ending, run.isolation = _run_child(workdir, output, limits, deadline, kinds, sandbox_timings)
            finished = [p for p in pending if os.path.lexists(outdir / f"{p.name}.json")]
            for p in finished:
                run.calls[p.name] = load_call(p, inputs.get(p.name, {}), kwargs.get(p.name, {}), outdir,
                                              load_model=load_models)
            pending = [p for p in pending if p not in finished]
            if not pending:
                break
            current = _current(outdir)
            probe, cell = current.get("probe"), current.get("cell")
            if ending.how is Ended.KILLED_FROM_OUTSIDE:
                on_call = probe in {p.name for p in pending}
                where = f"the call of {probe}" if on_call else f"cell {cell}" if cell is not None else "its start-up"
                if where not in killed_at:
                    # Run again from the start: a kill from outside (an operator, the host's OOM killer) will not
                    # come back at the same place; a process that kills itself there will, and is then charged.
                    killed_at.append(where)
                    if len(killed_at) > MAX_OUTSIDE_KILLS:
                        raise InfrastructureFault(
                            f"the submission's process was killed by {ending.outside} {len(killed_at)} times, each at "
                            f"another place ({', '.join(killed_at)}); grade it again")
                    signal_name = ending.outside.split()[0]
                    run.problems.append(
                        _("the submission's process was killed by {signal}, a signal the grader did not send, during "
                          "the call of {call}; the grader ran the notebook again").format(signal=signal_name, call=probe)
                        if on_call else
                        _("the submission's process was killed by {signal}, a signal the grader did not send, during "
                          "cell {cell}; the grader ran the notebook again").format(signal=signal_name, cell=cell)
                        if cell is not None else
                        _("the submission's process was killed by {signal}, a signal the grader did not send, during "
                          "its start-up; the grader ran the notebook again").format(signal=signal_name))
                    continue
            # The student's last words, not TensorFlow's import banner.
            tail = "\n".join(line for line in output.tail(1500).splitlines() if not is_framework_line(line))
            if kinds.get(cell) == STUDENT and cell not in ended_in:
                # A student cell hung or killed the process: run the notebook again without it.
                ended_in[cell] = _("{ending}; its last output:\n{output}").format(
                    ending=ending.message, output=tail) if tail else ending.message
                continue
            if probe not in {p.name for p in pending} and finished:
                continue  # it stopped after writing the result of the call it was on: a new process carries on
            if probe not in {p.name for p in pending}:  # a provided cell, or a name the submission wrote there
                # It never got to a call: running the notebook hung or killed the process.
                message = _("while running the notebook's cells: {ending}").format(ending=ending.message)
                run.problems.append(
                    _("the submission's process stopped while running the notebook's cells: {ending}; its last "
                      "output:\n{output}").format(ending=ending.message, output=tail) if tail else
                    _("the submission's process stopped while running the notebook's cells: {ending}").format(
                        ending=ending.message))
                for p in pending:
                    run.calls[p.name] = Call(p, inputs.get(p.name, {}), kwargs.get(p.name, {}), ending.status,
                                             {"message": message})
                break
            culprit = next(p for p in pending if p.name == probe)
            run.calls[culprit.name] = Call(culprit, inputs.get(culprit.name, {}), kwargs.get(culprit.name, {}),
                                           ending.status, {"message": ending.message})
            pending.remove(culprit)
    run.timings = {**sandbox_timings, **_child_timings(outdir)}
    try:
        run.cells = outcomes_from_data(_read_json(outdir / "notebook.json", untrusted_files.MiB), kinds)
    except ValueError as exc:
        run.problems.append(_("the grader could not read what the notebook's cells did ({reason})").format(reason=str(exc)))
    run.cells = sorted([o for o in run.cells if o.cell not in ended_in] + [
        CellOutcome(cell, "ended_process", error={"type": "", "message": message}) for cell, message in ended_in.items()],
        key=lambda o: o.cell)
    run.output = output.kept_text()
    if output.dropped:
        run.problems.append(_("the submission printed {printed:,} bytes; only the first {kept:,} were kept").format(
            printed=output.dropped + output.kept, kept=limits.output_limit_bytes))
    return run


def _read_json(path: Path, limit: int = untrusted_files.MAX_RECORD_BYTES):
    # Plain data written by the submission's process, bounded: anything unreadable or too large counts as absent.
    try:
        return untrusted_files.read_json(path, limit)
    except (OSError, ValueError):
        return None


class _CappedOutput:
    """The child's stdout and stderr: the first ``limit`` bytes go to a file, the rest is counted and dropped."""

    def __init__(self, path: Path, limit: int):
        self.path, self.limit, self.kept, self.dropped = path, limit, 0, 0
        self._file = None
        self._final = b""
        self._lock = threading.Lock()

    def __enter__(self):
        # Read back through this handle only: the submission's process can replace the file at ``path``.
        self._file = open(self.path, "w+b")
        return self

    def __exit__(self, *exc):
        self._final = self._kept(0)
        self._file.close()

    def drain(self, pipe) -> threading.Thread:
        """Copy ``pipe`` into the file in a thread until it closes."""

        def copy():
            for chunk in iter(lambda: pipe.read(65536), b""):
                with self._lock:
                    room = max(0, self.limit - self.kept)
                    self._file.write(chunk[:room])
                    self.kept += min(room, len(chunk))
                    self.dropped += max(0, len(chunk) - room)
            pipe.close()

        thread = threading.Thread(target=copy, daemon=True)
        thread.start()
        return thread

    def tail(self, n_bytes: int) -> str:
        return self._kept(max(0, self.kept - n_bytes)).decode("utf-8", "replace").strip()

    def kept_text(self) -> str:
        """All the output kept (at most ``limit`` bytes), as text; also once the file is closed."""
        return (self._final if self._file.closed else self._kept(0)).decode("utf-8", "replace")

    def _kept(self, start: int) -> bytes:
        with self._lock:
            self._file.flush()
            return os.pread(self._file.fileno(), self.kept - start, start)


def _child_timings(outdir: Path) -> dict[str, float]:
    timings: dict[str, float] = {}
    # One file per process the grader started; the submission may have written thousands more.
    for path in sorted(outdir.glob("timings-*.json"))[:64]:
        try:
            reported = untrusted_files.read_json(path, 64 * untrusted_files.KiB)
            for phase, seconds in reported.items():
                timings[f"child: {phase}"] = timings.get(f"child: {phase}", 0.0) + float(seconds)
        except (OSError, ValueError, TypeError, AttributeError):
            continue  # timings are for the benchmark; a garbled file must not cost a grade
    return timings


def _current(outdir: Path) -> dict:
    """What the child said it is on: ``{"probe": name}`` or ``{"cell": number}`` (empty when unreadable)."""
    try:
        current = untrusted_files.read_json(outdir / "current.json", untrusted_files.MAX_STATUS_BYTES)
    except (OSError, ValueError):
        return {}
    if not isinstance(current, dict):
        return {}
    probe, cell = current.get("probe"), current.get("cell")
    return {"probe": probe} if isinstance(probe, str) else {"cell": cell} if type(cell) is int else {}


class Ended(enum.Enum):
    """How the submission's process ended: what the runner decides by, never the message's words."""

    FINISHED = "finished"
    EXITED = "exited"  # it exited or was killed (a signal, the out-of-memory killer) before it finished
    # Killed by a signal that none of its limits sends, its memory cgroup recording no OOM kill of its own: from
    # outside the grader, or by its own code (a process may SIGKILL itself), which running it again tells apart.
    KILLED_FROM_OUTSIDE = "killed from outside"
    CALL_TIME_LIMIT = "call time limit"  # one call (or the start-up) ran past its limit
    SUBMISSION_TIME_LIMIT = "submission time limit"  # the whole submission's time was spent


@dataclass(frozen=True)
class Ending:
    """How one of the submission's processes ended, and the message that says so to the student."""

    how: Ended
    message: Message
    outside: str = ""  # KILLED_FROM_OUTSIDE: which signal, and that its limits did not send it

    @property
    def status(self) -> str:
        """The status of the call it was on (``Call.status``): stopped at a time limit, or crashed."""
        return "timeout" if self.how in (Ended.CALL_TIME_LIMIT, Ended.SUBMISSION_TIME_LIMIT) else "crashed"


def _run_child(workdir: Path, output: _CappedOutput, limits: Limits, deadline: float,
               kinds: dict[int, str], timings: dict[str, float]) -> tuple[Ending, dict]:
    """Run the submission's process until it exits or a limit is hit; say how it ended, and what was in force
    (the jail's own record). Adds the sandbox's start-up to ``timings``. Raises ``InfrastructureFault`` where it
    looks killed from outside the grader (``JailedProcess.killed_from_outside``): ``Ended.KILLED_FROM_OUTSIDE``."""
    jailed = start_jailed(SUBMISSION, [sys.executable, "-m", "autograder.isolation.child", str(workdir)], workdir,
                          limits, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    reader = output.drain(jailed.proc.stdout)
    try:
        ending, protections = _watch(jailed.proc, workdir, limits, deadline, kinds), jailed.protections()
        outside = jailed.killed_from_outside() if ending.how is Ended.EXITED else None
        if outside:  # maybe not the submission's doing: run_submission decides by running it again
            ending = Ending(Ended.KILLED_FROM_OUTSIDE, ending.message, outside)
        if jailed.status.startup_s is not None:
            phase = "sandbox: start-up (the launcher and bubblewrap, until the process starts)"
            timings[phase] = timings.get(phase, 0.0) + jailed.status.startup_s
        return ending, protections
    finally:
        jailed.end()  # bubblewrap, its PID namespace and every process in it, and its cgroups
        reader.join(timeout=5)


def _watch(proc: subprocess.Popen, workdir: Path, limits: Limits, deadline: float, kinds: dict[int, str]) -> Ending:
    started = time.monotonic()
    current, current_since = {}, started
    while True:
        try:
            code = proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None:
            if code == 0 and not (workdir / "out" / "current.json").exists():
                return Ending(Ended.FINISHED, _("the process finished"))
            return Ending(Ended.EXITED, _("the process exited with code {code}").format(code=code))
        now_current = _current(workdir / "out")
        if now_current != current:
            current, current_since = now_current, time.monotonic()
        limit = (limits.call_timeout_s if "probe" in current
                 # The cell's own alarm stops it first; this is for a cell that ignores it (or blocks in C code).
                 else limits.cell_timeout_s + CELL_GRACE_S if kinds.get(current.get("cell")) == STUDENT
                 else limits.startup_timeout_s)
        now = time.monotonic()
        if now >= deadline:
            return Ending(Ended.SUBMISSION_TIME_LIMIT, _("it ran past the submission's time limit of {seconds:g} s "
                                                         "and was stopped").format(seconds=limits.submission_timeout_s))
        if now - current_since > limit:
            return Ending(Ended.CALL_TIME_LIMIT,
                          _("it ran past the time limit of {seconds:g} s and was stopped").format(seconds=limit))
