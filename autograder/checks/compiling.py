"""Checks of compile_model(model): binary cross-entropy, SGD, and the accuracy metric.

The checks read the ``compile_config`` that Keras saves in the ``.keras`` file, as JSON, and
resolve each entry to its meaning by name, inside Keras' own public modules only: nothing named
by the file is imported, deserialised or run. What Keras 3 (3.15) saves for each spelling, as
``tests/test_checks_compile.py`` compiles and saves them:

loss
  ``'binary_crossentropy'``, ``'bce'``, ``'BCE'``, ``'BinaryCrossentropy'``, ``'crossentropy'``,
  ``'ce'``: the string as written (Keras reads ``'crossentropy'``/``'ce'`` as binary cross-entropy
  for one output unit). ``['binary_crossentropy']`` or ``{output: ...}``: the list or dict, per output.
  ``keras.losses.BinaryCrossentropy(...)`` (``tf.keras.losses`` too): ``{"module": "keras.losses",
  "class_name": "BinaryCrossentropy", "config": {"from_logits": false, "label_smoothing": 0.0, ...},
  "registered_name": null}``.
  ``keras.losses.binary_crossentropy``, ``keras.metrics.binary_crossentropy``,
  ``tf.keras.losses.binary_crossentropy``: ``{"module": "builtins", "class_name": "function",
  "config": "binary_crossentropy", "registered_name": "function"}``. Every plain function is saved
  so, a student's own too: the name is all the file keeps, and Keras reloads it as its own function
  of that name, so that is the meaning read here. A registered function keeps ``"package>name"``.
  ``keras.metrics.BinaryCrossentropy()``: ``{"module": "keras.metrics", ...}``; compiles, but
  fit() fails (a metric has no gradient). A custom class: ``{"module": <its module or null>,
  "class_name": "MyLoss", "registered_name": "MyLoss" or "package>MyLoss"}``. A lambda:
  ``{"class_name": "__lambda__", "config": {"value": [<bytecode>, ...]}}``.
  The class ``keras.losses.BinaryCrossentropy`` itself: Keras refuses it in compile() (TypeError).
optimizer
  Always the instance Keras made: ``'sgd'``, ``'SGD'``, ``keras.optimizers.SGD(...)``,
  ``tf.keras.optimizers.SGD()``: ``{"module": "keras.optimizers", "class_name": "SGD", "config":
  {"learning_rate": ..., "momentum": ..., ...}, "registered_name": null}``; ``'adam'``: the same
  with ``"class_name": "Adam"``. The class ``keras.optimizers.SGD`` itself: Keras refuses it (ValueError).
metrics (and ``weighted_metrics``)
  A list, a dict ``{output: entry or [entries]}`` or nested lists ``[[...]]``, kept as given; a bare
  string is refused by Keras. ``'accuracy'``, ``'acc'`` (any case), ``'binary_accuracy'``: the
  string (Keras reads ``'accuracy'``/``'acc'`` as binary accuracy for one output unit).
  ``keras.metrics.BinaryAccuracy()``: ``{"module": "keras.metrics", "class_name": "BinaryAccuracy",
  "config": {"name": ..., "threshold": 0.5, ...}, ...}``. ``keras.metrics.binary_accuracy``: the
  function form above with ``"config": "binary_accuracy"``. ``keras.metrics.Accuracy()``:
  ``"class_name": "Accuracy"``, which counts exact equality of prediction and label, so it stays
  near 0 for sigmoid probabilities: not the lecture's metric.

compile_model is called on the lecture's MLP (one sigmoid unit), which is how 'accuracy' and
'crossentropy' are read.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

from autograder.evidence.call_record import Call
from autograder.checks.registry import rule
from autograder.messages.i18n import Message, _

# How many entries of a metrics structure are read and shown (the file comes from the submission).
_MAX_ENTRIES, _MAX_DEPTH, _MAX_SHOWN = 50, 6, 8
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")


@dataclass(frozen=True)
class Meaning:
    """What one serialised loss, optimizer or metric entry is, read from its saved form.

    ``name`` is Keras' own name for it ('binary_crossentropy', 'SGD', 'binary_accuracy'), or None when
    it is not one of Keras' own (then ``shown`` says what it is). ``kind`` is 'loss', 'metric' or
    'optimizer' for an instance of a Keras class (``config`` holds its settings), '' otherwise.
    """

    name: str | None
    shown: str | Message
    kind: str = ""
    config: dict = field(default_factory=dict)


def _snake(class_name: str) -> str:
    """Keras' snake_case of a class name (BinaryCrossentropy -> binary_crossentropy), as keras names them."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _safe(value, limit: int = 60) -> str:
    """A name read from the file, fit to show: printable characters only, at most ``limit`` of them."""
    text = "".join(ch for ch in str(value) if ch.isprintable())
    return text if len(text) <= limit else text[:limit] + "…"


