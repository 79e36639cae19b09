"""Each compile check against the reference and a broken compile named after its bug."""

import keras
import pytest

from autograder.grader import reference
from autograder.checks.compile import (check_compile_loss_is_binary_crossentropy,
                                       check_compile_metrics_include_accuracy, check_compile_optimizer_is_sgd)

ALL = (check_compile_loss_is_binary_crossentropy, check_compile_optimizer_is_sgd, check_compile_metrics_include_accuracy)


def compile_mse(model):
    model.compile(loss="mse", optimizer="sgd", metrics=["accuracy"])
    return model


def compile_categorical(model):
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    return model


def compile_adam(model):
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def compile_without_metrics(model):
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    return model


def compile_forgets_return(model):
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])


def compile_not_called(model):
    return model


def compile_from_logits(model):
    model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True), optimizer="sgd", metrics=["accuracy"])
    return model


def compile_with_objects(model):
    model.compile(loss=keras.losses.BinaryCrossentropy(), optimizer=keras.optimizers.SGD(),
                  metrics=[keras.metrics.BinaryAccuracy()])
    return model


@pytest.mark.parametrize("func", [reference.compile_model, compile_with_objects])
def test_reference_and_object_forms_pass(probe_call, func):
    call = probe_call(func, "compile_reference_mlp")
    for check in ALL:
        check(call)


def test_mse_loss_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"compiles with loss 'mse', expected 'binary_crossentropy'"):
        check_compile_loss_is_binary_crossentropy(probe_call(compile_mse, "compile_reference_mlp"))


def test_categorical_loss_gets_its_hint(probe_call):
    with pytest.raises(AssertionError, match=r"categorical cross-entropy is for one-hot labels"):
        check_compile_loss_is_binary_crossentropy(probe_call(compile_categorical, "compile_reference_mlp"))


def test_adam_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"compiles with optimizer 'Adam', expected SGD"):
        check_compile_optimizer_is_sgd(probe_call(compile_adam, "compile_reference_mlp"))


def test_missing_accuracy_metric_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"compiles with metrics \[\], expected them to include 'accuracy'"):
        check_compile_metrics_include_accuracy(probe_call(compile_without_metrics, "compile_reference_mlp"))


def test_forgotten_return_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"compile_model\(model\) returned NoneType, expected the compiled model"):
        check_compile_loss_is_binary_crossentropy(probe_call(compile_forgets_return, "compile_reference_mlp"))


def test_uncompiled_model_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"returned a model that is not compiled"):
        check_compile_optimizer_is_sgd(probe_call(compile_not_called, "compile_reference_mlp"))


def test_from_logits_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"from_logits=True\), but the model ends in a sigmoid"):
        check_compile_loss_is_binary_crossentropy(probe_call(compile_from_logits, "compile_reference_mlp"))
