"""The submission's process: define the student's code, call it as asked, write plain data back.

Run as ``python -m autograder.isolation.child WORKDIR`` by ``autograder.isolation.sandbox``; never imported by the
grader. ``WORKDIR/request.json`` lists the statements to define and the probes to run; inputs come
from ``WORKDIR/inputs.npz``. Before each probe the child writes ``current.json`` so that the
grader can tell which call hung or killed the process.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def main(workdir: str) -> int:
    from autograder.grader.hidden_probes import PROBES_BY_NAME
    from autograder.in_process import define_notebook_code
    from autograder.isolation.recording import call_and_record

    work = Path(workdir)
    request = json.loads((work / "request.json").read_text())
    outdir = work / "out"
    timings: dict[str, float] = {}
    started = time.perf_counter()
    namespace, problems = define_notebook_code(request["statements"])
    timings["define the notebook's code (its imports included)"] = time.perf_counter() - started
    (outdir / "definitions.json").write_text(json.dumps({"problems": problems}))
    with np.load(work / "inputs.npz", allow_pickle=False) as data:
        inputs = {key: data[key] for key in data.files}
    for name in request["probes"]:
        probe = PROBES_BY_NAME[name]
        (outdir / "current.json").write_text(json.dumps({"probe": name, "started": time.time()}))
        probe_inputs = {arg: inputs[f"{name}__{arg}"] for arg in probe.args if f"{name}__{arg}" in inputs}
        started = time.perf_counter()
        call_and_record(namespace.get(probe.function), probe, probe_inputs, request["kwargs"].get(name, {}),
                        outdir, seed=request["seed"])
        timings[f"call {name}"] = time.perf_counter() - started
        # Rewritten after every call, so a process that dies later still leaves its timings.
        (outdir / f"timings-{os.getpid()}.json").write_text(json.dumps(timings))
    (outdir / "current.json").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main(sys.argv[1]))
