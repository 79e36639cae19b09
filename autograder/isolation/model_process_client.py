"""The grader's side of its bounded process for a submission's models (``autograder.isolation.model_process_server``).

The grader never builds a student's model in its own process. It hands the checks that need the
models (architecture, compile, accuracy) to one long-lived process in the jail, capped at
``limits.model_memory_limit_mb`` (a memory cgroup where cgroups are writable; always an address-space
limit), and reads back plain JSON, each line bounded. If that process dies (out of memory, stuck past
its time, a crash), the check it was on and the other checks on that model fail with the reason,
a fresh process carries on with the rest, and the next submission is graded normally. Killed from outside
the grader (``JailedProcess.killed_from_outside``), it costs no check: the grading raises
``InfrastructureFault`` and is not a grade.

The grader launches it without waiting (``launch``) as soon as it knows a submission's models will be
checked, so that its imports overlap with the submission's own process; ``check_models`` waits for it to
be ready. Since the submission's code may run meanwhile, the process's spec, the course's settings and the
grading data reach it through its stdin only, never through a file (``model_process_server`` says how).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import sys
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from autograder.checks import Check
from autograder.support.config import CourseConfig
from autograder.messages.i18n import _
from autograder.isolation.infrastructure_fault import InfrastructureFault
from autograder.isolation.model_process_server import call_error_to_data, grading_arrays, send_grading_input
from autograder.isolation.jail import MODELS, JailedProcess, grader_is_root, owned_prefix, start_jailed
from autograder.engine.results import CheckResult
from autograder.engine.training import GradingData
from autograder.evidence.layer_rows import LayerRow
from autograder.evidence.training_outcome import TrainingOutcome

# One protocol line: a check result with a training run's curves and 10,000 test predictions fits in well under this.
MAX_LINE_BYTES = 4 * 2**20
# Seconds for a check beyond the training's own limit: rebuilding, compiling and predicting around it.
CHECK_MARGIN_S = 120.0


class ModelProcessStopped(Exception):
    """The model process ended or misbehaved before it answered; ``reason`` is the student-facing why."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


@dataclass
class ModelChecks:
    """What the model process answered for one submission."""

    results: dict[str, CheckResult] = field(default_factory=dict)
    trainings: dict[str, TrainingOutcome] = field(default_factory=dict)
    layers: dict[str, list] = field(default_factory=dict)
    # The most memory the model process held for this submission (its cgroup's record; None without one).
    peak_mb: float | None = None
    # Seconds spent waiting for a process to be ready (near 0 when it was launched ahead and had time to start).
    waited_s: float = 0.0


def needs_models(check: Check) -> bool:
    """Whether a check examines a model the submission returned (and so runs in the model process)."""
    return check.probe.returns != "arrays"


