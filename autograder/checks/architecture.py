"""Checks of build_mlp(), build_cnn() and build_deep_cnn() against the lecture's architectures.

Each builder is compared with the lecture's model of the same name (its layer table, kept as data
in ``autograder.expected``), layer by layer: type,
output shape, parameter count and the layer's own settings (units, filters, kernel/pool size,
activation, Dropout rate). A standalone Activation layer (or ReLU() with its defaults) is folded into
the linear layer before it, so ``Dense(256)`` + ``Activation('relu')`` or ``ReLU()`` counts as
``Dense(256, relu)``. Settings are read from each layer's config, so Keras' aliases
(Convolution2D, MaxPool2D), int sizes and activation functions read as the lecture's spellings.
"""

from __future__ import annotations

from functools import lru_cache

from autograder.evidence.call_record import Call
from autograder.checks._compare import table
from autograder.checks.registry import rule
from autograder.evidence.layer_rows import LayerRow, describe_layers
from autograder.expected import lecture_model
from autograder.messages.i18n import Message, _


@lru_cache(maxsize=None)
def expected_layers(builder: str) -> tuple[LayerRow, ...]:
    """The lecture model's rows for the builder of that name."""
    return tuple(LayerRow(r["type"], tuple(r["output_shape"]), r["params"], r["settings"])
                 for r in lecture_model(builder)["layers"])


def _expected_model_facts(builder: str) -> tuple[tuple, int]:
    model = lecture_model(builder)
    return tuple(model["input_shape"]), model["params"]


def returned_model(call: Call):
    """The model the builder returned, or an AssertionError saying what came back instead."""
    call.require_ok()
    if not call.returned.get("is_keras_model"):
        got = ", ".join(call.returned.get("types", ["nothing"]))
        raise AssertionError(_(
            "{call} returned {got}, expected a keras.Model. "
            "Hint: build the model with keras.Sequential([...]) and `return` it."
        ).format(call=call.text, got=got))
    return call.model


def lecture_input_shape(builder: str) -> tuple:
    """The input the lecture's model of that builder takes: (784,) for the MLP, (28, 28, 1) for the CNNs."""
    return _expected_model_facts(builder)[0]


def input_shape_of(model) -> tuple | None:
    """The model's declared input shape (without the batch axis), or None when it has none yet."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):  # an unbuilt Sequential has no inputs until its first batch
        return None
    return tuple(inputs[0].shape[1:]) if inputs else None


def model_as_built(call: Call):
    """The returned model, ready to compare: (model, note).

    A model without an input shape is trainable as is (Keras builds it on its first batch), so it
    is compared as built for the lecture's input, and ``note`` says so; the input-shape check alone
    reports the missing input. A model whose layers cannot take the lecture's input either raises
    AssertionError saying that.
    """
    model = returned_model(call)
    if input_shape_of(model) is not None:
        return model, None
    import keras

    expected = lecture_input_shape(call.probe.function)
    try:
        built = keras.models.clone_model(model)
        built.build((None, *expected))
    except Exception as exc:  # Keras refuses incompatible layers with ValueError, TypeError, ...
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise AssertionError(_(
            "{call} returned a model without an input shape, and its layers cannot take the lecture's "
            "input {expected} either (Keras: {detail}). Hint: start the model with keras.Input(shape={expected}) "
            "and compare its layers with the lecture's."
        ).format(call=call.text, expected=expected, detail=detail)) from None
    return built, _("{call} returned a model without an input shape; it was compared as built for the "
                    "lecture's input {expected} (the input-shape check reports the missing input).").format(
        call=call.text, expected=expected)


def _with_note(message, note):
    return message if note is None else _("{message}\nNote: {note}").format(message=message, note=note)


def first_difference(expected: list[LayerRow], actual: list[LayerRow]) -> int | None:
    """The index of the first layer that differs (or is missing or extra); None when all match."""
    first = next((i for i, (e, a) in enumerate(zip(expected, actual)) if e != a), None)
    if first is None and len(expected) != len(actual):
        first = min(len(expected), len(actual))
    return first


def layer_table(expected: list[LayerRow], actual: list[LayerRow]) -> tuple[Message, int | None]:
    """The side-by-side table of expected vs. actual layers, and the index of the first difference."""
    first = first_difference(expected, actual)
    rows = []
    for i in range(max(len(expected), len(actual))):
        e = expected[i].cells() if i < len(expected) else ("—",) * 4
        a = actual[i].cells() if i < len(actual) else ("—",) * 4
        rows.append((i, *e[:1], *a[:1], e[1], a[1], e[2], a[2], e[3], a[3]))
    headers = ("#", _("expected"), _("actual"), _("exp. output"), _("act. output"), _("exp. params"),
               _("act. params"), _("exp. settings"), _("act. settings"))
    return table(headers, rows, marker_row=first), first


@rule("mlp", "cnn", "deep_cnn")
def check_builder_returns_keras_model(call: Call) -> None:
    """The builder returns a keras.Model that Keras can rebuild from its config."""
    returned_model(call)


@rule("mlp", "cnn", "deep_cnn")
def check_model_input_shape(call: Call) -> None:
    """The model takes the lecture's input: (784,) for the MLP, (28, 28, 1) for the CNNs."""
    model = returned_model(call)
    expected, _params = _expected_model_facts(call.probe.function)
    actual = input_shape_of(model)
    if actual is None:
        raise AssertionError(_(
            "{call} returned a model without an input shape, expected {expected}. Keras builds such a model "
            "on its first batch, so it trains, but it does not declare the lecture's input. "
            "Hint: start the model with keras.Input(shape={expected}) (first in the Sequential list, or "
            "model.add(keras.Input(shape={expected})) before the other layers)."
        ).format(call=call.text, expected=expected))
    if actual != expected:
        why = (_("the MLP takes flat 784-pixel rows") if len(expected) == 1
               else _("the CNNs take 28×28 images with 1 channel"))
        raise AssertionError(_(
            "{call} takes input shape {actual}, expected {expected}. Hint: keras.Input(shape={expected}) — {why}."
        ).format(call=call.text, actual=actual, expected=expected, why=why))


