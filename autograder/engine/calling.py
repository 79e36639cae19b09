"""Calling a student's function for a probe: the one body behind every way the kit makes a call.

``call_for_probe`` makes the call and says what it did as plain data (an ``Outcome``). Two
runners turn that into what they need: ``autograder.engine.in_process.call_here`` into a ``Call`` in the
student's own process (the self-check, nbgrader's visible test cells), and
``autograder.isolation.recording.call_and_record`` into files (the jailed child, nbgrader's hidden
test cells). So both catch the same exceptions, seed the same way, hand compile_model the same
model and record the same outcome.

- A student's error, and their ``exit()`` (``SystemExit``), is the call's outcome ``raised``, not
  the end of the process; ``KeyboardInterrupt`` (and other ``BaseException``) still propagates.
- Python, numpy and (where it is used) Keras are seeded before each call (``seed_everything``).
- compile_model is called on the lecture's MLP built from its config kept as data
  (``autograder.expected``), available wherever the call is made.
- A process the student forked while their function ran ends there (``os._exit(0)``): only the
  process that made the call records it.
"""

from __future__ import annotations

import json
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from autograder.messages.error_text import describe_exception
from autograder.evidence.probes import Probe


class ReturnedNotAnArray(TypeError):
    """The function returned something that is not numeric array data (None, a dict, objects, a ragged list)."""

    def __init__(self, value: Any, ragged: bool = False):
        super().__init__(f"returned {type(value).__name__} that is not a numeric array" + (
            " (numpy cannot make one array of its items, of different shapes)" if ragged else ""))
        self.type_name = type(value).__name__
        # Which of several returned values it is: (position from 1, count), set by the caller.
        self.position: tuple[int, int] | None = None
        # A list (or tuple) whose items have different shapes: how many, and the first shapes, for the message.
        self.items: dict | None = None
        if ragged and isinstance(value, (list, tuple)):
            self.items = {"length": len(value), "shapes": [_shape_text(v) for v in value[:5]],
                          "arrays": all(isinstance(v, np.ndarray) or hasattr(v, "numpy") for v in value)}


def _shape_text(value: Any) -> str:
    try:
        return str(np.shape(value))
    except (ValueError, TypeError):  # an item that is itself ragged
        return "?"


def array_of(value: Any) -> np.ndarray:
    # A plain numeric ndarray copy: subclasses, lists and tensors become data, objects are refused.
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    try:
        arr = np.array(value, copy=True, subok=False)
    except (ValueError, TypeError) as exc:
        # The function did return: numpy cannot make one array of what it returned (a list of arrays of
        # different shapes), which is no error the student's function raised.
        raise ReturnedNotAnArray(value, ragged=True) from exc
    if arr.dtype == object:
        raise ReturnedNotAnArray(value)
    return arr


def returned_values(value: Any, expected: int) -> tuple[Any, ...]:
    """The values a function's return stands for: a tuple's items; with ``expected`` > 1 also a list's (any
    sequence's), as `a, b, c, d = f(...)` unpacks either; else the one value itself (a list of numbers is one
    array)."""
    if isinstance(value, tuple):
        return value
    if expected > 1 and isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        return tuple(value)
    return (value,)


@dataclass
class Outcome:
    """What one call did, as plain data and the returned model (before any runner records it)."""

    status: str  # ok | raised | returned_other | missing
    error: dict | None = None
    returned: dict = field(default_factory=dict)
    values: tuple[np.ndarray, ...] = ()
    inputs_after: tuple[np.ndarray, ...] = ()
    # The keras.Model the function returned (model probes), and the .keras file it was saved to.
    model: Any = None
    model_path: Path | None = None
    # For compile_model: whether the returned model says it is compiled.
    compiled: bool | None = None


def seed_everything(seed: int, with_keras: bool) -> None:
    """Seed Python, numpy and (when it is needed or already imported) Keras, before each call."""
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


def _only_the_caller_goes_on(owner: int) -> None:
    if os.getpid() != owner:
        os._exit(0)  # a process the student forked: only the one that made the call may report it


def call_for_probe(func: Callable | None, probe: Probe, inputs: dict[str, np.ndarray], kwargs: dict,
                   seed: int = 0, model_path: Path | None = None) -> Outcome:
    """Call ``func`` as ``probe`` describes and return what it did.

    A returned ``keras.Model`` is saved to ``model_path`` (needed for model probes) as part of the
    call, so that a model Keras cannot save is the call's outcome too.
    """
    if func is None:
        return Outcome("missing")
    if not callable(func):
        return Outcome("missing", {"type": "TypeError", "message": f"{probe.function} is a "
                                   f"{type(func).__name__}, not a function", "where": []})
    if probe.returns != "arrays" and model_path is None:
        raise ValueError(f"probe {probe.name} returns a model: give call_for_probe a model_path to save it to")
    owner = os.getpid()
    outcome = Outcome("ok")
    try:
        seed_everything(seed, with_keras=probe.returns != "arrays")
        # Copies, so that an in-place change is recorded rather than spreading to other probes.
        args = [inputs[name].copy() for name in probe.args if name != "model"]
        if probe.returns == "compiled_model":
            args = [compile_probe_model()]
        try:
            value = func(*args, **kwargs)
        finally:
            _only_the_caller_goes_on(owner)
        if probe.returns == "arrays":
            outcome.inputs_after = tuple(np.array(arg, copy=True, subok=False) for arg in args)
            values = returned_values(value, probe.values)
            # "tuple": a single-array function that returned a tuple is told so (checks._compare.returned_arrays).
            outcome.returned = {"tuple": isinstance(value, tuple), "count": len(values),
                                "types": [type(v).__name__ for v in values]}
            for position, v in enumerate(values, start=1):  # one by one: what came before a value that is not data is kept
                try:
                    outcome.values += (array_of(v),)
                except ReturnedNotAnArray as exc:
                    if len(values) > 1:
                        exc.position = (position, len(values))
                    raise
        else:
            import keras

            outcome.returned = {"types": [type(value).__name__], "is_keras_model": isinstance(value, keras.Model)}
            if isinstance(value, keras.Model):
                outcome.model = value
                if probe.returns == "compiled_model":
                    outcome.compiled = bool(getattr(value, "compiled", False))
                value.save(model_path)
                outcome.model_path = Path(model_path)
    except ReturnedNotAnArray as exc:  # the function returned, but not data: not an error it raised
        outcome.status, outcome.error = "returned_other", {"type": exc.type_name, "message": str(exc), "where": []}
        if exc.items:
            outcome.error["items"] = exc.items
        if exc.position:
            outcome.error["position"] = list(exc.position)
    except (Exception, SystemExit) as exc:  # a student error (or exit()) is an outcome, not the end of the process
        outcome.status, outcome.error = "raised", describe_exception(exc)
    # Recording the result may have run the student's code again (a value's .numpy(), a model's get_config).
    _only_the_caller_goes_on(owner)
    return outcome