class ModelProcess:
    """One bounded process for models, launched ahead of use (or on first use), restarted after it dies,
    closed with the grader."""

    def __init__(self, config: CourseConfig, data: GradingData, training_cache=None):
        self.config, self.data = config, data
        # The class's training cache (``grader.training_cache.TrainingCache``), or None: what the process may ask.
        self.training_cache = training_cache
        self.root = Path(tempfile.mkdtemp(prefix=owned_prefix("models")))
        self.starts = 0
        # What the jail applied to the last process that became ready (cgroups, namespaces, capabilities, network).
        self.protections: dict = {}
        self._proc: subprocess.Popen | None = None
        self._jailed: JailedProcess | None = None
        # Each request carries a fresh id, and each answer must carry it back: a line left over from another
        # request (or forged) never answers this one.
        self._request_id: str | None = None
        self._ready = False
        self._lines: queue.Queue = queue.Queue()
        # The process's stderr: an unnamed file, read back through this handle only (bounded).
        self._log = None
        self._feeder: threading.Thread | None = None
        self._finalizer = weakref.finalize(self, _close, self.__dict__)

    def submission_folder(self) -> tempfile.TemporaryDirectory:
        """A work folder for one submission whose models this process will check: inside its root, the one
        folder of the shared temp folder that its jail keeps in sight (the submission's own jail does not)."""
        return tempfile.TemporaryDirectory(prefix="submission-", dir=self.root)

    @property
    def memory_limit_mb(self) -> int:
        return self.config.limits.model_memory_limit_mb

    # ------------------------------------------------------------ checking

    def check_models(self, outdir: Path, checks: list[Check], bars: dict, calls: dict | None = None) -> ModelChecks:
        """Run ``checks`` on the models saved in ``outdir``; every check gets a result, whatever happens.

        ``calls`` are the grader's own records of the calls (from the submission's run): one that did not
        return normally (a time limit, a crash) is checked as the grader recorded it, not re-read from files.
        """
        outcomes = {name: {"status": c.status, "error": call_error_to_data(c.error), "returned": c.returned}
                    for name, c in (calls or {}).items() if c.status != "ok"}
        answer = ModelChecks()
        pending = list(checks)
        while pending:
            waiting = time.perf_counter()
            try:
                self._wait_until_ready()
            except ModelProcessStopped as exc:
                for check in pending:  # the grader's own fault: no check can run, and it says so
                    answer.results[check.name] = _failed(check, _(
                        "the grader could not start its process for the models ({reason}); please tell your "
                        "instructor.").format(reason=exc.reason))
                break
            finally:
                answer.waited_s += time.perf_counter() - waiting
            self._cgroup_file("memory.max_usage_in_bytes", write="0")  # this submission's peak, not the process's
            current = self._run(outdir, pending, bars, outcomes, answer)
            peak = self._cgroup_file("memory.max_usage_in_bytes")
            if peak and peak.isdigit():
                answer.peak_mb = max(answer.peak_mb or 0.0, round(int(peak) / 2**20, 1))
            if current is None:
                break
            # It stopped while on ``current``'s model: that model's checks fail with the reason, the rest go on.
            probe, reason = current
            if not any(c.probe_name == probe for c in pending):
                probe = pending[0].probe_name  # each stop costs a model, so that the loop ends
            for check in [c for c in pending if c.probe_name == probe]:
                answer.results[check.name] = _failed(check, reason)
            pending = [c for c in pending if c.name not in answer.results]
        return answer

    def _run(self, outdir: Path, pending: list[Check], bars: dict, outcomes: dict, answer: ModelChecks):
        """Send one request and read its answer; (probe, reason) if the process stopped on a probe, else None."""
        by_name = {c.name: c for c in pending}
        self._request_id = uuid.uuid4().hex
        self._send({"id": self._request_id, "outdir": str(outdir), "checks": list(by_name), "bars": bars,
                    "calls": {c.probe_name: outcomes[c.probe_name] for c in pending if c.probe_name in outcomes},
                    "class_cache": self.training_cache is not None})
        on_probe = pending[0].probe_name
        timeout = self.config.limits.startup_timeout_s
        try:
            while True:
                message = self._receive(timeout)
                if message.get("id") != self._request_id:
                    raise ValueError("it answered a request the grader did not make")
                if "loading" in message or "started" in message:
                    check = by_name.get(message.get("started"))
                    on_probe = check.probe_name if check else _probe_named(message.get("loading"), pending)
                    timeout = (self.config.limits.training_timeout_s if check and check.needs_training else 0) + CHECK_MARGIN_S
                elif "wants_training" in message and self.training_cache is not None:
                    # The grader reads the cache; the process gets an answer, never the files.
                    self._send({"id": self._request_id,
                                "training": self.training_cache.lookup(message["wants_training"])})
                elif "finished" in message and message["finished"] in by_name:
                    name = message["finished"]
                    answer.results[name] = _own_check(CheckResult.from_dict(message["result"]), by_name[name])
                    if message.get("training") is not None:
                        training = TrainingOutcome.from_full_dict(message["training"])
                        answer.trainings[training.builder] = training
                    pending = [c for c in pending if c.name != name]
                    # Until it says otherwise, it is on the next check's model.
                    on_probe = pending[0].probe_name if pending else on_probe
                elif message.get("done") is True:
                    answer.layers = LayerRow.tables_from_dict(message.get("layers"))
                    if pending:
                        raise ValueError(f"it finished without answering {', '.join(c.name for c in pending)}")
                    return None
                else:
                    raise ValueError("it sent a line that is not the grader's protocol")
        except ModelProcessStopped as exc:
            return on_probe, exc.reason
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self.stop()
            return on_probe, _("the grader's process for this model sent back something it cannot read ({problem}) "
                               "and was stopped; please tell your instructor.").format(problem=str(exc)[:200])

    # ------------------------------------------------------------ the process

    def launch(self) -> None:
        """Start a fresh process and return at once: its start-up (TensorFlow's import) overlaps with the
        grader's own work, and ``check_models`` waits for it. A process already running is kept."""
        if self._proc is not None and self._proc.poll() is None:
            return
        self.stop()
        self.starts += 1
        work = self.root / f"process-{self.starts}"
        work.mkdir(parents=True)
        limits = self.config.limits
        if grader_is_root():
            # Its uid outside the sandbox is not the submissions': it passes this folder to reach theirs.
            os.chmod(self.root, 0o711)
        self._log = tempfile.TemporaryFile(dir=self.root)
        # It reads each submission's saved models from the folders made in this root (submission_folder).
        command = [sys.executable, "-m", "autograder.isolation.model_process_server", str(work)]
        self._jailed = start_jailed(MODELS, command, work, limits, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=self._log,
                                    memory_bytes=self.memory_limit_mb * 2**20, readable=(self.root,))
        self._proc = self._jailed.proc
        self._ready = False
        self._lines = queue.Queue()
        threading.Thread(target=_read_lines, args=(self._proc.stdout, self._lines), daemon=True).start()
        # Tens of MB on full MNIST: written from a thread, so that the grader goes on while the process reads.
        self._feeder = threading.Thread(target=_feed, daemon=True, args=(
            self._proc.stdin, self.config.model_dump(mode="json"), grading_arrays(self.data)))
        self._feeder.start()

    def _wait_until_ready(self) -> None:
        """Launch a process unless one is running, and wait until it says it is ready."""
        if self._proc is None or self._proc.poll() is not None:
            self.launch()
        if self._ready:
            return
        message = self._receive(self.config.limits.startup_timeout_s)
        if message.get("ready") is not True:
            self.stop()
            raise ModelProcessStopped("it did not say it was ready")
        self._feeder.join()  # it has read all its input
        self._ready = True
        self.protections = {"memory_limit_mb": self.memory_limit_mb, **self._jailed.protections()}

    def _send(self, request: dict) -> None:
        try:
            self._proc.stdin.write((json.dumps(request) + "\n").encode())
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died: the next read says how

    def _receive(self, timeout: float) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise ModelProcessStopped(_("loading or training this model ran past {seconds:g} s in the grader, so the "
                                        "grader stopped it.").format(seconds=timeout)) from None
        if line is None:
            raise ModelProcessStopped(self._why_it_stopped())
        if not line.endswith(b"\n"):
            self.stop()
            raise ModelProcessStopped(_("the grader's process for this model sent a line longer than {limit:,} bytes "
                                        "and was stopped; please tell your instructor.").format(limit=MAX_LINE_BYTES))
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("a protocol line is not a JSON object")
        return message

    def _why_it_stopped(self):
        """Why the process ended: out of memory (its cgroup says so, or the address space ran out), or how it ended.
        Raises ``InfrastructureFault`` where it was killed from outside the grader: that costs no check."""
        code = self._proc.wait() if self._proc else None
        outside = self._jailed.killed_from_outside() if self._jailed else None
        if outside:  # not the submission's doing: no check of its models may fail for it
            self.stop()
            raise InfrastructureFault(f"the grader's process for the models was killed by {outside}; grade it again")
        out_of_memory = self._cgroup_ran_out_of_memory() or code in (-signal.SIGABRT, 134)
        if not out_of_memory and self._log is not None:
            size = os.fstat(self._log.fileno()).st_size  # up to limits.file_size_limit_mb: read its end only
            tail = os.pread(self._log.fileno(), 4000, max(0, size - 4000))
            out_of_memory = b"MemoryError" in tail or b"std::bad_alloc" in tail or b"ResourceExhausted" in tail
        self.stop()
        if out_of_memory:
            return _("loading or training this model needed more memory than the grader allows for one submission's "
                     "models ({limit:,} MB, limits.model_memory_limit_mb), so the grader stopped it. Hint: the "
                     "lecture's models need far less; look for a layer much wider than the lecture's."
                     ).format(limit=self.memory_limit_mb)
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        return _("the grader's process for this model stopped ({how}) before the check finished; the other checks "
                 "went on in a fresh process. If this happens again, tell your instructor.").format(how=how)

    def _cgroup_ran_out_of_memory(self) -> bool:
        control = self._cgroup_file("memory.oom_control") or ""
        counts = dict(line.split() for line in control.splitlines() if len(line.split()) == 2)
        return counts.get("oom_kill", "0") != "0" or counts.get("under_oom", "0") != "0"

    def _cgroup_file(self, name: str, write: str | None = None) -> str | None:
        """Read (or write) one file of the process's memory cgroup; None where it has none."""
        # The cgroup the grader named for the running process: nothing is read back from its work folder.
        if self._jailed is None or self._jailed.cgroup_name is None:
            return None
        path = Path("/sys/fs/cgroup/memory") / self._jailed.cgroup_name / name
        try:
            if write is not None:
                path.write_text(write)
                return write
            return path.read_text().strip()
        except OSError:
            return None

    def stop(self) -> None:
        """End the current process, if any (a fresh one starts when next needed)."""
        _end(self._jailed, self._log)
        self._proc = self._log = self._jailed = None
        self._ready = False

    def close(self) -> None:
        self._finalizer()


