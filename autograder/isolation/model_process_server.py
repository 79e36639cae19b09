"""The grader's bounded process for a submission's models.

Run as ``python -m autograder.isolation.model_process_server WORKDIR``.

Loading a student's ``.keras`` file and training it under the grading protocol are the grader's own
work, but on untrusted data: a model within every file bound (``untrusted_files``) may still need
more memory than the grader can spare. So that work runs here, in a process the jail caps (a memory
cgroup where cgroups are writable, its address space always, no capabilities, no network), started
and fed by ``autograder.isolation.model_process_client``. When this process runs out of memory it dies
alone: the grader fails the check it was on and carries on in a fresh one.

It runs the grader's own code only (no student code reaches it: models are rebuilt from a checked
config with Keras' safe mode). It may start while a submission's code runs, so what it needs from the
grader never lies on disk where that code could read or change it: the jail's spec, the course's
settings and the grading data (test labels included) all come through stdin. Protocol:
  in  (stdin):  read here before anything else, {"config": ..., "arrays": [{"name", "dtype", "shape"}]} (one
                line) followed by each array's raw bytes in that order (``send_grading_input`` writes it); then
                one request per line: {"id": ..., "outdir": ..., "checks": [check names], "bars": {builder:
                {...}}, "calls": {probe: {"status", "error", "returned"}} for the calls that did not return normally,
                "class_cache": whether the grader holds a class's training cache}; with a class cache, the answer
                {"id": ..., "training": TrainingOutcome or null} to each "wants_training" line
  out (fd 1):   {"ready": true} once, then per request, each line with the request's "id": {"loading": probe} per
                model, {"started": name}, {"wants_training": training_key} before a training (with a class cache),
                {"finished": name, "result": CheckResult, "training": TrainingOutcome or null} per check,
                {"layers": ..., "done": true}. The grader takes no line without its request's id.
The class's training cache is the grader's: it reads and writes the files, this process only asks.
Anything else this process prints goes to stderr, so that nothing but the protocol reaches the grader.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

# The header line of the grading input: the course's settings and the arrays' names, types and shapes.
MAX_HEADER_BYTES = 4 * 2**20
# Plain numbers only: nothing that numpy would need to unpickle.
ARRAY_KINDS = "biuf"


def grading_arrays(data) -> dict:
    """The grading data as named arrays, in the order they are sent."""
    return {"y_train": data.y_train, "y_test": data.y_test, **{f"x_train_{k}": v for k, v in data.x_train.items()},
            **{f"x_test_{k}": v for k, v in data.x_test.items()}}


def send_grading_input(pipe, config: dict, arrays: dict) -> None:
    """Write the header line and each array's bytes to ``pipe`` (the grader's side; blocks until they are read)."""
    import numpy as np

    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    header = {"config": config, "arrays": [{"name": n, "dtype": a.dtype.str, "shape": list(a.shape)}
                                           for n, a in arrays.items()]}
    pipe.write((json.dumps(header) + "\n").encode())
    for a in arrays.values():
        pipe.write(memoryview(a).cast("B"))
    pipe.flush()


def read_grading_input(pipe) -> tuple[dict, dict]:
    """The course's settings and the grading arrays from ``pipe``: plain numbers only, and no more of them than
    this process may hold (``limits.model_memory_limit_mb``), so that a garbled header cannot ask for more."""
    import numpy as np

    line = pipe.readline(MAX_HEADER_BYTES)
    if not line.endswith(b"\n"):
        raise ValueError("the grading input's header is missing or too long")
    header = json.loads(line)
    max_bytes = int(header["config"]["limits"]["model_memory_limit_mb"]) * 2**20
    wanted = []
    for entry in header["arrays"]:
        dtype = np.dtype(entry["dtype"])
        if dtype.kind not in ARRAY_KINDS or not all(type(n) is int and n >= 0 for n in entry["shape"]):
            raise ValueError(f"the grading array {entry['name']!r} is not plain numbers of a known shape")
        wanted.append((str(entry["name"]), dtype, tuple(entry["shape"])))
    total = sum(dtype.itemsize * int(np.prod(shape)) for _, dtype, shape in wanted)
    if total > max_bytes:
        raise ValueError(f"the grading data would take {total:,} bytes, more than this process may hold ({max_bytes:,})")
    arrays = {}
    for name, dtype, shape in wanted:
        array = np.empty(shape, dtype)
        view, filled = memoryview(array).cast("B"), 0
        while filled < len(view):
            read = pipe.readinto(view[filled:])
            if not read:
                raise ValueError("the grading input ended early")
            filled += read
        arrays[name] = array
    return header["config"], arrays


def call_error_to_data(error: dict | None) -> dict | None:
    """A call's error (its message may be a lazy Message) as plain JSON data."""
    from autograder.messages.i18n import text_to_data

    return None if error is None else {k: text_to_data(v) if k == "message" else v for k, v in error.items()}


def call_error_from_data(data) -> dict | None:
    from autograder.messages.i18n import text_from_data

    if data is None:
        return None
    if not isinstance(data, dict):
        raise ValueError("a call's error must be a mapping")
    return {k: text_from_data(v) if k == "message" else v for k, v in data.items()}


