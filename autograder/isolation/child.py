"""The submission's process: run the notebook as a kernel would, call the student's functions as asked,
write plain data back.

Run as ``python -m autograder.isolation.child WORKDIR`` by ``autograder.isolation.sandbox``; never imported by the
grader. ``WORKDIR/request.json`` holds the notebook's cell plan (``autograder.engine.notebook_runner``), the cells to
skip and the probes to run; inputs come from ``WORKDIR/inputs.npz``. Before each cell and each probe the
child writes ``current.json``, so that the grader can tell which cell or call hung or killed the process;
``notebook.json`` says what each cell did. The request describes each probe's call: this process runs in the
sandbox, which holds the student wing and this runner only, not the hidden probes. Each call is made where its group's check cell stands in the
notebook (``notebook_runner.call_checkpoints``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def end_every_other_process() -> None:
    """SIGKILL every process the call left behind, then reap them. Only in a PID namespace of its own (the sandbox),
    where kill(-1) reaches this submission's processes and no one else's (never the namespace's init): a fork
    bomb's survivors, whose orphans the sandbox's init reaps and so frees their pids, would otherwise go on
    competing with the next calls."""
    import signal

    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        return  # nothing else was running
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def main(workdir: str) -> int:
    from autograder.isolation.recording import call_and_record, probe_from_data
    from autograder.engine import data_cell
    from autograder.engine.notebook_runner import CellOutcome, PlannedCell, Wanted, run_notebook

    work = Path(workdir)
    request = json.loads((work / "request.json").read_text())
    outdir = work / "out"
    timings: dict[str, float] = {}
    probes = {p.name: p for p in map(probe_from_data, request["probes"])}
    with np.load(work / "inputs.npz", allow_pickle=False) as data:
        inputs = {key: data[key] for key in data.files}

    def on_cell(cell: PlannedCell) -> None:
        (outdir / "current.json").write_text(json.dumps({"cell": cell.cell, "kind": cell.kind, "started": time.time()}))

    def on_outcome(outcomes: list[CellOutcome]) -> None:
        # After every cell, so that what the cells did is known even if a later cell or call ends the process.
        (outdir / "notebook.json").write_text(json.dumps({"outcomes": [o.to_data() for o in outcomes]}, default=str))

    def call(wanted: Wanted, function) -> None:
        # Made where the group's check cell runs: the notebook's state is what nbgrader's check cell sees.
        probe = probes[wanted.probe]
        (outdir / "current.json").write_text(json.dumps({"probe": probe.name, "started": time.time()}))
        probe_inputs = {arg: inputs[f"{probe.name}__{arg}"] for arg in probe.args if f"{probe.name}__{arg}" in inputs}
        started = time.perf_counter()
        call_and_record(function, probe, probe_inputs, request["kwargs"].get(probe.name, {}), outdir, seed=request["seed"])
        if request.get("own_pid_namespace"):
            end_every_other_process()
        timings[f"call {probe.name}"] = time.perf_counter() - started
        # Rewritten after every call, so a process that dies later still leaves its timings.
        (outdir / f"timings-{os.getpid()}.json").write_text(json.dumps(timings))

    started = time.perf_counter()
    run_notebook([PlannedCell.from_data(c) for c in request["cells"]],
                 [Wanted.from_data(w) for w in request["calls"]], request["cell_timeout_s"], call=call,
                 skip=tuple(request["skip_cells"]), on_cell=on_cell, on_outcome=on_outcome,
                 stand_ins=data_cell.from_inputs(inputs))
    seconds = time.perf_counter() - started
    timings["run the notebook's cells (its imports included)"] = seconds - sum(
        v for k, v in timings.items() if k.startswith("call "))
    (outdir / f"timings-{os.getpid()}.json").write_text(json.dumps(timings))
    (outdir / "current.json").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    code = main(sys.argv[1])
    # Everything the grader reads is written and closed by now, and the grader waits for this process to end:
    # skip the interpreter's teardown, which takes about 1.4 s once TensorFlow is loaded (its thread pools and
    # exit hooks, and those the student's code registered, which have nothing left to do for anyone).
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:  # a stream the notebook's code replaced or closed
            pass
    os._exit(code)
