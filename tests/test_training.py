"""The grading protocol's training: optimizer, schedule and determinism."""

import keras
import pytest

from autograder.grader import reference
from autograder.training import make_optimizer, train_and_evaluate


def test_cosine_schedule_decays_the_learning_rate_to_zero_at_the_last_step(sample_config):
    optimizer = make_optimizer(sample_config.grading, steps=100)
    assert isinstance(optimizer, keras.optimizers.Adam)
    schedule = optimizer.learning_rate if callable(optimizer.learning_rate) else optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(sample_config.grading.learning_rate)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-9)


def test_sgd_with_a_constant_rate_is_available_for_courses_that_want_it(sample_config):
    protocol = sample_config.grading.model_copy(update={"optimizer": "sgd", "schedule": "constant", "learning_rate": 0.05})
    optimizer = make_optimizer(protocol, steps=100)
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(optimizer.learning_rate) == pytest.approx(0.05)
    assert float(optimizer.momentum) == pytest.approx(protocol.momentum)


@pytest.mark.slow  # trains a model twice
def test_same_model_and_seed_train_to_exactly_the_same_accuracy(grader):
    first = train_and_evaluate(reference.build_mlp(), "build_mlp", grader.data, grader.config.grading, seed=7)
    second = train_and_evaluate(reference.build_mlp(), "build_mlp", grader.data, grader.config.grading, seed=7)
    assert first.error is None
    assert first.accuracy == second.accuracy
    assert first.history == second.history


def test_one_epoch_still_records_a_curve_of_running_loss_and_accuracy(grader):
    outcome = train_and_evaluate(reference.build_mlp(), "build_mlp", grader.data, grader.config.grading, seed=0)
    assert len(outcome.history["step"]) >= 10
    assert outcome.history["step_loss"][-1] < outcome.history["step_loss"][0]


def test_training_past_its_time_limit_stops_with_a_reason(grader):
    outcome = train_and_evaluate(reference.build_mlp(), "build_mlp", grader.data, grader.config.grading, seed=0,
                                 timeout_s=1e-6)
    assert outcome.accuracy is None
    assert outcome.error.startswith("training ran past the time limit of 1e-06 s (limits.training_timeout_s) after 1 of")
