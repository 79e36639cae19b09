"""The grading protocol's training: optimizer, schedule and determinism."""

import keras
import pytest

from autograder.grader import reference
from autograder.engine.training import make_optimizer, train_and_evaluate


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
def test_same_model_and_seed_train_to_exactly_the_same_accuracy(sample_grader):
    first = train_and_evaluate(reference.build_mlp(), "build_mlp", sample_grader.data,
                               sample_grader.config.grading, seed=7)
    second = train_and_evaluate(reference.build_mlp(), "build_mlp", sample_grader.data,
                                sample_grader.config.grading, seed=7)
    assert first.error is None
    assert first.accuracy == second.accuracy
    assert first.history == second.history


def test_one_epoch_still_records_a_curve_of_running_loss_and_accuracy(sample_grader):
    outcome = train_and_evaluate(reference.build_mlp(), "build_mlp", sample_grader.data,
                                 sample_grader.config.grading, seed=0)
    assert len(outcome.history["step"]) >= 10
    assert outcome.history["step_loss"][-1] < outcome.history["step_loss"][0]


def test_training_past_its_time_limit_stops_with_a_reason(sample_grader):
    outcome = train_and_evaluate(reference.build_mlp(), "build_mlp", sample_grader.data,
                                 sample_grader.config.grading, seed=0, timeout_s=1e-6)
    assert outcome.accuracy is None
    assert outcome.error.startswith("training ran past the time limit of 1e-06 s (limits.training_timeout_s) after 1 of")


def test_a_session_trains_each_model_config_once_and_reuses_its_outcome(sample_config):
    """Two submissions with the lecture's MLP (other layer names) train once; another model trains again."""
    import keras

    from autograder.engine.check_session import CheckSession, training_key
    from autograder.evidence.call_record import Call
    from autograder.evidence.probes import VISIBLE_PROBES_BY_NAME

    probe = VISIBLE_PROBES_BY_NAME["build_mlp_for_accuracy"]

    def mlp(units, dtype="float32"):
        return keras.Sequential([keras.Input((784,)), keras.layers.Dense(units, activation="relu", dtype=dtype),
                                 keras.layers.Dense(1, activation="sigmoid", dtype=dtype)])

    first, renamed, wider, half = mlp(8), mlp(8), mlp(16), mlp(8, "float16")
    assert training_key(first, "build_mlp") == training_key(renamed, "build_mlp")
    assert len({training_key(m, "build_mlp") for m in (first, wider, half)}) == 3  # the dtype is not a name
    session = CheckSession(sample_config, log=lambda m: None)
    trained = []
    session.log = trained.append
    outcomes = [session._training_for(Call(probe, {}, {}, "ok", model=m))[0] for m in (first, renamed, wider)]
    assert len(trained) == 2 and outcomes[0] is not outcomes[1]
    assert outcomes[0].accuracy == outcomes[1].accuracy and outcomes[0].history == outcomes[1].history
    assert [o.reused for o in outcomes] == [False, True, False]  # the second was not trained for its submission


def test_a_model_that_differs_in_anything_but_names_has_another_training_key():
    import keras

    from autograder.engine.check_session import training_key

    def mlp(name="m", **dense):
        return keras.Sequential([keras.Input((784,)), keras.layers.Dense(8, activation="relu", name=f"{name}_d", **dense),
                                 keras.layers.Dense(1, activation="sigmoid")], name=name)

    variants = {"lecture": mlp(), "initializer": mlp(kernel_initializer="he_normal"),
                "regulariser": mlp(kernel_regularizer="l2"), "dtype": mlp(dtype="float64"),
                "bias": mlp(use_bias=False), "constraint": mlp(kernel_constraint="non_neg")}
    keys = {what: training_key(model, "build_mlp") for what, model in variants.items()}
    assert len(set(keys.values())) == len(keys), keys
    assert training_key(mlp("other"), "build_mlp") == keys["lecture"]  # names aside
    # The input kind, not the builder: the CNN builders' models take the same input.
    assert training_key(mlp(), "build_cnn") == training_key(mlp(), "build_deep_cnn") != keys["lecture"]
