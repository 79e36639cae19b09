"""Checks of compile_model(model): binary cross-entropy, SGD, and the accuracy metric.

The checks read the ``compile_config`` that Keras saves in the ``.keras`` file, as JSON, so a
loss given as a string or as an object are both understood without rebuilding anything.
"""

from __future__ import annotations

from autograder.i18n import _
from autograder.probes import Call

_BCE_NAMES = {"binary_crossentropy", "BinaryCrossentropy", "bce"}
_ACCURACY_NAMES = {"accuracy", "acc", "binary_accuracy", "BinaryAccuracy"}


def _name(entry) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        return str(entry.get("class_name") or entry.get("config", {}).get("name") or entry)
    return repr(entry)


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


def check_compile_loss_is_binary_crossentropy(call: Call) -> None:
    """compile_model uses binary cross-entropy (as a string or a keras.losses object)."""
    config = compile_config(call)
    loss = config.get("loss")
    name = _name(loss)
    if name not in _BCE_NAMES:
        hint = _("one sigmoid output with 0/1 labels needs loss='binary_crossentropy'.")
        if "categorical" in name.lower():
            hint = _("categorical cross-entropy is for one-hot labels over several classes; {hint}").format(hint=hint)
        raise AssertionError(_("{call} compiles with loss {name!r}, expected 'binary_crossentropy'. Hint: {hint}").format(
            call=call.text, name=name, hint=hint))
    if isinstance(loss, dict) and loss.get("config", {}).get("from_logits"):
        raise AssertionError(_(
            "{call} uses BinaryCrossentropy(from_logits=True), but the model ends in a sigmoid. "
            "Hint: leave from_logits=False."
        ).format(call=call.text))


def check_compile_optimizer_is_sgd(call: Call) -> None:
    """compile_model uses the SGD optimizer."""
    config = compile_config(call)
    name = _name(config.get("optimizer"))
    if name.lower() != "sgd":
        raise AssertionError(_(
            "{call} compiles with optimizer {name!r}, expected SGD. "
            "Hint: optimizer='sgd' (the lecture compares models under plain SGD)."
        ).format(call=call.text, name=name))


def check_compile_metrics_include_accuracy(call: Call) -> None:
    """compile_model asks for the accuracy metric."""
    config = compile_config(call)
    metrics = config.get("metrics") or []
    names = [_name(m) for m in (metrics if isinstance(metrics, list) else [metrics])]
    if not _ACCURACY_NAMES & set(names):
        raise AssertionError(_(
            "{call} compiles with metrics {names}, expected them to include 'accuracy'. "
            "Hint: metrics=['accuracy']."
        ).format(call=call.text, names=names))
