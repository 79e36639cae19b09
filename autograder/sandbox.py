"""Run a submission's code in a fresh interpreter and bring back plain data.

The grader writes the statements to define, the probes to run and their inputs into a work
folder, starts ``python -m autograder.child`` there, and watches it: a call that runs past
``limits.call_timeout_s`` or a process that dies is recorded against that one call, and a new
process carries on with the calls that are left. Nothing the child writes is unpickled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.config import Limits
from autograder.probes import Call, Probe, load_call

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


@dataclass
class SubmissionRun:
    """What running a submission produced: one Call per probe, plus what went wrong on the way."""

    calls: dict[str, Call]
    problems: list[str] = field(default_factory=list)
    output: str = ""
    processes: int = 0
    # Seconds per phase inside the child processes (defining the code, each call), as they reported them.
    timings: dict[str, float] = field(default_factory=dict)


def save_reference_model(path: Path) -> Path:
    """Save the reference MLP for compile_model to receive (so the compile group never needs the student's builder)."""
    from autograder import reference

    reference.build_mlp().save(path)
    return path


def run_submission(statements: list[dict], probes: list[Probe], inputs: dict[str, dict[str, np.ndarray]],
                   kwargs: dict[str, dict], workdir: Path, limits: Limits, seed: int = 0) -> SubmissionRun:
    """Call each probe's function in a child process; return what each call did."""
    workdir = Path(workdir)
    outdir = workdir / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    flat = {f"{name}__{arg}": arr for name, per_probe in inputs.items() for arg, arr in per_probe.items()}
    np.savez(workdir / "inputs.npz", **flat)
    reference_model = save_reference_model(workdir / "reference_mlp.keras")

    run = SubmissionRun(calls={})
    pending = [p for p in probes]
    log_path = workdir / "output.log"
    with open(log_path, "wb") as log:
        while pending:
            (workdir / "request.json").write_text(json.dumps({
                "statements": statements, "probes": [p.name for p in pending], "seed": seed,
                "kwargs": {p.name: kwargs.get(p.name, {}) for p in pending},
                "reference_model": str(reference_model),
            }))
            (outdir / "current.json").unlink(missing_ok=True)
            run.processes += 1
            ended_how = _run_child(workdir, log, limits)
            finished = [p for p in pending if (outdir / f"{p.name}.json").exists()]
            for p in finished:
                run.calls[p.name] = load_call(p, inputs.get(p.name, {}), kwargs.get(p.name, {}), outdir)
            pending = [p for p in pending if p not in finished]
            if not pending:
                break
            current = _current_probe(outdir)
            if current is None:
                # It never got to a call: defining the student's code hung or killed the process.
                message = f"while defining the notebook's code: {ended_how}"
                log.flush()
                tail = _tail(log_path, 1500)
                run.problems.append(f"the submission's process stopped {message}" + (f"; its last output:\n{tail}" if tail else ""))
                for p in pending:
                    run.calls[p.name] = Call(p, inputs.get(p.name, {}), kwargs.get(p.name, {}),
                                             "timeout" if "time" in ended_how else "crashed", {"message": message})
                break
            culprit = next(p for p in pending if p.name == current)
            status = "timeout" if "time limit" in ended_how else "crashed"
            run.calls[culprit.name] = Call(culprit, inputs.get(culprit.name, {}), kwargs.get(culprit.name, {}),
                                           status, {"message": ended_how})
            pending.remove(culprit)
    run.timings = _child_timings(outdir)
    definitions = outdir / "definitions.json"
    if definitions.exists():
        run.problems.extend(json.loads(definitions.read_text())["problems"])
    with open(log_path, "rb") as log:
        run.output = log.read(limits.output_limit_bytes).decode("utf-8", "replace")
    return run


def _child_timings(outdir: Path) -> dict[str, float]:
    timings: dict[str, float] = {}
    for path in sorted(outdir.glob("timings-*.json")):
        try:
            reported = json.loads(path.read_text())
            for phase, seconds in reported.items():
                timings[f"child: {phase}"] = timings.get(f"child: {phase}", 0.0) + float(seconds)
        except (OSError, ValueError, TypeError, AttributeError):
            continue  # timings are for the benchmark; a garbled file must not cost a grade
    return timings


def _tail(path: Path, n_bytes: int) -> str:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - n_bytes))
        return f.read().decode("utf-8", "replace").strip()


def _current_probe(outdir: Path) -> str | None:
    try:
        return json.loads((outdir / "current.json").read_text())["probe"]
    except (OSError, ValueError, KeyError):
        return None


def _run_child(workdir: Path, log, limits: Limits) -> str:
    """Run the child until it exits or a limit is hit; say how it ended."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg", PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(filter(None, [_PACKAGE_PARENT, os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-m", "autograder.child", str(workdir)], cwd=workdir,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    started = time.monotonic()
    current, current_since = None, started
    while True:
        try:
            code = proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None:
            if code == 0 and not (workdir / "out" / "current.json").exists():
                return "finished"
            return f"the process exited with code {code}"
        now_current = _current_probe(workdir / "out")
        if now_current != current:
            current, current_since = now_current, time.monotonic()
        limit = limits.call_timeout_s if current else limits.startup_timeout_s
        if time.monotonic() - current_since > limit:
            _kill_group(proc)
            return f"it ran past the time limit of {limit:g} s and was stopped"


def _kill_group(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
