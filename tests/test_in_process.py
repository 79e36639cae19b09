"""The student wing's runner: calls made in this process become the Calls the checks read."""

import sys

import numpy as np

from autograder.engine.in_process import call_here
from autograder.evidence.probes import VISIBLE_PROBES_BY_NAME

RELABEL = VISIBLE_PROBES_BY_NAME["relabel_digits"]
Y = {"y": np.arange(10, dtype=np.uint8)}


def test_a_returned_array_is_recorded_with_the_input_after_the_call():
    call = call_here(lambda y: y % 2, RELABEL, Y, {})
    assert call.status == "ok" and np.array_equal(call.values[0], Y["y"] % 2)
    assert np.array_equal(call.inputs_after[0], Y["y"])


def test_exit_in_a_function_is_its_outcome_not_the_end_of_the_self_check():
    call = call_here(lambda y: sys.exit(3), RELABEL, Y, {})
    assert call.status == "raised" and call.error["type"] == "SystemExit"


def test_a_model_keras_cannot_rebuild_is_unreadable_as_in_grading():
    import keras

    class Custom(keras.layers.Layer):  # not registered: Keras' safe loading cannot rebuild it
        def call(self, x):
            return x

    model = keras.Sequential([keras.Input((784,)), Custom(), keras.layers.Dense(1, activation="sigmoid")])
    call = call_here(lambda: model, VISIBLE_PROBES_BY_NAME["build_mlp"], {}, {})
    assert call.status == "unreadable" and call.error["message"].startswith(
        "the saved model uses what the grader does not rebuild: layer custom is a Custom. Hint: build it")


def test_a_keras_layer_the_grader_does_not_rebuild_fails_the_self_check_too(probe_call):
    import keras

    # GaussianNoise is Keras' own, but not on the grader's allowlist of plain layers.
    model = keras.Sequential([keras.Input((784,)), keras.layers.GaussianNoise(0.1, name="noise"),
                              keras.layers.Dense(1, activation="sigmoid")])

    def build_mlp():
        return model

    here = call_here(build_mlp, VISIBLE_PROBES_BY_NAME["build_mlp"], {}, {})
    graded = probe_call(build_mlp, "build_mlp")
    assert here.status == graded.status == "unreadable"
    assert here.error["message"] == graded.error["message"]
    assert "layer noise is a GaussianNoise. Hint: build it with keras.Sequential" in here.error["message"]
