"""Probes: the calls the checks make to a student's functions, and the visible ones among them.

A probe names one student function, the inputs it is called with and what it must return; what that
call did is a ``Call`` (``autograder.evidence.call_record``). This module holds the VISIBLE probes only: the hidden
ones, and their inputs, are the instructor's (``autograder.hidden.every_probe``). Who makes the
calls is not decided here: ``autograder.engine.in_process`` calls functions in this process (a student's
self-check, nbgrader's visible test cells), ``autograder.isolation`` in a jailed child.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np


Returns = Literal["arrays", "model", "compiled_model"]


@dataclass(frozen=True)
class Probe:
    """One call of a student function: which function, which inputs, what it must return."""

    name: str
    # The group whose check cell makes this call, and whose rules (``autograder.checks``) examine it.
    group: str
    function: str
    args: tuple[str, ...]
    returns: Returns
    make_inputs: Callable[[Any, np.random.Generator], dict[str, np.ndarray]] = field(repr=False)
    kwargs: tuple[tuple[str, int], ...] = ()
    hidden: bool = False
    # Called with n_val=<the course's validation size> instead of a fixed number.
    n_val_from_course: bool = False
    # Its inputs come from the data set (MNIST): only these probes make the grader load it.
    needs_dataset: bool = False
    # The input the returned model is trained on: a model saved without an input shape is sized on it.
    model_input: tuple[int, ...] | None = None
    # Its inputs carry their own index (``_indexed``): whether x and y stay aligned can be seen.
    inputs_carry_their_index: bool = False
    # How many arrays the function returns (its docstring's). With more than one, a list (any sequence) comes
    # back as several values, as a tuple does: the notebook's own `a, b, c, d = f(...)` accepts either.
    values: int = 1


def _digits(dataset, rng):
    return {"y": np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0], dtype=np.uint8)}


def _indexed(n):
    # Every sample carries its own index, so order, reversal and x/y misalignment are all visible.
    return {"x": np.arange(n * 4, dtype=np.int32).reshape(n, 2, 2), "y": np.arange(n, dtype=np.int32)}


def _indexed_12000(dataset, rng):
    return _indexed(12000)


def _small_images(dataset, rng):
    x = rng.integers(0, 256, size=(37, 28, 28)).astype(np.uint8)
    x[0, 0, 0], x[0, 0, 1] = 0, 255  # both ends of the pixel range, so /255 is checkable exactly
    return {"x": x}


def _nothing(dataset, rng):
    return {}


VISIBLE_PROBES: tuple[Probe, ...] = (
    Probe("relabel_digits", "relabel", "relabel_odd_even", ("y",), "arrays", _digits),
    Probe("split_default_n_val", "split", "split_train_val", ("x", "y"), "arrays", _indexed_12000,
          inputs_carry_their_index=True, values=4),
    Probe("split_n_val_2000", "split", "split_train_val", ("x", "y"), "arrays", _indexed_12000,
          kwargs=(("n_val", 2000),), inputs_carry_their_index=True, values=4),
    Probe("prepare_mlp_37_images", "prepare", "prepare_mlp_input", ("x",), "arrays", _small_images),
    Probe("prepare_cnn_37_images", "prepare", "prepare_cnn_input", ("x",), "arrays", _small_images),
    Probe("build_mlp", "mlp", "build_mlp", (), "model", _nothing, model_input=(784,)),
    Probe("build_cnn", "cnn", "build_cnn", (), "model", _nothing, model_input=(28, 28, 1)),
    Probe("build_deep_cnn", "deep_cnn", "build_deep_cnn", (), "model", _nothing, model_input=(28, 28, 1)),
    # compile_model gets the lecture's MLP, so a wrong builder cannot fail the compile group.
    Probe("compile_reference_mlp", "compile", "compile_model", ("model",), "compiled_model", _nothing),
    # The accuracy group's own calls of the builders, made where its check cells run (the end of the
    # notebook), as nbgrader's accuracy cells call them: a builder fixed below its own check cell counts here.
    Probe("build_mlp_for_accuracy", "accuracy", "build_mlp", (), "model", _nothing, model_input=(784,)),
    Probe("build_cnn_for_accuracy", "accuracy", "build_cnn", (), "model", _nothing, model_input=(28, 28, 1)),
    Probe("build_deep_cnn_for_accuracy", "accuracy", "build_deep_cnn", (), "model", _nothing, model_input=(28, 28, 1)),
)
VISIBLE_PROBES_BY_NAME = {p.name: p for p in VISIBLE_PROBES}


def probe_kwargs(probe: Probe, n_val: int) -> dict[str, int]:
    """Keyword arguments of the call, with the course's validation size where the probe asks for it."""
    kwargs = dict(probe.kwargs)
    if probe.n_val_from_course:
        kwargs["n_val"] = n_val
    return kwargs


def make_inputs(probe: Probe, dataset, seed: int) -> dict[str, np.ndarray]:
    """The probe's input arrays, the same for the same data set and seed."""
    rng = np.random.default_rng([seed, sum(map(ord, probe.name))])
    return probe.make_inputs(dataset, rng)
