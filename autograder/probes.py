"""Probes: the calls made to a student's functions, and what each call did (the contract of the checks).

A probe names one student function, the inputs it is called with and what it must return; a
``Call`` is what that call did, as plain data and a model. This module holds the VISIBLE probes
only: the hidden ones, and their inputs, are the instructor's (``autograder.grader.hidden_probes``).
Who makes the calls is not decided here: ``autograder.in_process`` calls functions in this process
(a student's self-check, nbgrader's visible test cells), ``autograder.isolation`` in a jailed child.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

from autograder.i18n import Message, _

Returns = Literal["arrays", "model", "compiled_model"]


@dataclass(frozen=True)
class Probe:
    """One call of a student function: which function, which inputs, what it must return."""

    name: str
    # The group whose check cell makes this call, and whose rules (``autograder.checks``) examine it.
    group: str
    function: str
    args: tuple[str, ...]
    returns: Returns
    make_inputs: Callable[[Any, np.random.Generator], dict[str, np.ndarray]] = field(repr=False)
    kwargs: tuple[tuple[str, int], ...] = ()
    hidden: bool = False
    # Called with n_val=<the course's validation size> instead of a fixed number.
    n_val_from_course: bool = False
    # Its inputs come from the data set (MNIST): only these probes make the grader load it.
    needs_dataset: bool = False
    # The input the returned model is trained on: a model saved without an input shape is sized on it.
    model_input: tuple[int, ...] | None = None
    # Its inputs carry their own index (``_indexed``): whether x and y stay aligned can be seen.
    inputs_carry_their_index: bool = False


def _digits(dataset, rng):
    return {"y": np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0], dtype=np.uint8)}


def _indexed(n):
    # Every sample carries its own index, so order, reversal and x/y misalignment are all visible.
    return {"x": np.arange(n * 4, dtype=np.int32).reshape(n, 2, 2), "y": np.arange(n, dtype=np.int32)}


def _indexed_12000(dataset, rng):
    return _indexed(12000)


def _small_images(dataset, rng):
    x = rng.integers(0, 256, size=(37, 28, 28)).astype(np.uint8)
    x[0, 0, 0], x[0, 0, 1] = 0, 255  # both ends of the pixel range, so /255 is checkable exactly
    return {"x": x}


def _nothing(dataset, rng):
    return {}


VISIBLE_PROBES: tuple[Probe, ...] = (
    Probe("relabel_digits", "relabel", "relabel_odd_even", ("y",), "arrays", _digits),
    Probe("split_default_n_val", "split", "split_train_val", ("x", "y"), "arrays", _indexed_12000,
          inputs_carry_their_index=True),
    Probe("split_n_val_2000", "split", "split_train_val", ("x", "y"), "arrays", _indexed_12000,
          kwargs=(("n_val", 2000),), inputs_carry_their_index=True),
    Probe("prepare_mlp_37_images", "prepare", "prepare_mlp_input", ("x",), "arrays", _small_images),
    Probe("prepare_cnn_37_images", "prepare", "prepare_cnn_input", ("x",), "arrays", _small_images),
    Probe("build_mlp", "mlp", "build_mlp", (), "model", _nothing, model_input=(784,)),
    Probe("build_cnn", "cnn", "build_cnn", (), "model", _nothing, model_input=(28, 28, 1)),
    Probe("build_deep_cnn", "deep_cnn", "build_deep_cnn", (), "model", _nothing, model_input=(28, 28, 1)),
    # compile_model gets the lecture's MLP, so a wrong builder cannot fail the compile group.
    Probe("compile_reference_mlp", "compile", "compile_model", ("model",), "compiled_model", _nothing),
    # The accuracy group's own calls of the builders, made where its check cells run (the end of the
    # notebook), as nbgrader's accuracy cells call them: a builder fixed below its own check cell counts here.
    Probe("build_mlp_for_accuracy", "accuracy", "build_mlp", (), "model", _nothing, model_input=(784,)),
    Probe("build_cnn_for_accuracy", "accuracy", "build_cnn", (), "model", _nothing, model_input=(28, 28, 1)),
    Probe("build_deep_cnn_for_accuracy", "accuracy", "build_deep_cnn", (), "model", _nothing, model_input=(28, 28, 1)),
)
VISIBLE_PROBES_BY_NAME = {p.name: p for p in VISIBLE_PROBES}


def probe_kwargs(probe: Probe, n_val: int) -> dict[str, int]:
    """Keyword arguments of the call, with the course's validation size where the probe asks for it."""
    kwargs = dict(probe.kwargs)
    if probe.n_val_from_course:
        kwargs["n_val"] = n_val
    return kwargs


