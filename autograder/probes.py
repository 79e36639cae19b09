"""Probes: the calls the grader makes to a student's functions, and their recorded outcomes.

A probe names one student function, the inputs it is called with and what it must return.
``call_and_record`` runs in the submission's own process (the sandbox child, or the notebook
kernel under nbgrader) and writes only plain data into a folder: JSON, ``.npz`` arrays (no
pickles) and ``.keras`` model files. ``load_call`` reads that folder back in the grader, loading
models with Keras' safe mode so that no student code comes along.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

from autograder.isolation import untrusted_files
from autograder.i18n import Message, _

Returns = Literal["arrays", "model", "compiled_model"]


@dataclass(frozen=True)
class Probe:
    """One call of a student function: which function, which inputs, what it must return."""

    name: str
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


def _digits(dataset, rng):
    return {"y": np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0], dtype=np.uint8)}


def _all_labels(dataset, rng):
    return {"y": np.concatenate([dataset.y_train, dataset.y_test])}


def _random_labels(dataset, rng):
    return {"y": rng.integers(0, 10, size=int(rng.integers(500, 1500))).astype(np.int64)}


def _indexed(n):
    # Every sample carries its own index, so order, reversal and x/y misalignment are all visible.
    return {"x": np.arange(n * 4, dtype=np.int32).reshape(n, 2, 2), "y": np.arange(n, dtype=np.int32)}


def _indexed_12000(dataset, rng):
    return _indexed(12000)


def _indexed_777(dataset, rng):
    return _indexed(777)


def _mnist_train(dataset, rng):
    return {"x": dataset.x_train, "y": dataset.y_train}


def _small_images(dataset, rng):
    x = rng.integers(0, 256, size=(37, 28, 28)).astype(np.uint8)
    x[0, 0, 0], x[0, 0, 1] = 0, 255  # both ends of the pixel range, so /255 is checkable exactly
    return {"x": x}


def _test_images(dataset, rng):
    return {"x": dataset.x_test}


def _nothing(dataset, rng):
    return {}


PROBES: tuple[Probe, ...] = (
    Probe("relabel_digits", "relabel_odd_even", ("y",), "arrays", _digits),
    Probe("relabel_all_labels", "relabel_odd_even", ("y",), "arrays", _all_labels, hidden=True, needs_dataset=True),
    Probe("relabel_random_labels", "relabel_odd_even", ("y",), "arrays", _random_labels, hidden=True),
    Probe("split_default_n_val", "split_train_val", ("x", "y"), "arrays", _indexed_12000),
    Probe("split_n_val_2000", "split_train_val", ("x", "y"), "arrays", _indexed_12000, kwargs=(("n_val", 2000),)),
    Probe("split_n_val_111_of_777", "split_train_val", ("x", "y"), "arrays", _indexed_777,
          kwargs=(("n_val", 111),), hidden=True),
    Probe("split_training_set", "split_train_val", ("x", "y"), "arrays", _mnist_train, hidden=True,
          n_val_from_course=True, needs_dataset=True),
    Probe("prepare_mlp_37_images", "prepare_mlp_input", ("x",), "arrays", _small_images),
    Probe("prepare_cnn_37_images", "prepare_cnn_input", ("x",), "arrays", _small_images),
    Probe("prepare_mlp_test_set", "prepare_mlp_input", ("x",), "arrays", _test_images, hidden=True, needs_dataset=True),
    Probe("prepare_cnn_test_set", "prepare_cnn_input", ("x",), "arrays", _test_images, hidden=True, needs_dataset=True),
    Probe("build_mlp", "build_mlp", (), "model", _nothing, model_input=(784,)),
    Probe("build_cnn", "build_cnn", (), "model", _nothing, model_input=(28, 28, 1)),
    Probe("build_deep_cnn", "build_deep_cnn", (), "model", _nothing, model_input=(28, 28, 1)),
    # compile_model gets the reference MLP, so a wrong builder cannot fail the compile group.
    Probe("compile_reference_mlp", "compile_model", ("model",), "compiled_model", _nothing),
)
PROBES_BY_NAME = {p.name: p for p in PROBES}


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


# ---------------------------------------------------------------- in the submission's process


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


def statement_problem(statement: dict, err: dict) -> str:
    """What a failing top-level statement of the notebook did, with a hint where one is known."""
    first = statement["source"].strip().splitlines()[0][:80]
    text = (f"cell {statement['cell']}, line {statement['line']} (`{first}`) raised {err['type']}: "
            f"{str(err['message']).rstrip('.')}. The grader ran the rest of the cell without it")
    hint = keras2_hint(err.get("message", ""))
    return text + (f". Hint: {hint}" if hint is not None else ".")


class ReturnedNotAnArray(TypeError):
    """The function returned something that is not numeric array data (None, a dict, objects)."""

    def __init__(self, value: Any):
        super().__init__(f"returned {type(value).__name__} that is not a numeric array")
        self.type_name = type(value).__name__


def _array_of(value: Any) -> np.ndarray:
    # A plain numeric ndarray copy: subclasses, lists and tensors become data, objects are refused.
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    arr = np.array(value, copy=True, subok=False)
    if arr.dtype == object:
        raise ReturnedNotAnArray(value)
    return arr


def call_and_record(func: Callable | None, probe: Probe, inputs: dict[str, np.ndarray], kwargs: dict,
                    outdir: Path, reference_model_path: Path | None = None, seed: int = 0) -> None:
    """Call ``func`` as ``probe`` describes and write the outcome into ``outdir`` as plain data."""
    outdir = Path(outdir)
    owner = os.getpid()
    record: dict[str, Any] = {"probe": probe.name, "function": probe.function}
    arrays: dict[str, np.ndarray] = {}
    try:
        if func is None:
            record["status"] = "missing"
        elif not callable(func):
            record.update(status="missing", error={"type": "TypeError", "message": f"{probe.function} is a "
                          f"{type(func).__name__}, not a function", "where": []})
        else:
            if probe.returns != "arrays" or "keras" in sys.modules:
                import keras

                keras.utils.set_random_seed(seed)
            else:  # a numpy-only notebook is not made to import TensorFlow (seconds) just to be seeded
                random.seed(seed)
                np.random.seed(seed)
            # Copies, so that an in-place change is recorded rather than spreading to other probes.
            args = [inputs[name].copy() for name in probe.args if name != "model"]
            if probe.returns == "compiled_model":
                import keras

                args = [keras.models.load_model(reference_model_path, compile=False, safe_mode=True)]
            value = func(*args, **kwargs)
            if probe.returns == "arrays":
                for i, arg in enumerate(args):
                    arrays[f"input_after_{i}"] = np.array(arg, copy=True, subok=False)
                values = value if isinstance(value, tuple) else (value,)
                record["returned"] = {"tuple": isinstance(value, tuple), "count": len(values),
                                      "types": [type(v).__name__ for v in values]}
                for i, v in enumerate(values):
                    arrays[f"returned_{i}"] = _array_of(v)
                record["status"] = "ok"
            else:
                import keras

                record["returned"] = {"types": [type(value).__name__],
                                      "is_keras_model": isinstance(value, keras.Model)}
                if isinstance(value, keras.Model):
                    value.save(outdir / f"{probe.name}.keras")
                    if probe.returns == "compiled_model":
                        record["compiled"] = bool(getattr(value, "compiled", False))
                record["status"] = "ok"
    except ReturnedNotAnArray as exc:  # the function returned, but not data: not an error it raised
        record.update(status="returned_other", error={"type": exc.type_name, "message": str(exc), "where": []})
    except Exception as exc:  # a student error is an outcome, not a crash of the grader
        record.update(status="raised", error=describe_exception(exc))
    if os.getpid() != owner:
        os._exit(0)  # a process the student forked: only the one that made the call may report it
    if arrays:
        np.savez(outdir / f"{probe.name}.npz", **arrays)
    (outdir / f"{probe.name}.json").write_text(json.dumps(record, default=str))


# ---------------------------------------------------------------- in the grader's process


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
            detail = f" ({self.error['message']})" if self.error else ""
            return _("{fn} is not defined in the notebook{detail}. Hint: keep the function name and "
                     "signature from the stub, and check that its cell has no syntax error.").format(fn=fn, detail=detail)
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
        return _("{fn} uses a name that is not defined. The grader runs only the notebook's imports, "
                 "function definitions and constants, not the cells that load data or train.").format(fn=fn)
    if error_type == "ValueError" and fn.startswith("prepare"):
        return _("reshape with the number of images you were given (len(x) or -1), not a fixed 60000.")
    return _("run {fn} on a small input in the notebook and read the error.").format(fn=fn)


def load_call(probe: Probe, inputs: dict[str, np.ndarray], kwargs: dict, outdir: Path) -> Call:
    """Read the outcome that ``call_and_record`` wrote for ``probe`` (never unpickling anything).

    The files come from the submission's process, so each is bounded before it is read
    (``untrusted_files``): a file larger than a correct answer could be costs this call only.
    """
    outdir = Path(outdir)
    record_path = outdir / f"{probe.name}.json"
    if not os.path.lexists(record_path):
        return Call(probe, inputs, kwargs, "crashed", {"message": "no result was written"})
    try:
        record = untrusted_files.read_json(record_path)
        if not isinstance(record, dict):
            raise TypeError("the record is not a JSON object")
        error, returned = record.get("error"), record.get("returned") or {}
        if error is not None and not isinstance(error, dict) or not isinstance(returned, dict):
            raise TypeError("the record's error or returned entry is not a JSON object")
        call = Call(probe, inputs, kwargs, str(record["status"]), error, returned)
        npz = outdir / f"{probe.name}.npz"
        if os.path.lexists(npz):
            data = untrusted_files.read_npz(npz, untrusted_files.npz_member_limit(inputs))
            n_ret = len([k for k in data if k.startswith("returned_")])
            n_in = len([k for k in data if k.startswith("input_after_")])
            call.values = tuple(data[f"returned_{i}"] for i in range(n_ret))
            call.inputs_after = tuple(data[f"input_after_{i}"] for i in range(n_in))
        model_path = outdir / f"{probe.name}.keras"
        if call.status == "ok" and os.path.lexists(model_path):
            keras_file = untrusted_files.read_keras(model_path)
            call.compile_config = read_compile_config(keras_file)
            call.model = load_model_safely(keras_file, model_input=probe.model_input)
    except ModelNotRebuildable as exc:
        call.status, call.error = "unreadable", {"message": str(exc)}
    except untrusted_files.UntrustedFileError as exc:
        return Call(probe, inputs, kwargs, "unreadable", {"message": exc.message})
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        return Call(probe, inputs, kwargs, "unreadable", {"message": f"{type(exc).__name__}: {exc}"})
    return call


class ModelNotRebuildable(ValueError):
    """A saved model needs code that the grader does not have (custom layers, lambdas)."""


# Layers a submission's model may use: Keras' own, nothing that carries code (Lambda, custom classes).
ALLOWED_LAYERS = frozenset({
    "InputLayer", "Dense", "Conv2D", "Conv1D", "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D",
    "GlobalAveragePooling2D", "Flatten", "Reshape", "Dropout", "SpatialDropout2D", "Activation", "ReLU",
    "LeakyReLU", "BatchNormalization", "LayerNormalization", "Rescaling", "ZeroPadding2D",
})
ALLOWED_MODELS = frozenset({"Sequential", "Functional"})


def validate_model_config(model: Path | untrusted_files.KerasFile) -> None:
    """Refuse a saved model whose config names anything but Keras' own models and plain layers."""
    config = _keras_file(model).config
    problems = []

    def visit(entry: dict, where: str) -> None:
        name, module = entry.get("class_name"), str(entry.get("module") or "")
        if entry.get("registered_name") not in (None, name) or (module and not module.startswith("keras")):
            problems.append(f"{where} is a custom class ({entry.get('registered_name') or name}, module {module!r})")
        for layer in (entry.get("config") or {}).get("layers", []) or []:
            layer_name = layer.get("class_name")
            if layer_name in ALLOWED_MODELS:
                visit(layer, f"nested model {layer_name}")
            elif layer_name not in ALLOWED_LAYERS:
                problems.append(f"layer {layer.get('config', {}).get('name', '?')} is a {layer_name}")
            elif str(layer.get("module") or "keras").split(".")[0] != "keras" or layer.get("registered_name") not in (None, layer_name):
                problems.append(f"layer {layer.get('config', {}).get('name', '?')} claims to be {layer_name} but is "
                                f"{layer.get('registered_name')} from {layer.get('module')!r}")

    if config.get("class_name") not in ALLOWED_MODELS:
        problems.append(f"the model is a {config.get('class_name')}, not keras.Sequential or a functional model")
    visit(config, "the model")
    if problems:
        raise ModelNotRebuildable(
            f"the saved model uses what the grader does not rebuild: {'; '.join(problems[:3])}. Hint: build it "
            f"with keras.Sequential and Keras' own layers ({', '.join(sorted(ALLOWED_LAYERS)[:6])}, ...)."
        )