def _quoted(name: str) -> str:
    return f"'{name}'"


def _public(module, name, base=None):
    """``module.name`` when it is one of Keras' own classes (derived from ``base``) or functions, else None.

    Only a plain attribute of Keras' public module: the file names it, so nothing else is looked up.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return None
    obj = getattr(module, name, None)
    if not str(getattr(obj, "__module__", "")).startswith("keras."):
        return None
    if base is None:
        return obj if inspect.isfunction(obj) else None
    return obj if inspect.isclass(obj) and issubclass(obj, base) else None


def _custom(entry: dict) -> Meaning:
    """A saved entry that is not one of Keras' own objects: a lambda, a custom or registered class or function."""
    class_name = entry.get("class_name")
    if class_name == "__lambda__":
        return Meaning(None, _("a lambda (the file keeps only its bytecode)"))
    if class_name == "function":
        return Meaning(None, _("the function '{name}'").format(name=_safe(entry.get("config"))))
    return Meaning(None, _("the custom class '{name}'").format(name=_safe(entry.get("registered_name") or class_name)))


def _unknown(value) -> Meaning:
    """A saved entry that names nothing Keras knows (Keras compiles it, and fails when it trains)."""
    if isinstance(value, str):
        return Meaning(None, _("'{name}', a name Keras does not know").format(name=_safe(value)))
    return Meaning(None, _("the value {value}").format(value=_safe(value)))


def _from_string(name: str, getter) -> Meaning:
    """A string entry through Keras' own name table (``keras.losses.get``/``keras.metrics.get``)."""
    try:
        obj = getter(name)
    except Exception:  # Keras refuses unknown names with ValueError; a class that needs arguments with TypeError
        obj = None
    resolved = obj if inspect.isfunction(obj) else type(obj)
    if obj is None or not str(getattr(resolved, "__module__", "")).startswith("keras."):
        return _unknown(name)
    canonical = obj.__name__ if inspect.isfunction(obj) else _snake(type(obj).__name__)
    return Meaning(canonical, _quoted(canonical))


def _from_function(entry: dict, *modules: tuple[str, object]) -> Meaning | None:
    """A saved function entry, when its name is one of Keras' own functions in ``modules`` ((saved name, module)).

    Keras 3 saves every plain function with module 'builtins'; older versions saved the public module.
    """
    name = entry.get("config")
    if entry.get("module") not in ("builtins", *(saved for saved, _module in modules)):
        return None
    if any(_public(module, name) is not None for _saved, module in modules):
        return Meaning(name, _quoted(name))
    return None


def _from_class(entry: dict, public: str, module, base, kind: str) -> Meaning | None:
    """A saved instance of one of Keras' own classes of ``module`` (saved as module ``public``, derived from ``base``)."""
    if entry.get("module") != public or entry.get("registered_name") is not None:
        return None
    cls = _public(module, entry.get("class_name"), base)
    if cls is None:
        return None
    config = entry.get("config")
    return Meaning(_snake(cls.__name__), f"{public}.{cls.__name__}()", kind, config if isinstance(config, dict) else {})


def _meaning(entry, shorthand: tuple[str, ...], meant: str, get, kinds: tuple) -> Meaning:
    """A saved loss or metric entry read through Keras' own ``kinds``, in order: (module name, module, base, kind)."""
    if isinstance(entry, str):
        if entry.lower() in shorthand:  # Keras' own shorthand, read as binary for one output unit
            return Meaning(meant, _quoted(entry))
        return _from_string(entry, get)
    if isinstance(entry, dict):
        if entry.get("class_name") == "function":
            found = _from_function(entry, *((name, module) for name, module, _base, _kind in kinds))
        else:
            found = next((m for m in (_from_class(entry, *kind) for kind in kinds) if m), None)
        return found or _custom(entry)
    return _unknown(entry)


