"""Calibration: the threshold rule, the cached file, and that it separates the reference from a broken model."""

import json
from dataclasses import replace

import keras
import pytest
from keras import layers

from autograder.grader import reference
from autograder.grader.calibration import (Calibration, CalibrationError, calibrate, calibration_path, describe_mismatch,
                                    load_or_calibrate, threshold_for)
from autograder.checks.accuracy import check_model_reaches_reference_accuracy
from autograder.engine.training import train_and_evaluate
from autograder.evidence.training_outcome import ProtocolTraining


def trained(call, outcome, threshold):
    """The call as a check session hands it to the accuracy check: its training and the threshold known."""
    return replace(call, train_under_protocol=lambda: ProtocolTraining(outcome, threshold, "reference"))


def mlp_frozen():
    # Ends in a sigmoid like the lecture's, so only the calibrated threshold can catch it.
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(256, activation="relu", trainable=False),
                             layers.Dense(256, activation="relu", trainable=False),
                             layers.Dense(256, activation="relu", trainable=False),
                             layers.Dense(1, activation="sigmoid", trainable=False)])


def test_threshold_is_the_worst_seed_minus_the_larger_of_margin_and_three_std():
    assert threshold_for([0.90, 0.92, 0.91], margin=0.02) == pytest.approx(0.90 - 3 * 0.0081650, abs=1e-6)
    assert threshold_for([0.95, 0.95, 0.95], margin=0.02) == pytest.approx(0.93)


@pytest.fixture(scope="module")
def two_seed_config(sample_config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("calibration")
    return sample_config.model_copy(update={
        "calibration": sample_config.calibration.model_copy(update={"directory": str(folder), "seeds": 2})})


@pytest.fixture(scope="module")
def fresh_calibration(two_seed_config, sample_grader):
    messages = []
    calibration = load_or_calibrate(sample_grader.dataset, two_seed_config, sample_grader.n_val,
                                    data=sample_grader.data, log=messages.append)
    return calibration, messages


@pytest.mark.slow  # calibrates: trains the reference models over seeds
def test_missing_calibration_is_made_on_the_fly_and_cached(fresh_calibration, two_seed_config, sample_grader):
    calibration, messages = fresh_calibration
    assert messages[0].startswith("warning: no calibration matches this data")
    path = calibration_path(two_seed_config, sample_grader.dataset, sample_grader.n_val)
    saved = json.loads(path.read_text())
    assert saved["data_fingerprint"] == sample_grader.dataset.fingerprint
    assert saved["protocol"] == two_seed_config.grading.model_dump()
    assert set(saved["models"]["build_cnn"]) >= {"accuracies", "mean", "min", "std", "threshold", "rule"}
    assert saved["versions"]["keras"] == keras.__version__
    again = load_or_calibrate(sample_grader.dataset, two_seed_config, sample_grader.n_val, log=pytest.fail)
    assert Calibration.to_dict(again) == Calibration.to_dict(calibration)


@pytest.mark.slow  # calibrates: trains the reference models over seeds
def test_reference_passes_on_every_calibration_seed(fresh_calibration):
    calibration, _ = fresh_calibration
    for builder, model in calibration.models.items():
        assert len(model.accuracies) == 2
        assert min(model.accuracies) >= model.threshold, builder


@pytest.mark.slow  # calibrates: trains the reference models over seeds
def test_model_that_cannot_learn_fails_the_calibrated_threshold(fresh_calibration, sample_grader, probe_call):
    calibration, _ = fresh_calibration
    call = probe_call(mlp_frozen, "build_mlp")
    outcome = train_and_evaluate(call.model, "build_mlp", sample_grader.data, sample_grader.config.grading, seed=0)
    assert outcome.accuracy < 0.6
    with pytest.raises(AssertionError, match=r"reached test accuracy 0\.\d+ under the grading protocol, below the threshold.*near 50%"):
        check_model_reaches_reference_accuracy(trained(call, outcome, calibration.models["build_mlp"].threshold))


@pytest.mark.slow  # calibrates: trains the reference models over seeds
def test_reference_model_passes_the_accuracy_check(fresh_calibration, sample_grader, probe_call):
    calibration, _ = fresh_calibration
    call = probe_call(reference.build_cnn, "build_cnn")
    outcome = train_and_evaluate(call.model, "build_cnn", sample_grader.data, sample_grader.config.grading, seed=0)
    check_model_reaches_reference_accuracy(trained(call, outcome, calibration.models["build_cnn"].threshold))


@pytest.mark.slow  # calibrates: trains the reference models over seeds
def test_protocol_too_weak_to_separate_models_is_refused(sample_config, sample_grader):
    weak = sample_config.model_copy(update={"grading": sample_config.grading.model_copy(
        update={"n_train": 32, "learning_rate": 1e-7, "momentum": 0.0})})
    with pytest.raises(CalibrationError, match=r"reference build_mlp reaches only 0\.\d+ .*too close to chance"):
        calibrate(sample_grader.dataset, weak, sample_grader.n_val, seeds=2, log=lambda m: None)


@pytest.mark.slow  # calibrates: trains the reference models over seeds
def test_calibration_for_another_protocol_is_named_with_its_differences(fresh_calibration, two_seed_config,
                                                                        sample_grader):
    changed = two_seed_config.model_copy(update={"grading": two_seed_config.grading.model_copy(update={"n_train": 123})})
    found = json.loads(calibration_path(two_seed_config, sample_grader.dataset, sample_grader.n_val).read_text())
    n_train = two_seed_config.grading.n_train
    assert (describe_mismatch(found, sample_grader.dataset, changed, sample_grader.n_val)
            == f"grading.n_train {n_train} ≠ 123")
    assert describe_mismatch(found, sample_grader.dataset, two_seed_config, sample_grader.n_val) == ""


@pytest.mark.slow  # calibrates: trains the reference models over seeds
def test_calibration_made_with_another_keras_is_used_with_a_warning(fresh_calibration, two_seed_config, sample_grader):
    path = calibration_path(two_seed_config, sample_grader.dataset, sample_grader.n_val)
    original = path.read_text()
    saved = json.loads(original)
    saved["versions"]["keras"] = "3.0.0"
    path.write_text(json.dumps(saved))
    messages = []
    try:
        again = load_or_calibrate(sample_grader.dataset, two_seed_config, sample_grader.n_val, log=messages.append)
    finally:
        path.write_text(original)
    assert again.models["build_mlp"].accuracies == saved["models"]["build_mlp"]["accuracies"]
    assert len(messages) == 1
    assert messages[0].startswith(f"warning: the calibration {saved['key']} was made with keras 3.0.0 → {keras.__version__}")


@pytest.mark.slow  # calibrates: trains the reference models over seeds
def test_grader_says_which_calibration_differs_before_recalibrating(fresh_calibration, two_seed_config, sample_grader):
    changed = two_seed_config.model_copy(update={"grading": two_seed_config.grading.model_copy(update={"n_train": 3000})})
    messages = []
    load_or_calibrate(sample_grader.dataset, changed, sample_grader.n_val, log=messages.append)
    old_name = calibration_path(two_seed_config, sample_grader.dataset, sample_grader.n_val).name
    assert messages[0].startswith("warning: no calibration matches this data")
    assert f"  {old_name} does not match: grading.n_train {two_seed_config.grading.n_train} ≠ 3000" in messages
    assert calibration_path(changed, sample_grader.dataset, sample_grader.n_val).exists()