def _keras_file(model: Path | untrusted_files.KerasFile) -> untrusted_files.KerasFile:
    return model if isinstance(model, untrusted_files.KerasFile) else untrusted_files.read_keras(Path(model))


def read_compile_config(model: Path | untrusted_files.KerasFile) -> dict | None:
    """The ``compile_config`` entry of a ``.keras`` file, read as JSON without building anything."""
    compile_config = _keras_file(model).config.get("compile_config")
    return compile_config if isinstance(compile_config, dict) else None


def load_model_safely(model: Path | untrusted_files.KerasFile, model_input: tuple[int, ...] | None = None):
    """Load a ``.keras`` file with safe mode and without its compile state, after validating its config.

    The file is read once, bounded (``untrusted_files.read_keras``); its classes are checked against
    the allowlist, its size is counted from the config without allocating a weight and its weights
    file checked against that count, and Keras then loads the very bytes that were checked.
    """
    import keras

    keras_file = _keras_file(model)
    validate_model_config(keras_file)
    try:
        size = untrusted_files.model_size(keras_file.config, model_input)
    except untrusted_files.UntrustedFileError:
        raise
    except Exception as exc:  # Keras cannot build this config: it could not load it either
        raise ModelNotRebuildable(
            f"Keras could not rebuild the model from its saved config ({type(exc).__name__}: "
            f"{str(exc)[:300]}). Hint: use only standard keras layers (no custom classes or Lambda layers)."
        ) from None
    untrusted_files.check_weights(keras_file, size)
    try:
        # From the grader's own copy of the checked bytes, not the submission's file (which may change).
        with tempfile.TemporaryDirectory(prefix="autograder-model-") as private:
            copy = Path(private) / "model.keras"
            copy.write_bytes(keras_file.data)
            return keras.models.load_model(copy, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types here: TypeError, ValueError, AttributeError...
        raise ModelNotRebuildable(
            f"Keras could not rebuild the model from its saved config ({type(exc).__name__}: "
            f"{str(exc)[:300]}). Hint: use only standard keras layers (no custom classes or Lambda layers)."
        ) from None
