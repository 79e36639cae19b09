"""Every probe grading makes: the hidden ones, which run only when grading on inputs the students never see,
beside the visible ones (``autograder.evidence.probes``), all by name (``PROBES_BY_NAME``).

Other inputs (all 70,000 labels, random labels, a split of 777 samples, the full training and test
sets) catch answers that fit only the visible examples. Instructor wing: never shipped to students.
"""

from __future__ import annotations

import numpy as np

from autograder.evidence.probes import VISIBLE_PROBES, Probe, _indexed


def _all_labels(dataset, rng):
    return {"y": np.concatenate([dataset.y_train, dataset.y_test])}


def _random_labels(dataset, rng):
    return {"y": rng.integers(0, 10, size=int(rng.integers(500, 1500))).astype(np.int64)}


def _indexed_777(dataset, rng):
    return _indexed(777)


def _mnist_train(dataset, rng):
    return {"x": dataset.x_train, "y": dataset.y_train}


def _test_images(dataset, rng):
    return {"x": dataset.x_test}


HIDDEN_PROBES: tuple[Probe, ...] = (
    Probe("relabel_all_labels", "relabel", "relabel_odd_even", ("y",), "arrays", _all_labels, hidden=True,
          needs_dataset=True),
    Probe("relabel_random_labels", "relabel", "relabel_odd_even", ("y",), "arrays", _random_labels, hidden=True),
    Probe("split_n_val_111_of_777", "split", "split_train_val", ("x", "y"), "arrays", _indexed_777,
          kwargs=(("n_val", 111),), hidden=True, inputs_carry_their_index=True, values=4),
    Probe("split_training_set", "split", "split_train_val", ("x", "y"), "arrays", _mnist_train, hidden=True,
          n_val_from_course=True, needs_dataset=True, values=4),
    Probe("prepare_mlp_test_set", "prepare", "prepare_mlp_input", ("x",), "arrays", _test_images, hidden=True,
          needs_dataset=True),
    Probe("prepare_cnn_test_set", "prepare", "prepare_cnn_input", ("x",), "arrays", _test_images, hidden=True,
          needs_dataset=True),
)
# Every probe, visible and hidden, by name: what the grader and its child process look probes up in.
PROBES_BY_NAME = {p.name: p for p in VISIBLE_PROBES + HIDDEN_PROBES}


def function_called_by(probe: str) -> str:
    """The student function a probe calls ('build_mlp_for_accuracy' → build_mlp; an unknown name is returned as
    it is). Probe names are not function names, so a check cannot be matched to a model by its name alone."""
    known = PROBES_BY_NAME.get(probe)
    return known.function if known else probe

