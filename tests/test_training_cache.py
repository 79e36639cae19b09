"""The class's training cache (autograder/grader/training_cache.py): files, keys, damage. No TensorFlow here; the
class graded with and without it is in test_training_cache_class.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.evidence.training_outcome import TrainingOutcome
from autograder.batch.ledger import ledger_path
from autograder.grader.training_cache import TrainingCache, cache_folder, data_fingerprint

CONTEXT = {"format": 1, "protocol": {"seed": 0, "deterministic": True}, "data": "abc", "libraries": {"keras": "3"}}
KEY = '["mlp", "Sequential", {"layers": []}]'


def trained(key=KEY, **changes) -> TrainingOutcome:
    outcome = TrainingOutcome("build_mlp", 0, 0.91, 0.25, {"loss": [0.5, 0.25], "step": [1, 2]}, 3.5,
                              test_probabilities=np.asarray([0.1, 0.875], dtype=np.float32), key=key)
    for name, value in changes.items():
        setattr(outcome, name, value)
    return outcome


def test_a_stored_training_is_found_under_its_key_and_context_only(tmp_path):
    cache = TrainingCache(tmp_path / "cache", CONTEXT)
    assert cache.lookup(KEY) is None
    assert cache.store(trained())
    found = cache.lookup(KEY)
    assert (found["accuracy"], found["loss"], found["history"], found["test_probabilities"], found["key"]) == (
        0.91, 0.25, {"loss": [0.5, 0.25], "step": [1, 2]}, [0.1, 0.875], KEY)
    assert cache.lookup(KEY.replace("mlp", "cnn")) is None  # another model
    for changed in ({**CONTEXT, "data": "abd"}, {**CONTEXT, "protocol": {"seed": 1, "deterministic": True}},
                    {**CONTEXT, "protocol": {"seed": 0, "deterministic": False}}, {**CONTEXT, "libraries": {"keras": "4"}}):
        assert TrainingCache(tmp_path / "cache", changed).lookup(KEY) is None, changed


def test_an_entry_is_written_and_read_as_earlier_kits_wrote_it(tmp_path):
    # The files outlive a kit update: the training's part of an entry keeps its fields, order and rounding.
    written = ('{"builder": "build_mlp", "seed": 0, "accuracy": 0.91, "loss": 0.25, "history": {"loss": [0.5, 0.25], '
               '"step": [1, 2]}, "seconds": 3.5, "error": null, "test_probabilities": [0.1, 0.875], "key": '
               + json.dumps(KEY) + ', "reused": false}')
    assert json.dumps(trained().to_full_dict()) == written
    back = TrainingOutcome.from_full_dict(json.loads(written))
    assert (back.builder, back.accuracy, back.history, back.key, back.reused) == (
        "build_mlp", 0.91, {"loss": [0.5, 0.25], "step": [1.0, 2.0]}, KEY, False)
    assert back.test_probabilities.tolist() == [np.float32(0.1), 0.875]
    cache = TrainingCache(tmp_path / "cache", CONTEXT)
    cache.path_for(KEY).parent.mkdir(parents=True)
    cache.path_for(KEY).write_text('{"format": %d, "context": %s, "model": %s, "training": %s}' % (
        1, json.dumps(cache.context), json.dumps(KEY), written), encoding="utf-8")
    assert cache.lookup(KEY) == json.loads(written)


def test_only_fresh_complete_trainings_are_filed(tmp_path):
    cache = TrainingCache(tmp_path, CONTEXT)
    assert not cache.store(trained(reused=True))
    assert not cache.store(trained(error="training ran past the time limit"))
    assert not cache.store(trained(key=None))  # a model whose config cannot be read
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", [
    lambda text: text[: len(text) // 2],  # cut short
    lambda text: "not json",
    lambda text: text.replace('"accuracy": 0.91', '"accuracy": "0.91"'),  # fails the model process's answer checks
    lambda text: text.replace('"builder": "build_mlp"', '"builder": "build_everything"'),
    lambda text: text.replace('"model": "[', '"model": "[[', 1),  # filed under another key
    lambda text: json.dumps({**json.loads(text), "training": None}),
], ids=["truncated", "not_json", "accuracy_as_text", "unknown_builder", "another_key", "no_training"])
def test_a_damaged_entry_is_ignored_and_the_fresh_training_overwrites_it(tmp_path, damage):
    cache = TrainingCache(tmp_path, CONTEXT)
    cache.store(trained())
    path = cache.path_for(KEY)
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    assert cache.lookup(KEY) is None
    assert cache.store(trained(accuracy=0.92)) and cache.lookup(KEY)["accuracy"] == 0.92


def test_an_entry_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    import os

    cache = TrainingCache(tmp_path, CONTEXT)
    cache.store(trained())

    def interrupted(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", interrupted)
    assert not cache.store(trained(accuracy=0.5))
    assert "No space left on device" in cache.write_problem
    assert [p.name for p in tmp_path.iterdir()] == [cache.path_for(KEY).name]  # no temp file left beside it
    assert cache.lookup(KEY)["accuracy"] == 0.91  # the old entry, whole


def test_an_unwritable_folder_costs_the_memo_only(tmp_path):
    (tmp_path / "cache").write_text("a file where the folder should be", encoding="utf-8")
    cache = TrainingCache(tmp_path / "cache", CONTEXT)
    assert not cache.store(trained()) and cache.write_problem and cache.lookup(KEY) is None


def test_the_cache_lies_beside_the_ledger_and_the_data_fingerprint_sees_every_byte(tmp_path):
    assert cache_folder(tmp_path, "binary_mnist") == tmp_path / "grades" / "binary_mnist.training-cache"
    assert cache_folder(tmp_path, "binary_mnist").parent == ledger_path(tmp_path, "binary_mnist").parent
    arrays = {"x": np.zeros((2, 3), dtype=np.float32), "y": np.zeros(2, dtype=np.float32)}
    changed = {"x": arrays["x"].copy(), "y": arrays["y"]}
    changed["x"][1, 2] = 1e-7
    assert data_fingerprint(arrays) != data_fingerprint(changed)
    assert data_fingerprint(arrays) != data_fingerprint({"x": arrays["x"].reshape(3, 2), "y": arrays["y"]})