def _close(state: dict) -> None:
    # Runs at most once, when the grader closes it, is collected, or the interpreter exits.
    _end(state.get("_jailed"), state.get("_log"))
    shutil.rmtree(state["root"], ignore_errors=True)


def _end(jailed: JailedProcess | None, log=None) -> None:
    """End the process and all it started (its sandbox, its cgroups), close its pipes and log."""
    if jailed is not None:
        jailed.end()
    proc = jailed.proc if jailed is not None else None
    for pipe in (proc and proc.stdin, proc and proc.stdout, log):
        try:
            if pipe is not None:
                pipe.close()
        except OSError:
            pass


def _feed(pipe, config: dict, arrays: dict) -> None:
    # The grading input (model_process_server reads it first).
    try:
        send_grading_input(pipe, config, arrays)
    except (BrokenPipeError, OSError, ValueError):
        pass  # it died or was stopped (its pipe closed): waiting for it says how


def _read_lines(pipe, lines: queue.Queue) -> None:
    # Each line bounded: a longer one arrives without its newline and stops the process.
    for line in iter(lambda: pipe.readline(MAX_LINE_BYTES), b""):
        lines.put(line)
        if not line.endswith(b"\n"):
            break
    lines.put(None)


def _probe_named(name, checks: list[Check]) -> str:
    return next((c.probe_name for c in checks if c.probe_name == name), checks[0].probe_name)


def _own_check(result: CheckResult, check: Check) -> CheckResult:
    # The process answers for the check it was asked about, under that check's own name and group.
    if ((result.check, result.probe, result.group, result.hidden)
            != (check.func.__name__, check.probe_name, check.group, check.hidden)):
        raise ValueError(f"its answer for {check.name} names another check")
    return result


def _failed(check: Check, reason) -> CheckResult:
    # Lazy, as every check result is: rendered in the reader's language when shown.
    return CheckResult.of(check, False, reason)
