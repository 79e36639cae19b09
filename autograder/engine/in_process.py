"""Calls made in this process: the student wing's runner.

A student checking their own notebook, and nbgrader's visible test cells (which run in the
student's kernel anyway), need no jail: the functions are called here, and each outcome becomes
a ``Call`` as the grader would see it. The returned model goes through a ``.keras`` file and
Keras' safe mode, as in grading, so a model the grader cannot rebuild fails the self-check too.
The grader itself never uses this module on a submission: it calls the functions in a jailed
child process (``autograder.isolation``).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from autograder.engine.calling import call_for_probe
from autograder.evidence.call_record import Call
from autograder.support.model_allowlist import ModelNotRebuildable, validate_model_config
from autograder.evidence.probes import Probe


def call_here(func: Callable | None, probe: Probe, inputs: dict[str, np.ndarray], kwargs: dict, seed: int = 0) -> Call:
    """Call ``func`` as ``probe`` describes, in this process, and return what it did.

    The call itself is ``autograder.engine.calling.call_for_probe``, the same body as the grader's child
    process; here its outcome becomes a ``Call`` directly instead of files.
    """
    with contextlib.ExitStack() as stack:
        model_path = None
        if probe.returns != "arrays":
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="autograder-call-"))
            model_path = Path(folder) / f"{probe.name}.keras"
        # Timed as the grader's child times a call against limits.call_timeout_s: the function and saving its model.
        started = time.perf_counter()
        outcome = call_for_probe(func, probe, inputs, kwargs, seed, model_path=model_path)
        call = Call(probe, inputs, kwargs, outcome.status, outcome.error, outcome.returned, outcome.values,
                    outcome.inputs_after, seconds=time.perf_counter() - started)
        if outcome.status == "ok" and outcome.model_path is not None:
            _take_model(call, outcome.model_path)
    return call


def _take_model(call: Call, path: Path) -> None:
    """Read a saved model back as the grader reads it: its compile config as JSON, the model with safe mode and without code."""
    import keras

    if not path.exists():  # its save() wrote nothing: as in grading, a model returned but none to read
        return
    try:
        with zipfile.ZipFile(path) as saved:
            config = json.loads(saved.read("config.json"))
        compile_config = config.get("compile_config")
    except (OSError, KeyError, ValueError, AttributeError, zipfile.BadZipFile) as exc:
        call.status, call.error = "unreadable", {"message": f"the saved model is not a .keras file ({type(exc).__name__}: {exc})"}
        return
    call.compile_config = compile_config if isinstance(compile_config, dict) else None
    try:
        validate_model_config(config)  # what the grader refuses to rebuild fails here too
    except ModelNotRebuildable as exc:
        call.status, call.error = "unreadable", {"message": str(exc)}
        return
    try:
        call.model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types here: TypeError, ValueError, AttributeError...
        call.status, call.error = "unreadable", {"message": (
            f"Keras could not rebuild the model from its saved config ({type(exc).__name__}: {str(exc)[:300]}). "
            "Hint: use only standard keras layers (no custom classes or Lambda layers).")}