@rule("mlp", "cnn", "deep_cnn")
def check_model_layers_match_lecture(call: Call) -> None:
    """The model's layers match the lecture's: type, output shape, parameters and settings, in order."""
    model, note = model_as_built(call)
    expected = list(expected_layers(call.probe.function))
    actual = describe_layers(model)
    text, first = layer_table(expected, actual)
    if first is None:
        return
    raise AssertionError(_with_note(_(
        "{call} does not match the lecture's model: {what}.\n{table}\n"
        "Hint: compare your layer list with the lecture's, starting at layer {first}."
    ).format(call=call.text, what=describe_first_difference(expected, actual, first), table=text, first=first), note))


def describe_first_difference(expected: list[LayerRow], actual: list[LayerRow], first: int) -> Message:
    """What differs at layer ``first``: missing, extra, or which of its columns."""
    if first >= len(actual):
        return _("layer {index} ({type}) is missing").format(index=first, type=expected[first].type)
    if first >= len(expected):
        return _("layer {index} ({type}) is extra").format(index=first, type=actual[first].type)
    e, a = expected[first], actual[first]
    diffs = [_("{column} expected {expected}, got {actual}").format(column=name, expected=ev, actual=av)
             for name, ev, av in ((_("type"), e.type, a.type), (_("output shape"), e.output_shape, a.output_shape),
                                  (_("params"), e.params, a.params), (_("settings"), e.settings, a.settings))
             if ev != av]
    joined = diffs[0]
    for more in diffs[1:]:
        joined = _("{first}; {second}").format(first=joined, second=more)
    return _("layer {index} differs: {diffs}").format(index=first, diffs=joined)


@rule("mlp", "cnn", "deep_cnn")
def check_last_layer_is_dense_1_sigmoid(call: Call) -> None:
    """The model ends in Dense(1, activation='sigmoid'): one probability of 'odd'."""
    model = returned_model(call)
    rows = describe_layers(model)
    if not rows:
        raise AssertionError(_("{call} returned a model with no layers. Hint: end with Dense(1, activation='sigmoid').").format(
            call=call.text))
    last = rows[-1]
    if last.type == "Dense" and "units=1," in last.settings + "," and "activation=sigmoid" in last.settings:
        return
    hint = _("end with Dense(1, activation='sigmoid'): one unit giving the probability that the digit is odd.")
    if "activation=softmax" in last.settings:
        hint = _("softmax over a single unit always outputs 1.0, so the model cannot learn; "
                 "use activation='sigmoid' for a binary output.")
    elif last.type == "Dense" and "units=1," not in last.settings + ",":
        hint = _("binary classification with binary cross-entropy needs one output unit (the probability of "
                 "'odd'), not one per class. Use Dense(1, activation='sigmoid').")
    elif any(f"activation={a}" in last.settings for a in ("relu", "linear", "tanh")):
        hint = _("binary cross-entropy needs a probability in (0, 1); relu/linear/tanh outputs are not. "
                 "Use activation='sigmoid'.")
    raise AssertionError(_("{call} ends with {type}({settings}). Hint: {hint}").format(
        call=call.text, type=last.type, settings=last.settings, hint=hint))


@rule("mlp", "cnn", "deep_cnn")
def check_model_parameter_count(call: Call) -> None:
    """The model has the lecture's number of trainable parameters."""
    model, note = model_as_built(call)
    _shape, expected = _expected_model_facts(call.probe.function)
    actual = model.count_params()
    if actual != expected:
        raise AssertionError(_with_note(_(
            "{call} has {actual:,} parameters, expected {expected:,} (difference {difference:+,}). "
            "Hint: the layer table of the layers check shows where the difference comes from."
        ).format(call=call.text, actual=actual, expected=expected, difference=actual - expected), note))