def make_inputs(probe: Probe, dataset, seed: int) -> dict[str, np.ndarray]:
    """The probe's input arrays, the same for the same data set and seed."""
    rng = np.random.default_rng([seed, sum(map(ord, probe.name))])
    return probe.make_inputs(dataset, rng)


# ---------------------------------------------------------------- what a call did, as data


def describe_exception(exc: BaseException, student_files: tuple[str, ...] = ("<cell",)) -> dict:
    """Type, message and the student's part of the traceback of an exception, as plain data.

    Only the student's frames (their cells and lines) are kept, and the grading machine's paths
    (its Python installation, the kit, its work folders) are taken out of the message.
    """
    frames = [
        f"  {fs.filename}, line {fs.lineno}, in {fs.name}: {(fs.line or '').strip()}"
        for fs in traceback.extract_tb(exc.__traceback__)
        if fs.filename.startswith(student_files)
    ]
    return {"type": type(exc).__name__, "message": without_machine_paths(str(exc))[:2000], "where": frames[-5:]}


def _machine_prefixes() -> list[str]:
    """Folders of the grading machine whose names mean nothing to a student, longest first."""
    import site
    import sysconfig
    import tempfile

    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, tempfile.gettempdir(), os.getcwd(),
             str(Path(__file__).resolve().parent.parent), os.path.expanduser("~")}
    found.update(sysconfig.get_paths().values())
    try:
        found.update(site.getsitepackages())
    except AttributeError:  # some virtual environments' site module lacks it
        pass
    found.update(p for p in sys.path if p and os.path.isabs(p))
    return sorted({str(p).rstrip("/") for p in found if p and len(str(p)) > 1}, key=len, reverse=True)


def without_machine_paths(text: str) -> str:
    """``text`` with the grading machine's folders taken out of any path in it.

    ``cannot import name 'np_utils' from 'keras.utils' (/usr/lib/.../keras/utils/__init__.py)`` becomes
    ``cannot import name 'np_utils' from 'keras.utils'``: the module is named already. Other paths keep
    only their part below the machine's folders (``keras/utils/__init__.py``).
    """
    import re

    text = re.sub(r"(cannot import name .*? from '[\w.]+') \((?:/[^()]*|unknown location)\)", r"\1", text)
    for prefix in _machine_prefixes():
        if prefix in text:
            text = re.sub(re.escape(prefix) + r"(?:/|\b)", "", text)
    return text


def keras2_hint(message: str) -> Message | None:
    """A hint for an error that comes from using Keras 2's API under Keras 3 (None for other errors)."""
    if "np_utils" in message:
        return _("keras.utils.np_utils is Keras 2's API and no longer exists in Keras 3. This exercise does not "
                 "need it (the labels stay 0/1 for one sigmoid output); delete the import. If you want "
                 "to_categorical elsewhere, it now lives in keras.utils: from keras.utils import to_categorical.")
    if "not recognized" in message and ("'lr'" in message or "'decay'" in message):
        return _("lr= and decay= are Keras 2's optimizer arguments; Keras 3 calls the learning rate "
                 "learning_rate= (e.g. keras.optimizers.SGD(learning_rate=0.01)) and has no decay=.")
    if "No module named 'keras." in message and any(f"keras.{m}" in message for m in
                                                      ("layers.core", "layers.convolutional", "engine", "wrappers")):
        return _("that module path is Keras 2's layout; in Keras 3 import the layers from keras.layers "
                 "(e.g. from keras import layers, then layers.Dense).")
    if "predict_classes" in message:
        return _("predict_classes is Keras 2's API; in Keras 3 use (model.predict(x) > 0.5).astype('int32') "
                 "for one sigmoid output.")
    return None


class ReturnedNotAnArray(TypeError):
    """The function returned something that is not numeric array data (None, a dict, objects)."""

    def __init__(self, value: Any):
        super().__init__(f"returned {type(value).__name__} that is not a numeric array")
        self.type_name = type(value).__name__


