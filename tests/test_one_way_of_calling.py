"""One way of calling student code: the self-check's Call and the grader's files record the same outcome.

Every probe (visible and hidden) is called with the same functions through ``call_here`` (the
student's own process) and through ``call_and_record`` + ``load_call`` (the grader's child and
nbgrader's hidden cells); the two Calls must agree field by field.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

import numpy as np
import pytest

from autograder.grader import reference
from autograder.hidden.every_probe import PROBES_BY_NAME
from autograder.engine.in_process import call_here
from autograder.isolation.recording import call_and_record, load_call


def _raises(*args, **kwargs):
    raise ValueError("a student's mistake")


def _exits(*args, **kwargs):
    sys.exit(3)


def _returns_none(*args, **kwargs):
    return None


def _returns_an_object(*args, **kwargs):
    return object()


def _changes_its_input_and_returns_a_list(first, *rest, **kwargs):
    first[...] = 0
    return [1, 2, 3]


def _returns_an_array_then_an_object(*args, **kwargs):
    return np.zeros(3), {"not": "data"}


def _returns_a_list_of_parts_of_different_shapes(*args, **kwargs):
    # Four values for split_train_val (its notebook cell unpacks a list as a tuple); one unreadable value elsewhere.
    return [np.zeros(3), np.zeros((2, 2)), np.zeros(1), np.zeros(4)]


def _returns_a_compiled_small_model(*args, **kwargs):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid", name="out")])
    model.compile(loss="mse", optimizer="adam", metrics=["accuracy"])
    return model


def _returns_an_uncompiled_model(*args, **kwargs):
    import keras

    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(1, activation="sigmoid", name="out")])


COMMON = {"raises": _raises, "exits": _exits, "returns None": _returns_none, "returns an object": _returns_an_object,
          "missing": None, "not a function": 42}
FOR_ARRAYS = {"changes its input": _changes_its_input_and_returns_a_list,
              "array then object": _returns_an_array_then_an_object,
              "list of parts": _returns_a_list_of_parts_of_different_shapes}
FOR_MODELS = {"another compiled model": _returns_a_compiled_small_model,
              "a new uncompiled model": _returns_an_uncompiled_model}


def cases():
    for name, probe in PROBES_BY_NAME.items():
        functions = {"correct": getattr(reference, probe.function), **COMMON,
                     **(FOR_ARRAYS if probe.returns == "arrays" else FOR_MODELS)}
        for label, func in functions.items():
            yield pytest.param(name, func, id=f"{name}-{label}")


@pytest.fixture(scope="module")
def both_ways(sample_grader, tmp_path_factory):
    """both_ways(func, probe_name) -> (Call made here, Call read back from the recorded files)."""
    base = tmp_path_factory.mktemp("one-way")
    counter = iter(range(10**6))

    def run(func, probe_name):
        probe = PROBES_BY_NAME[probe_name]
        inputs, kwargs = sample_grader.inputs_for([probe])
        seed = sample_grader.config.grading.seed
        here = call_here(func, probe, inputs[probe.name], kwargs[probe.name], seed)
        out = base / f"call{next(counter)}"
        out.mkdir()
        call_and_record(func, probe, inputs[probe.name], kwargs[probe.name], out, seed=seed)
        return here, load_call(probe, inputs[probe.name], kwargs[probe.name], out), out

    return run


def _unnumbered(config):
    """``config`` with Keras' numbering taken off its names: two calls never share dense_7, sequential_3, adam_1."""
    if isinstance(config, dict):
        return {k: re.sub(r"_\d+$", "", v) if k == "name" and isinstance(v, str) else _unnumbered(v)
                for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [_unnumbered(v) for v in config]
    return config


def assert_same_call(here, recorded):
    assert here.status == recorded.status
    assert here.error == recorded.error
    assert here.returned == recorded.returned
    for a, b in ((here.values, recorded.values), (here.inputs_after, recorded.inputs_after)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)
    assert _unnumbered(here.compile_config) == _unnumbered(recorded.compile_config)
    assert (here.model is None) == (recorded.model is None)
    if here.model is not None:
        assert _unnumbered(here.model.get_config()) == _unnumbered(recorded.model.get_config())
        assert here.model.count_params() == recorded.model.count_params()


@pytest.mark.parametrize(("probe_name", "func"), cases())
def test_both_ways_of_calling_record_the_same_outcome(both_ways, probe_name, func):
    here, recorded, _ = both_ways(func, probe_name)
    assert_same_call(here, recorded)
    if func is getattr(reference, PROBES_BY_NAME[probe_name].function):
        assert here.status == "ok"
        assert (here.model is not None) == (PROBES_BY_NAME[probe_name].returns != "arrays")


@pytest.mark.parametrize("probe_name", ["split_default_n_val", "relabel_digits", "prepare_cnn_test_set"])
def test_a_list_is_several_values_where_the_function_returns_several_and_unreadable_elsewhere(both_ways, probe_name):
    here, recorded, _ = both_ways(_returns_a_list_of_parts_of_different_shapes, probe_name)
    for call in (here, recorded):
        if PROBES_BY_NAME[probe_name].values == 4:
            assert call.status == "ok" and [v.shape for v in call.values] == [(3,), (2, 2), (1,), (4,)]
        else:  # the function returned: numpy cannot make one array of it, which is no error it raised
            assert call.status == "returned_other" and call.error["items"]["length"] == 4
            assert "returned a list of 4 arrays of different shapes" in str(call.failure_reason())


@pytest.mark.parametrize("probe_name", ["relabel_digits", "build_mlp", "compile_reference_mlp"])
def test_exit_is_the_calls_outcome_on_both_ways(both_ways, probe_name):
    here, recorded, _ = both_ways(_exits, probe_name)
    for call in (here, recorded):
        assert call.status == "raised" and call.error["type"] == "SystemExit" and call.error["message"] == "3"


def test_keyboard_interrupt_is_not_swallowed_on_either_way(sample_grader, tmp_path):
    def interrupted(y):
        raise KeyboardInterrupt

    probe = PROBES_BY_NAME["relabel_digits"]
    inputs, kwargs = sample_grader.inputs_for([probe])
    with pytest.raises(KeyboardInterrupt, match="^$"):  # the student's own, as raised (it has no message)
        call_here(interrupted, probe, inputs[probe.name], kwargs[probe.name])
    with pytest.raises(KeyboardInterrupt, match="^$"):
        call_and_record(interrupted, probe, inputs[probe.name], kwargs[probe.name], tmp_path)
    assert not list(tmp_path.iterdir())


def test_compile_model_gets_the_same_lecture_mlp_on_both_ways(both_ways):
    seen = []

    def compile_model(model):
        seen.append((_unnumbered(model.get_config()), [w.copy() for w in model.get_weights()]))
        model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])
        return model

    here, recorded, out = both_ways(compile_model, "compile_reference_mlp")
    assert_same_call(here, recorded)
    (config_here, weights_here), (config_recorded, weights_recorded) = seen
    assert config_here == config_recorded  # the lecture's MLP: test_the_kept_config_builds_the_reference_mlp
    # Seeded before it is built: the same weights on both ways.
    assert all(np.array_equal(a, b) for a, b in zip(weights_here, weights_recorded))
    assert json.loads((out / "compile_reference_mlp.json").read_text())["compiled"] is True