@dataclass
class BarsFromTheGrader:
    """The session's ``thresholds`` here: those the grader sent with the request at hand (``Grader.model_bars``)."""

    bars: dict = field(default_factory=dict)

    def __call__(self, session, builder: str):
        from autograder.engine.check_session import AccuracyBar, reference_summary

        bar = self.bars[builder]
        if "error" in bar:  # the grader has no threshold for it; the check says so, as in the grader
            raise RuntimeError(bar["error"])
        return AccuracyBar(bar["threshold"], reference_summary(bar["mean"], bar["worst"], bar["seeds"]), bar["file"])


def model_check_session(settings: dict, arrays: dict, thresholds: BarsFromTheGrader):
    """The check session of this process: the grader's config, data and thresholds, as the grader sent them."""
    from autograder.engine.check_session import CheckSession
    from autograder.engine.training import GradingData
    from autograder.support.config import CourseConfig

    data = GradingData(x_train={kind: arrays[f"x_train_{kind}"] for kind in ("mlp", "cnn")}, y_train=arrays["y_train"],
                       x_test={kind: arrays[f"x_test_{kind}"] for kind in ("mlp", "cnn")}, y_test=arrays["y_test"])
    return CheckSession(CourseConfig.model_validate(settings), log=lambda message: None, thresholds=thresholds,
                        prepared_data=data)


def serve(settings: dict, arrays: dict, requests, send) -> None:
    """Answer each request line from ``requests`` with protocol lines through ``send``."""
    from autograder.engine.check_session import student_layers
    from autograder.hidden.every_check import checks_for
    from autograder.isolation.recording import load_call
    from autograder.evidence.call_record import Call
    from autograder.evidence.layer_rows import LayerRow
    from autograder.evidence.probes import probe_kwargs

    bars = BarsFromTheGrader()
    session = model_check_session(settings, arrays, bars)
    checks_by_name = {c.name: c for c in checks_for(None, True)}
    # Keras (and TensorFlow under it) before "ready": the grader launches this process ahead of the submission's,
    # so this import, the slowest part of any check, overlaps with that run instead of following it.
    import keras

    # Keras' defaults, whatever keras.json the submission's code could have put in this work folder meanwhile.
    keras.config.set_floatx("float32")
    keras.config.set_epsilon(1e-7)
    keras.config.set_image_data_format("channels_last")
    send({"ready": True})
    for line in requests:
        request = json.loads(line)
        answer = functools.partial(_answer, send, request.get("id"))
        bars.bars = request["bars"]
        session.class_training = (functools.partial(_ask_class_cache, answer, requests, request.get("id"))
                                  if request.get("class_cache") is True else None)
        checks = [checks_by_name[name] for name in request["checks"]]
        calls = {}
        for probe in {c.probe_name: c.probe for c in checks}.values():
            answer({"loading": probe.name})
            outcome = request["calls"].get(probe.name, {"status": "ok"})
            if outcome["status"] == "ok":  # it returned: its model is read here, from the child's files
                calls[probe.name] = load_call(probe, {}, probe_kwargs(probe, None), Path(request["outdir"]))
            else:  # what the grader decided (a time limit, a crash, a missing function), as it decided it
                calls[probe.name] = Call(probe, {}, probe_kwargs(probe, None), outcome["status"],
                                         call_error_from_data(outcome.get("error")), outcome.get("returned") or {})
        trainings: dict = {}
        for check in checks:
            answer({"started": check.name})
            result = session.run_check(check, calls, trainings)
            training = trainings.get(check.probe.function) if check.needs_training else None
            answer({"finished": check.name, "result": result.to_dict(),
                    "training": None if training is None else training.to_full_dict()})
        answer({"layers": LayerRow.tables_to_dict(student_layers(calls)), "done": True})
        keras.backend.clear_session()  # the next submission's models start from an empty graph


def _answer(send, request_id, message: dict) -> None:
    send({"id": request_id, **message})


def _ask_class_cache(answer, requests, request_id, key: str, with_weights: bool = False):
    """The grader's answer from the class's training cache for ``key``: a training, or None (train it here). The
    class's cache keeps no weights: a training wanted with them is trained here."""
    if with_weights:
        return None
    answer({"wants_training": key})
    reply = json.loads(requests.readline(MAX_HEADER_BYTES))
    if not isinstance(reply, dict) or reply.get("id") != request_id:
        raise ValueError("the grader's answer about the class's training cache is not for this request")
    if not reply.get("training"):
        return None
    from autograder.evidence.training_outcome import TrainingOutcome

    # The grader read and checked the file; reading it as any answer is read costs a little and trusts nothing.
    return replace(TrainingOutcome.from_full_dict(reply["training"]), reused=True)


def main(workdir: str) -> int:
    # The protocol gets its own copy of fd 1; fd 1 itself (Keras', TensorFlow's prints) goes to stderr.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    # First, before any slow import: the grader's writer is waiting on this pipe.
    settings, arrays = read_grading_input(requests)

    def send(message: dict) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    serve(settings, arrays, requests, send)
    return 0


if __name__ == "__main__":
    # This work folder is this process's cwd, and writable by the submission's code that may run beside it:
    # nothing imported from here on may come from it (``python -m`` put it first on the path), and a
    # keras.json planted in it (KERAS_HOME) must not choose the backend.
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main(sys.argv[1]))
