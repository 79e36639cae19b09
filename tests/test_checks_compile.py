"""Each compile check against every Keras spelling of the right answer, and broken compiles named after their bug.

Each spelling is compiled and saved by Keras itself (``probe_call``: save to .keras, reload with safe
mode, read ``compile_config``); the tests of the right spellings also pin the serialised form the
checks read (autograder/checks/compiling.py lists them all).
"""

import re

import keras
import pytest

from autograder.grader import reference
from autograder.checks.compiling import (check_compile_loss_is_binary_crossentropy,
                                       check_compile_metrics_include_accuracy, check_compile_optimizer_is_sgd)

ALL = (check_compile_loss_is_binary_crossentropy, check_compile_optimizer_is_sgd, check_compile_metrics_include_accuracy)
FUNCTION = {"module": "builtins", "class_name": "function", "registered_name": "function"}  # how Keras 3 saves any function


def _tf_keras():
    """tf.keras when it is Keras 3 (TensorFlow >= 2.16), else skip."""
    tf = pytest.importorskip("tensorflow")
    if tf.keras.losses.BinaryCrossentropy is not keras.losses.BinaryCrossentropy:
        pytest.skip("tf.keras is not Keras 3 here")
    return tf.keras


def compiling(**arguments):
    """compile_model with the reference's loss, optimizer and metrics unless told otherwise.

    An argument given as a function (a lambda) is called on each call, so Keras objects are made per model.
    """
    arguments = {"loss": "binary_crossentropy", "optimizer": "sgd", "metrics": ["accuracy"], **arguments}

    def compile_model(model):
        model.compile(**{k: v() if callable(v) else v for k, v in arguments.items()})
        return model

    return compile_model


# (id, compile_model, the serialised entry of compile_config it saves: (key, value) pinned)
RIGHT_LOSSES = [
    ("string", compiling(loss="binary_crossentropy"), "binary_crossentropy"),
    ("alias_bce", compiling(loss="bce"), "bce"),
    ("alias_BCE", compiling(loss="BCE"), "BCE"),
    ("class_name_string", compiling(loss="BinaryCrossentropy"), "BinaryCrossentropy"),
    ("crossentropy_shorthand", compiling(loss="crossentropy"), "crossentropy"),
    ("object", compiling(loss=lambda: keras.losses.BinaryCrossentropy()),
     {"module": "keras.losses", "class_name": "BinaryCrossentropy", "registered_name": None}),
    ("object_explicit_defaults", compiling(loss=lambda: keras.losses.BinaryCrossentropy(from_logits=False)),
     {"module": "keras.losses", "class_name": "BinaryCrossentropy"}),
    ("function", compiling(loss=lambda: keras.losses.binary_crossentropy), {**FUNCTION, "config": "binary_crossentropy"}),
    ("metrics_function", compiling(loss=lambda: keras.metrics.binary_crossentropy),
     {**FUNCTION, "config": "binary_crossentropy"}),
    ("losses_get", compiling(loss=lambda: keras.losses.get("binary_crossentropy")),
     {**FUNCTION, "config": "binary_crossentropy"}),
    ("list_per_output", compiling(loss=lambda: ["binary_crossentropy"]), ["binary_crossentropy"]),
]
RIGHT_OPTIMIZERS = [
    ("lowercase", compiling(optimizer="sgd")),
    ("uppercase", compiling(optimizer="SGD")),
    ("object", compiling(optimizer=lambda: keras.optimizers.SGD())),
    ("object_explicit_defaults", compiling(optimizer=lambda: keras.optimizers.SGD(learning_rate=0.01, momentum=0.0))),
]
RIGHT_METRICS = [
    ("accuracy", compiling(metrics=["accuracy"]), ["accuracy"]),
    ("acc", compiling(metrics=["acc"]), ["acc"]),
    ("Accuracy_string", compiling(metrics=["Accuracy"]), ["Accuracy"]),
    ("binary_accuracy", compiling(metrics=["binary_accuracy"]), ["binary_accuracy"]),
    ("object", compiling(metrics=lambda: [keras.metrics.BinaryAccuracy()]),
     [{"module": "keras.metrics", "class_name": "BinaryAccuracy", "registered_name": None}]),
    ("object_named_acc", compiling(metrics=lambda: [keras.metrics.BinaryAccuracy(name="acc", threshold=0.5)]),
     [{"module": "keras.metrics", "class_name": "BinaryAccuracy"}]),
    ("function", compiling(metrics=lambda: [keras.metrics.binary_accuracy]), [{**FUNCTION, "config": "binary_accuracy"}]),
    ("tuple", compiling(metrics=lambda: ("accuracy",)), ["accuracy"]),
    ("among_others", compiling(metrics=lambda: ["mse", keras.metrics.AUC(), "accuracy"]), None),
    ("dict_per_output", lambda model: compiling(metrics={model.layers[-1].name: "accuracy"})(model), None),
    ("dict_of_lists", lambda model: compiling(metrics={model.layers[-1].name: ["accuracy"]})(model), None),
    ("nested_lists", compiling(metrics=lambda: [["accuracy"]]), [["accuracy"]]),
    ("weighted_metrics_only", compiling(metrics=None, weighted_metrics=["accuracy"]), None),
]