def test_the_kept_config_builds_the_reference_mlp():
    from autograder.engine.calling import compile_probe_model
    from autograder.course.expected_values import _named_by_position

    built = compile_probe_model()
    assert (_named_by_position(json.loads(built.to_json()))
            == _named_by_position(json.loads(reference.build_mlp().to_json())))
    assert built.count_params() == reference.build_mlp().count_params()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")
def test_a_process_forked_by_the_function_ends_there_on_both_ways(both_ways):
    me = os.getpid()
    children = []

    def relabel_odd_even(y):
        pid = os.fork()
        if pid == 0:
            return np.zeros_like(y)  # the forked process's answer must never be recorded
        children.append(pid)
        return np.asarray(y) % 2

    here, recorded, _ = both_ways(relabel_odd_even, "relabel_digits")
    if os.getpid() != me:  # a forked process got past the call: the guard is missing
        os._exit(7)
    for pid in children:
        deadline = time.monotonic() + 20
        while (waited := os.waitpid(pid, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        if waited == (0, 0):
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked process did not end at the call")
        assert os.waitstatus_to_exitcode(waited[1]) == 0
    assert len(children) == 2
    assert_same_call(here, recorded)
    assert here.status == "ok" and np.array_equal(here.values[0], here.inputs["y"] % 2)
