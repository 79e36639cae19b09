"""check_model_reaches_reference_accuracy: each way a model can fail it, with the message pinned."""

from dataclasses import replace

import keras
import pytest
from keras import layers

from autograder.checks.accuracy import check_model_reaches_reference_accuracy
from autograder.evidence.training_outcome import ProtocolTraining, TrainingOutcome


def trained(call, outcome, threshold=0.9, reference="ref"):
    """The call as a check session hands it to the check: its model's training under the protocol known."""
    return replace(call, train_under_protocol=lambda: ProtocolTraining(outcome, threshold, reference))


def mlp_with_two_sigmoid_outputs():
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(8, activation="relu"),
                             layers.Dense(2, activation="sigmoid")])


def mlp_small():
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(8, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])


def test_two_unit_output_is_refused_before_its_accuracy_is_believed(probe_call):
    # 0/1 labels broadcast over both units, so a trained 2-unit model's "accuracy" looks fine.
    outcome = TrainingOutcome("build_mlp", 0, accuracy=0.99)
    with pytest.raises(AssertionError, match=r"outputs shape \(None, 2\), expected \(None, 1\).*not measured"):
        check_model_reaches_reference_accuracy(trained(probe_call(mlp_with_two_sigmoid_outputs, "build_mlp"), outcome))


def test_model_that_cannot_train_reports_the_training_error(probe_call):
    outcome = TrainingOutcome("build_mlp", 0, error="ValueError: shapes differ")
    with pytest.raises(AssertionError, match=r"could not be trained under the grading protocol: ValueError: shapes differ"):
        check_model_reaches_reference_accuracy(trained(probe_call(mlp_small, "build_mlp"), outcome))


def test_accuracy_below_threshold_names_both_and_the_reference(probe_call):
    outcome = TrainingOutcome("build_mlp", 0, accuracy=0.8)
    with pytest.raises(AssertionError, match=r"reached test accuracy 0\.8000 .* below the threshold 0\.9000 \(ref\)"):
        check_model_reaches_reference_accuracy(trained(probe_call(mlp_small, "build_mlp"), outcome))


def test_accuracy_at_the_threshold_passes(probe_call):
    outcome = TrainingOutcome("build_mlp", 0, accuracy=0.9)
    assert check_model_reaches_reference_accuracy(trained(probe_call(mlp_small, "build_mlp"), outcome)) is None


def mlp_with_relu_output():
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(8, activation="relu"),
                             layers.Dense(1, activation="relu")])


def test_output_that_is_not_a_probability_is_refused_whatever_its_accuracy(probe_call):
    # A relu output sorts the classes on some seeds (the benchmark saw up to 0.93): no seed luck.
    outcome = TrainingOutcome("build_mlp", 0, accuracy=0.95)
    with pytest.raises(AssertionError, match=r"ends in Dense \(units=1, activation=relu\), not a sigmoid.*not measured"):
        check_model_reaches_reference_accuracy(trained(probe_call(mlp_with_relu_output, "build_mlp"), outcome))


def mlp_without_input():
    return keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")])


def test_model_without_input_is_measured_like_any_other(probe_call):
    # Issue 11.1: the missing input costs the architecture group only; no "outputs shape ()" hint.
    call = probe_call(mlp_without_input, "build_mlp")
    assert check_model_reaches_reference_accuracy(trained(call, TrainingOutcome("build_mlp", 0, accuracy=0.95))) is None
    with pytest.raises(AssertionError, match=r"reached test accuracy 0\.8000") as raised:
        check_model_reaches_reference_accuracy(trained(call, TrainingOutcome("build_mlp", 0, accuracy=0.8)))
    message = str(raised.value.args[0])
    assert "reached test accuracy 0.8000" in message
    assert "outputs shape" not in message and "end the model in Dense(1" not in message


def test_model_without_input_is_trained_on_the_lecture_input(sample_grader):
    from autograder.engine.training import train_and_evaluate

    outcome = train_and_evaluate(mlp_without_input(), "build_mlp", sample_grader.data, sample_grader.config.grading,
                                 seed=0)
    assert outcome.error is None and outcome.accuracy > 0.6, outcome