def array_of(value: Any) -> np.ndarray:
    # A plain numeric ndarray copy: subclasses, lists and tensors become data, objects are refused.
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    arr = np.array(value, copy=True, subok=False)
    if arr.dtype == object:
        raise ReturnedNotAnArray(value)
    return arr


@dataclass
class Call:
    """What one probe's call did, as the grader sees it (plain data and safely loaded models)."""

    probe: Probe
    inputs: dict[str, np.ndarray]
    kwargs: dict[str, int]
    status: str  # ok | raised | returned_other | missing | crashed | timeout | unreadable
    error: dict | None = None
    returned: dict = field(default_factory=dict)
    values: tuple[np.ndarray, ...] = ()
    inputs_after: tuple[np.ndarray, ...] = ()
    model: Any = None
    compile_config: dict | None = None
    # Seconds the call took (the function and saving its model), where it was timed: the self-check's calls.
    seconds: float | None = None
    # The returned model's training under the grading protocol, with the bar it must reach (a
    # ``training.ProtocolTraining``): given by the session that applies the checks, since training is its
    # work on its data, and run when a check asks for it (the accuracy check). None outside a session.
    train_under_protocol: Callable[[], Any] | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        parts = list(self.probe.args) + [f"{k}={v}" for k, v in self.kwargs.items()]
        return f"{self.probe.function}({', '.join(parts)})"

    def failure_reason(self) -> Message | None:
        """Why the call produced nothing to check (None when it returned normally)."""
        if self.status == "ok":
            return None
        fn = self.probe.function
        if self.status == "missing":
            if self.error and self.error.get("reason"):  # why the runner found no function (notebook_runner.why_missing)
                return self.error["message"]
            if self.error:  # the name is bound, but not to a function
                return _("{detail}. Hint: keep {fn} a function with the name and arguments the stub has.").format(
                    fn=fn, detail=self.error["message"])
            return _("{name} is not defined in the notebook. Hint: keep the function's name and arguments as the stub "
                     "has them.").format(name=fn)
        if self.status == "returned_other":
            returned = (self.error or {}).get("type", "?")
            if returned == "NoneType":
                hint = _("{fn} returns nothing: end it with `return` and the result (a function without "
                         "`return` gives None).").format(fn=fn)
            else:
                hint = _("return the numpy array itself (np.asarray(...) turns a list of numbers into one).")
            return _("{call} returned {returned}, not a numeric array. Hint: {hint}").format(
                call=self.text, returned=returned, hint=hint)
        if self.status == "raised":
            err = self.error or {}
            where = ("\n" + "\n".join(err.get("where", []))) if err.get("where") else ""
            hint = _hint_for(err.get("type", ""), fn, err.get("message", ""))
            message = f": {err['message']}" if err.get("message") else ""
            return _("{call} raised {error}{message}{where}\nHint: {hint}").format(
                call=self.text, error=err.get("type"), message=message, where=where, hint=hint)
        if self.status == "timeout":
            return _("{call} did not finish within the time limit ({detail}). "
                     "Hint: look for an endless loop or training inside {fn}.").format(
                call=self.text, detail=self.error["message"], fn=fn)
        if self.status == "crashed":
            return _("the submission's process ended while running {call} ({detail}). "
                     "Hint: don't call exit() or kill the process inside {fn}.").format(
                call=self.text, detail=self.error["message"], fn=fn)
        return _("{call} produced a result the grader cannot read: {detail}").format(
            call=self.text, detail=self.error["message"])

    def require_ok(self) -> None:
        """Raise AssertionError with the reason when the call did not return normally."""
        reason = self.failure_reason()
        if reason:
            raise AssertionError(reason)


def _hint_for(error_type: str, fn: str, message: str = "") -> Message:
    keras2 = keras2_hint(message)
    if keras2 is not None:
        return keras2
    if error_type == "NotImplementedError":
        return _("{fn} is still the stub: replace `raise NotImplementedError()` with your code.").format(fn=fn)
    if error_type == "NameError":
        return _("{fn} uses a name that is not defined where its check cell runs. The grader runs the notebook's "
                 "cells in order up to there, but not the provided cells that load data, train or plot: pass what "
                 "{fn} needs as an argument, or define it in a cell above.").format(fn=fn)
    if error_type == "ValueError" and fn.startswith("prepare"):
        return _("reshape with the number of images you were given (len(x) or -1), not a fixed 60000.")
    return _("run {fn} on a small input in the notebook and read the error.").format(fn=fn)