def _matches(saved, pinned) -> bool:
    """Whether the saved entry has the pinned form (for a dict: the pinned keys; lists element by element)."""
    if isinstance(pinned, dict) and "class_name" in pinned:
        return isinstance(saved, dict) and all(saved.get(k) == v for k, v in pinned.items())
    if isinstance(pinned, list):
        return isinstance(saved, list) and len(saved) == len(pinned) and all(map(_matches, saved, pinned))
    return saved == pinned


@pytest.mark.parametrize("func", [reference.compile_model], ids=["reference"])
def test_reference_passes_every_compile_check(probe_call, func):
    call = probe_call(func, "compile_reference_mlp")
    for check in ALL:
        check(call)


@pytest.mark.parametrize("func, saved", [r[1:] for r in RIGHT_LOSSES], ids=[r[0] for r in RIGHT_LOSSES])
def test_every_spelling_of_binary_crossentropy_passes(probe_call, func, saved):
    call = probe_call(func, "compile_reference_mlp")
    assert _matches(call.compile_config["loss"], saved), call.compile_config["loss"]
    for check in ALL:
        check(call)


@pytest.mark.parametrize("func", [r[1] for r in RIGHT_OPTIMIZERS], ids=[r[0] for r in RIGHT_OPTIMIZERS])
def test_every_spelling_of_sgd_passes(probe_call, func):
    call = probe_call(func, "compile_reference_mlp")
    # Keras saves the optimizer it made, however it was named.
    assert _matches(call.compile_config["optimizer"], {"module": "keras.optimizers", "class_name": "SGD",
                                                       "registered_name": None})
    for check in ALL:
        check(call)


@pytest.mark.parametrize("func, saved", [r[1:] for r in RIGHT_METRICS], ids=[r[0] for r in RIGHT_METRICS])
def test_every_spelling_of_the_accuracy_metric_passes(probe_call, func, saved):
    call = probe_call(func, "compile_reference_mlp")
    if saved is not None:
        assert _matches(call.compile_config["metrics"], saved), call.compile_config["metrics"]
    for check in ALL:
        check(call)


@pytest.mark.parametrize("spelling", ["loss_object", "loss_function", "optimizer", "metric_object"])
def test_tf_keras_aliases_pass(probe_call, spelling):
    tf_keras = _tf_keras()
    func = {"loss_object": compiling(loss=lambda: tf_keras.losses.BinaryCrossentropy()),
            "loss_function": compiling(loss=lambda: tf_keras.losses.binary_crossentropy),
            "optimizer": compiling(optimizer=lambda: tf_keras.optimizers.SGD()),
            "metric_object": compiling(metrics=lambda: [tf_keras.metrics.BinaryAccuracy()])}[spelling]
    call = probe_call(func, "compile_reference_mlp")
    for check in ALL:
        check(call)


def test_keras_refuses_the_classes_themselves(probe_call):
    # Not spellings the checks see: Keras refuses them in compile(), and the call reports Keras' error.
    for func in (compiling(loss=lambda: keras.losses.BinaryCrossentropy),
                 compiling(optimizer=lambda: keras.optimizers.SGD), compiling(metrics="accuracy")):
        call = probe_call(func, "compile_reference_mlp")
        with pytest.raises(AssertionError, match=r"compile_model\(model\) raised (TypeError|ValueError)"):
            check_compile_loss_is_binary_crossentropy(call)


def test_own_function_named_binary_crossentropy_reads_as_keras_own(probe_call):
    # The file keeps only a function's name (Keras reloads it as its own binary_crossentropy), so a
    # student's function of that name cannot be told from Keras'; its training is what the accuracy
    # checks measure.
    def binary_crossentropy(y_true, y_pred):
        return keras.losses.binary_crossentropy(y_true, y_pred)

    call = probe_call(compiling(loss=lambda: binary_crossentropy), "compile_reference_mlp")
    assert call.compile_config["loss"] == {**FUNCTION, "config": "binary_crossentropy"}
    check_compile_loss_is_binary_crossentropy(call)