def loss_meaning(entry) -> Meaning:
    """What a saved loss entry is: one of Keras' losses by name, or a description of what else it is."""
    import keras

    return _meaning(entry, ("crossentropy", "ce"), "binary_crossentropy", keras.losses.get, (
        ("keras.losses", keras.losses, keras.losses.Loss, "loss"),
        ("keras.metrics", keras.metrics, keras.metrics.Metric, "metric")))


def metric_meaning(entry) -> Meaning:
    """What a saved metric entry is: one of Keras' metrics by name, or a description of what else it is."""
    import keras

    return _meaning(entry, ("accuracy", "acc"), "binary_accuracy", keras.metrics.get, (
        ("keras.metrics", keras.metrics, keras.metrics.Metric, "metric"),
        ("keras.losses", keras.losses, keras.losses.Loss, "loss")))


def optimizer_meaning(entry) -> Meaning:
    """What a saved optimizer entry is: one of Keras' optimizers by class name, or what else it is."""
    import keras

    if isinstance(entry, str):  # Keras saves the instance it made, but a string is read as Keras would
        names = [n for n in dir(keras.optimizers) if _public(keras.optimizers, n, keras.optimizers.Optimizer)]
        match = next((n for n in names if n.lower() == entry.lower()), None)
        return Meaning(match, match) if match else _unknown(entry)
    if isinstance(entry, dict):
        found = _from_class(entry, "keras.optimizers", keras.optimizers, keras.optimizers.Optimizer, "optimizer")
        if found is not None:
            return Meaning(entry["class_name"], entry["class_name"], found.kind, found.config)
        return _custom(entry)
    return _unknown(entry)


def _entries(structure) -> list:
    """The entries of a metrics structure: a list, dict of outputs or nested lists (bounded in size and depth)."""
    found, pending = [], [(structure, 0)]
    while pending and len(found) < _MAX_ENTRIES:
        item, depth = pending.pop(0)
        if isinstance(item, (list, tuple)) and depth < _MAX_DEPTH:
            pending[:0] = [(x, depth + 1) for x in item[:_MAX_ENTRIES]]
        elif isinstance(item, dict) and "class_name" not in item and depth < _MAX_DEPTH:
            pending[:0] = [(x, depth + 1) for x in list(item.values())[:_MAX_ENTRIES]]
        elif item is not None:
            found.append(item)
    return found


def _joined(items: list):
    """The items shown one after the other, separated by commas ('' when there are none)."""
    shown = items[:_MAX_SHOWN] + (["…"] if len(items) > _MAX_SHOWN else [])
    if not shown:
        return ""
    joined = shown[0]
    for item in shown[1:]:
        joined = _("{first}, {second}").format(first=joined, second=item)
    return joined


def compile_config(call: Call) -> dict:
    """What compile_model passed to model.compile(), or an AssertionError saying why there is none."""
    call.require_ok()
    if not call.returned.get("is_keras_model"):
        got = ", ".join(call.returned.get("types", ["nothing"]))
        raise AssertionError(_(
            "{call} returned {got}, expected the compiled model. Hint: end with `return model`."
        ).format(call=call.text, got=got))
    if not call.compile_config:
        raise AssertionError(_(
            "{call} returned a model that is not compiled. Hint: call model.compile(loss=..., optimizer=..., "
            "metrics=[...]) and return the model."
        ).format(call=call.text))
    return call.compile_config


