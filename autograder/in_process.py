"""Calls made in this process: the student wing's runner.

A student checking their own notebook, and nbgrader's visible test cells (which run in the
student's kernel anyway), need no jail: the functions are called here, and each outcome becomes
a ``Call`` as the grader would see it. The returned model goes through a ``.keras`` file and
Keras' safe mode, as in grading, so a model the grader cannot rebuild fails the self-check too.
The grader itself never uses this module on a submission: it calls the functions in a jailed
child process (``autograder.isolation``).
"""

from __future__ import annotations

import json
import linecache
import random
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from autograder.probes import Call, Probe, ReturnedNotAnArray, array_of, describe_exception, statement_problem


def define_notebook_code(statements: list[dict]) -> tuple[dict, list[str]]:
    """Execute the notebook's kept statements one by one; a failing one is reported, the rest still run."""
    namespace: dict = {"__name__": "__student__", "__builtins__": __builtins__}
    problems = []
    for st in statements:
        filename = f"<cell {st['cell']}>"
        # Registered so that tracebacks can quote the student's line.
        linecache.cache[filename] = (len(st["source"]), None, st["source"].splitlines(True), filename)
        try:
            exec(compile(st["source"], filename, "exec"), namespace)
        except (Exception, SystemExit) as exc:  # exit() in a cell must not end the self-check itself
            if st.get("kind") == "assignment":
                # A constant that depends on a skipped cell (e.g. x = dataset.x_train) is simply left out.
                continue
            problems.append(statement_problem(st, describe_exception(exc)))
    return namespace, problems


def seed_everything(seed: int, with_keras: bool) -> None:
    """Seed Python, numpy and (when it is needed or already imported) Keras, as the grader does before each call."""
    if with_keras or "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)
    else:  # a numpy-only notebook is not made to import TensorFlow (seconds) just to be seeded
        random.seed(seed)
        np.random.seed(seed)


def compile_probe_model():
    """The lecture's MLP, built from its config kept as data: what compile_model is called on."""
    import keras

    from autograder.expected import compile_probe_model_config

    return keras.models.model_from_json(json.dumps(compile_probe_model_config()))


def call_here(func: Callable | None, probe: Probe, inputs: dict[str, np.ndarray], kwargs: dict, seed: int = 0) -> Call:
    """Call ``func`` as ``probe`` describes, in this process, and return what it did."""
    call = Call(probe, inputs, kwargs, "ok")
    if func is None:
        call.status = "missing"
        return call
    if not callable(func):
        call.status, call.error = "missing", {"type": "TypeError", "where": [],
                                              "message": f"{probe.function} is a {type(func).__name__}, not a function"}
        return call
    try:
        seed_everything(seed, with_keras=probe.returns != "arrays")
        # Copies, so that an in-place change is seen rather than spreading to other probes.
        args = [inputs[name].copy() for name in probe.args if name != "model"]
        if probe.returns == "compiled_model":
            args = [compile_probe_model()]
        value = func(*args, **kwargs)
        if probe.returns == "arrays":
            call.inputs_after = tuple(np.array(arg, copy=True, subok=False) for arg in args)
            values = value if isinstance(value, tuple) else (value,)
            call.returned = {"tuple": isinstance(value, tuple), "count": len(values),
                             "types": [type(v).__name__ for v in values]}
            call.values = tuple(array_of(v) for v in values)
        else:
            _take_model(call, value)
    except ReturnedNotAnArray as exc:  # the function returned, but not data: not an error it raised
        call.status, call.error = "returned_other", {"type": exc.type_name, "message": str(exc), "where": []}
    except (Exception, SystemExit) as exc:  # a student error (or exit()) is an outcome, not the end of the check
        call.status, call.error = "raised", describe_exception(exc)
    return call


def _take_model(call: Call, value: Any) -> None:
    """Record a returned model as the grader reads it: saved, then loaded back with safe mode and without code."""
    import keras

    call.returned = {"types": [type(value).__name__], "is_keras_model": isinstance(value, keras.Model)}
    if not isinstance(value, keras.Model):
        return
    with tempfile.TemporaryDirectory(prefix="autograder-call-") as folder:
        path = Path(folder) / f"{call.probe.name}.keras"
        value.save(path)
        with zipfile.ZipFile(path) as saved:
            compile_config = json.loads(saved.read("config.json")).get("compile_config")
        call.compile_config = compile_config if isinstance(compile_config, dict) else None
        try:
            call.model = keras.models.load_model(path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many types here: TypeError, ValueError, AttributeError...
            call.status, call.error = "unreadable", {"message": (
                f"Keras could not rebuild the model from its saved config ({type(exc).__name__}: {str(exc)[:300]}). "
                "Hint: use only standard keras layers (no custom classes or Lambda layers).")}