# ---------------------------------------------------------------- broken compiles, named after their bug

def compile_mse(model):
    model.compile(loss="mse", optimizer="sgd", metrics=["accuracy"])
    return model


def compile_mse_function(model):
    model.compile(loss=keras.losses.mean_squared_error, optimizer="sgd", metrics=["accuracy"])
    return model


def compile_mse_object(model):
    model.compile(loss=keras.losses.MeanSquaredError(), optimizer="sgd", metrics=["accuracy"])
    return model


def compile_categorical(model):
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    return model


def compile_categorical_object(model):
    model.compile(loss=keras.losses.CategoricalCrossentropy(), optimizer="sgd", metrics=["accuracy"])
    return model


def compile_sparse_categorical_function(model):
    model.compile(loss=keras.losses.sparse_categorical_crossentropy, optimizer="sgd", metrics=["accuracy"])
    return model


def compile_from_logits(model):
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="sgd", metrics=["accuracy"])
    return model


def compile_metric_as_loss(model):
    model.compile(loss=keras.metrics.BinaryCrossentropy(), optimizer="sgd", metrics=["accuracy"])
    return model


def compile_own_loss_function(model):
    def my_loss(y_true, y_pred):
        return keras.ops.mean((y_true - y_pred) ** 2)

    model.compile(loss=my_loss, optimizer="sgd", metrics=["accuracy"])
    return model


def compile_lambda_loss(model):
    model.compile(loss=lambda y, p: keras.losses.binary_crossentropy(y, p), optimizer="sgd", metrics=["accuracy"])
    return model


class RenamedBinaryCrossentropy(keras.losses.BinaryCrossentropy):
    """A custom subclass: its saved form names the class, not Keras' loss."""


def compile_custom_loss_class(model):
    model.compile(loss=RenamedBinaryCrossentropy(), optimizer="sgd", metrics=["accuracy"])
    return model


def compile_without_loss(model):
    model.compile(optimizer="sgd", metrics=["accuracy"])
    return model


def compile_two_losses(model):
    model.compile(loss=["binary_crossentropy", "mse"], optimizer="sgd", metrics=["accuracy"])
    return model


def compile_adam(model):
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def compile_adam_object(model):
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(), metrics=["accuracy"])
    return model


class RenamedSGD(keras.optimizers.SGD):
    """A custom subclass of SGD."""


def compile_custom_sgd_class(model):
    model.compile(loss="binary_crossentropy", optimizer=RenamedSGD(), metrics=["accuracy"])
    return model


def compile_without_metrics(model):
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    return model


def compile_mse_metric(model):
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["mse"])
    return model


def compile_exact_match_accuracy(model):
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=[keras.metrics.Accuracy()])
    return model


def compile_categorical_accuracy(model):
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["categorical_accuracy"])
    return model


def compile_accuracy_threshold_0_7(model):
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=[keras.metrics.BinaryAccuracy(threshold=0.7)])
    return model


def compile_unknown_metric_name(model):
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["acuracy"])
    return model


def compile_forgets_return(model):
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])


def compile_not_called(model):
    return model


def _message(check, call) -> str:
    # Every message starts with the call, as the student would write it; the callers pin the rest.
    with pytest.raises(AssertionError, match=rf"^{re.escape(call.text)} ") as raised:
        check(call)
    message = str(raised.value.args[0])
    # The meaning read, never Keras' serialised fields or a Python repr.
    assert "'function'" not in message and "{'" not in message and "<" not in message, message
    return message