@rule("compile")
def check_compile_loss_is_binary_crossentropy(call: Call) -> None:
    """compile_model uses binary cross-entropy (as a string, a keras.losses object or function)."""
    loss = compile_config(call).get("loss")
    if loss is None:
        raise AssertionError(_(
            "{call} compiles without a loss, expected 'binary_crossentropy'. "
            "Hint: model.compile(loss='binary_crossentropy', optimizer='sgd', metrics=['accuracy'])."
        ).format(call=call.text))
    if isinstance(loss, (list, tuple)) or isinstance(loss, dict) and "class_name" not in loss:
        entries = list(loss.values() if isinstance(loss, dict) else loss)
        if len(entries) != 1:
            raise AssertionError(_(
                "{call} compiles with {count} losses, expected one: the model has one output. "
                "Hint: loss='binary_crossentropy'."
            ).format(call=call.text, count=len(entries)))
        loss = entries[0]
    meaning = loss_meaning(loss)
    if meaning.name is None:
        raise AssertionError(_(
            "{call} compiles with a loss that is not one of Keras' own: {name}; expected 'binary_crossentropy'. "
            "The grader reads the loss from what Keras saves with the model and never runs the submission's "
            "code, so only Keras' own losses can be checked. "
            "Hint: loss='binary_crossentropy' (or keras.losses.BinaryCrossentropy())."
        ).format(call=call.text, name=meaning.shown))
    if meaning.kind == "metric":
        raise AssertionError(_(
            "{call} compiles with the metric {name} as its loss: a metric keeps a running value but gives "
            "no gradient, so fit() fails with 'No gradients provided for any variable'. "
            "Hint: loss='binary_crossentropy' (the loss keras.losses.BinaryCrossentropy(), not the metric)."
        ).format(call=call.text, name=meaning.shown))
    if meaning.name != "binary_crossentropy":
        hint = _("one sigmoid output with 0/1 labels needs loss='binary_crossentropy'.")
        if meaning.name == "sparse_categorical_crossentropy":
            hint = _("sparse categorical cross-entropy is for integer labels over several classes (one "
                     "softmax unit per class); {hint}").format(hint=hint)
        elif "categorical" in meaning.name:
            hint = _("categorical cross-entropy is for one-hot labels over several classes; {hint}").format(hint=hint)
        raise AssertionError(_("{call} compiles with loss {name}, expected 'binary_crossentropy'. Hint: {hint}").format(
            call=call.text, name=meaning.shown, hint=hint))
    if meaning.config.get("from_logits"):
        raise AssertionError(_(
            "{call} uses BinaryCrossentropy(from_logits=True), but the model ends in a sigmoid. "
            "Hint: leave from_logits=False."
        ).format(call=call.text))


@rule("compile")
def check_compile_optimizer_is_sgd(call: Call) -> None:
    """compile_model uses the SGD optimizer."""
    meaning = optimizer_meaning(compile_config(call).get("optimizer"))
    if meaning.name is None:
        raise AssertionError(_(
            "{call} compiles with an optimizer that is not one of Keras' own: {name}; expected SGD. "
            "Hint: optimizer='sgd' (or keras.optimizers.SGD())."
        ).format(call=call.text, name=meaning.shown))
    if meaning.name != "SGD":
        raise AssertionError(_(
            "{call} compiles with optimizer {name!r}, expected SGD. "
            "Hint: optimizer='sgd' (the lecture compares models under plain SGD)."
        ).format(call=call.text, name=meaning.name))


@rule("compile")
def check_compile_metrics_include_accuracy(call: Call) -> None:
    """compile_model asks for the accuracy metric (binary accuracy, in metrics or weighted_metrics)."""
    config = compile_config(call)
    meanings = [metric_meaning(m) for m in _entries([config.get("metrics"), config.get("weighted_metrics")])]
    binary = [m for m in meanings if m.name == "binary_accuracy"]
    if any(_threshold(m) == 0.5 for m in binary):
        return
    hint = _("metrics=['accuracy'] (for one sigmoid output Keras reads it as binary accuracy).")
    if any(m.name == "accuracy" and m.kind == "metric" for m in meanings):
        hint = _("keras.metrics.Accuracy() counts a prediction as right only when it equals the label exactly, "
                 "and a sigmoid output is a probability such as 0.73, never exactly 0 or 1, so it stays near 0. "
                 "Write metrics=['accuracy'] (binary accuracy for one sigmoid output) or keras.metrics.BinaryAccuracy().")
    elif binary:
        hint = _("BinaryAccuracy(threshold={threshold}) counts a probability above {threshold} as 'odd', but the "
                 "lecture's accuracy counts one above 0.5. Keep the default threshold=0.5, or write "
                 "metrics=['accuracy'].").format(threshold=_safe(_threshold(binary[0])))
    elif any(m.name in ("categorical_accuracy", "sparse_categorical_accuracy") for m in meanings):
        hint = _("categorical accuracy compares the index of the largest of several outputs, and with one "
                 "sigmoid output that index is always 0, so the number means nothing. "
                 "Write metrics=['accuracy'] (binary accuracy for one sigmoid output).")
    raise AssertionError(_(
        "{call} compiles with metrics [{names}], expected them to include binary accuracy ('accuracy'). "
        "Hint: {hint}"
    ).format(call=call.text, names=_joined([m.shown for m in meanings]), hint=hint))


def _threshold(meaning: Meaning):
    """The threshold a binary accuracy counts 'odd' above (0.5 unless a BinaryAccuracy object says otherwise)."""
    value = meaning.config.get("threshold", 0.5)
    return 0.5 if value is None else value