BROKEN = [
    (compile_mse, check_compile_loss_is_binary_crossentropy,
     [r"compile_model(model) compiles with loss 'mean_squared_error', expected 'binary_crossentropy'. Hint: one sigmoid "
      r"output with 0/1 labels needs loss='binary_crossentropy'."]),
    (compile_mse_function, check_compile_loss_is_binary_crossentropy,
     ["compiles with loss 'mean_squared_error', expected 'binary_crossentropy'"]),
    (compile_mse_object, check_compile_loss_is_binary_crossentropy,
     ["compiles with loss keras.losses.MeanSquaredError(), expected 'binary_crossentropy'"]),
    (compile_categorical, check_compile_loss_is_binary_crossentropy,
     ["compiles with loss 'categorical_crossentropy'", "categorical cross-entropy is for one-hot labels"]),
    (compile_categorical_object, check_compile_loss_is_binary_crossentropy,
     ["compiles with loss keras.losses.CategoricalCrossentropy()", "categorical cross-entropy is for one-hot labels"]),
    (compile_sparse_categorical_function, check_compile_loss_is_binary_crossentropy,
     ["compiles with loss 'sparse_categorical_crossentropy'", "sparse categorical cross-entropy is for integer labels"]),
    (compile_from_logits, check_compile_loss_is_binary_crossentropy,
     ["uses BinaryCrossentropy(from_logits=True), but the model ends in a sigmoid. Hint: leave from_logits=False."]),
    (compile_metric_as_loss, check_compile_loss_is_binary_crossentropy,
     ["compiles with the metric keras.metrics.BinaryCrossentropy() as its loss", "No gradients provided",
      "Hint: loss='binary_crossentropy'"]),
    (compile_own_loss_function, check_compile_loss_is_binary_crossentropy,
     ["compiles with a loss that is not one of Keras' own: the function 'my_loss'; expected 'binary_crossentropy'",
      "Hint: loss='binary_crossentropy'"]),
    (compile_lambda_loss, check_compile_loss_is_binary_crossentropy,
     ["compiles with a loss that is not one of Keras' own: a lambda"]),
    (compile_custom_loss_class, check_compile_loss_is_binary_crossentropy,
     ["not one of Keras' own: the custom class 'RenamedBinaryCrossentropy'"]),
    (compile_without_loss, check_compile_loss_is_binary_crossentropy,
     ["compiles without a loss, expected 'binary_crossentropy'"]),
    (compile_two_losses, check_compile_loss_is_binary_crossentropy,
     ["compiles with 2 losses, expected one: the model has one output"]),
    (compile_adam, check_compile_optimizer_is_sgd,
     ["compiles with optimizer 'Adam', expected SGD. Hint: optimizer='sgd'"]),
    (compile_adam_object, check_compile_optimizer_is_sgd, ["compiles with optimizer 'Adam', expected SGD"]),
    (compile_custom_sgd_class, check_compile_optimizer_is_sgd,
     ["compiles with an optimizer that is not one of Keras' own: the custom class 'RenamedSGD'; expected SGD"]),
    (compile_without_metrics, check_compile_metrics_include_accuracy,
     ["compiles with metrics [], expected them to include binary accuracy ('accuracy'). Hint: metrics=['accuracy']"]),
    (compile_mse_metric, check_compile_metrics_include_accuracy,
     ["compiles with metrics ['mean_squared_error'], expected them to include binary accuracy"]),
    (compile_exact_match_accuracy, check_compile_metrics_include_accuracy,
     ["compiles with metrics [keras.metrics.Accuracy()]", "only when it equals the label exactly",
      "Write metrics=['accuracy']", "keras.metrics.BinaryAccuracy()"]),
    (compile_categorical_accuracy, check_compile_metrics_include_accuracy,
     ["compiles with metrics ['categorical_accuracy']", "that index is always 0"]),
    (compile_accuracy_threshold_0_7, check_compile_metrics_include_accuracy,
     ["compiles with metrics [keras.metrics.BinaryAccuracy()]", "BinaryAccuracy(threshold=0.7) counts a probability "
      "above 0.7 as 'odd'", "Keep the default threshold=0.5"]),
    (compile_unknown_metric_name, check_compile_metrics_include_accuracy,
     ["compiles with metrics ['acuracy', a name Keras does not know]"]),
    (compile_forgets_return, check_compile_loss_is_binary_crossentropy,
     [r"compile_model(model) returned NoneType, expected the compiled model"]),
    (compile_not_called, check_compile_optimizer_is_sgd, ["returned a model that is not compiled"]),
]


@pytest.mark.parametrize("func, check, parts", BROKEN, ids=[b[0].__name__ for b in BROKEN])
def test_broken_compile_fails_with_its_message(probe_call, func, check, parts):
    message = _message(check, probe_call(func, "compile_reference_mlp"))
    for part in parts:
        assert part in message, message


@pytest.mark.parametrize("func, passing", [(compile_mse, (check_compile_optimizer_is_sgd,
                                                          check_compile_metrics_include_accuracy)),
                                           (compile_exact_match_accuracy, (check_compile_loss_is_binary_crossentropy,
                                                                           check_compile_optimizer_is_sgd))])
def test_one_bug_costs_only_its_own_check(probe_call, func, passing):
    call = probe_call(func, "compile_reference_mlp")
    for check in passing:
        check(call)


def test_a_precondition_failure_stays_silent_about_the_checks_own_hints(probe_call):
    call = probe_call(compile_not_called, "compile_reference_mlp")
    for check in ALL:
        message = _message(check, call)
        assert "returned a model that is not compiled" in message
        assert "binary accuracy" not in message and "expected SGD" not in message and "sigmoid" not in message
