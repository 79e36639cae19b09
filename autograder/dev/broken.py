"""Typical wrong answers, used to show that grading separates good submissions from broken ones.

Each variant is one bug a student makes, described twice:

* ``train_edit``/``data_edit``/``loss``: the bug applied to the grading protocol's training run
  (a model edit, a data edit or the loss), to measure what the accuracy check alone does with it;
* ``replacements``: the bug written into a whole submission (function name → source), to measure
  what the full grade does with it.

``discriminate`` trains the reference and every variant over the same seeds and applies the real
accuracy check to each run; the benchmark prints the full table, a test runs a small one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from autograder.evidence.call_record import Call
from autograder.checks.accuracy import check_model_reaches_reference_accuracy
from autograder.course.examples import reference_source
from autograder.grader import reference
from autograder.evidence.probes import VISIBLE_PROBES_BY_NAME
from autograder.engine.training import GradingData, train_and_evaluate
from autograder.evidence.training_outcome import ProtocolTraining

_OUTPUT = 'layers.Dense(1, activation="sigmoid")'
_MODELS = ("mlp", "cnn", "deep_cnn", "accuracy")


def _edit_output_layer(model, **changes):
    """A copy of a Sequential model whose last layer's config has ``changes``."""
    import keras

    config = model.get_config()
    config["layers"][-1]["config"].update(changes)
    return keras.Sequential.from_config(config)


def _freeze(model):
    import keras

    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] != "InputLayer":
            layer["config"]["trainable"] = False
    return keras.Sequential.from_config(config)


def _in_function(name: str, *edits: tuple[str, str]) -> dict[str, str]:
    """The reference source of ``name`` with each (old, new) edit applied: a student's version with the bug."""
    source = reference_source(name)
    for old, new in edits:
        if old not in source:
            raise RuntimeError(f"reference.{name} no longer contains {old!r}: update autograder/dev/broken.py")
        source = source.replace(old, new)
    return {name: source}


def _in_every_builder(*edits: tuple[str, str]) -> dict[str, str]:
    return {name: src for b in ("build_mlp", "build_cnn", "build_deep_cnn") for name, src in _in_function(b, *edits).items()}


@dataclass(frozen=True)
class BrokenVariant:
    name: str
    description: str
    model_edit: Callable | None = None
    data_edit: Callable[[GradingData], GradingData] | None = None
    loss: str = "binary_crossentropy"
    train: bool = True
    # Function name -> replacement source for a whole submission with this bug (empty: not a submission bug).
    replacements: dict[str, str] = field(default_factory=dict)
    # Groups a submission with this bug loses (checked by tests/test_broken.py and the benchmark).
    caught_by: tuple[str, ...] = ()
    # Whether the accuracy threshold alone rejects it on every seed; False where the bug never
    # reaches the grading protocol's training (the grader trains on the reference pipeline with
    # the reference loss), so only its own group can catch it.
    fails_accuracy_check: bool = True


def _unscaled(data: GradingData) -> GradingData:
    return replace(data, x_train={k: v * 255 for k, v in data.x_train.items()},
                   x_test={k: v * 255 for k, v in data.x_test.items()})


def _inverted(data: GradingData) -> GradingData:
    return replace(data, y_train=1 - data.y_train)


VARIANTS: tuple[BrokenVariant, ...] = (
    BrokenVariant("relu_output", "output layer Dense(1, relu)",
                  model_edit=lambda m: _edit_output_layer(m, activation="relu"),
                  replacements=_in_every_builder((_OUTPUT, 'layers.Dense(1, activation="relu")')), caught_by=_MODELS),
    BrokenVariant("softmax_output", "output layer Dense(1, softmax)",
                  model_edit=lambda m: _edit_output_layer(m, activation="softmax"),
                  replacements=_in_every_builder((_OUTPUT, 'layers.Dense(1, activation="softmax")')), caught_by=_MODELS),
    BrokenVariant("linear_output", "output layer Dense(1) with no activation",
                  model_edit=lambda m: _edit_output_layer(m, activation="linear"),
                  replacements=_in_every_builder((_OUTPUT, "layers.Dense(1)")), caught_by=_MODELS),
    BrokenVariant("two_unit_sigmoid", "output layer Dense(2, sigmoid)",
                  model_edit=lambda m: _edit_output_layer(m, units=2),
                  replacements=_in_every_builder((_OUTPUT, 'layers.Dense(2, activation="sigmoid")')), caught_by=_MODELS),
    BrokenVariant("no_scaling", "pixels left in 0..255 (no /255)", data_edit=_unscaled,
                  replacements={**_in_function("prepare_mlp_input", ("/ 255", "/ 1")),
                                **_in_function("prepare_cnn_input", ("/ 255", "/ 1"))},
                  caught_by=("prepare",), fails_accuracy_check=False),
    BrokenVariant("labels_inverted", "odd and even swapped in relabel", data_edit=_inverted,
                  replacements=_in_function("relabel_odd_even", ("np.asarray(y) % 2", "1 - np.asarray(y) % 2")),
                  caught_by=("relabel",)),
    BrokenVariant("mse_loss", "compiled with mean squared error", loss="mse",
                  replacements=_in_function("compile_model", ('loss="binary_crossentropy"', 'loss="mse"')),
                  caught_by=("compile",), fails_accuracy_check=False),
    BrokenVariant("frozen", "every layer trainable=False", model_edit=_freeze,
                  replacements=_in_every_builder(('activation="relu")', 'activation="relu", trainable=False)'),
                                                 ('activation="sigmoid")', 'activation="sigmoid", trainable=False)')),
                  caught_by=("accuracy",)),
    BrokenVariant("untrained", "weights never trained (evaluated as initialised)", train=False),
    BrokenVariant("constant_output", "output layer frozen at zero weights: always predicts 0.5",
                  model_edit=lambda m: _edit_output_layer(m, kernel_initializer={"class_name": "Zeros", "config": {}},
                                                          trainable=False),
                  replacements=_in_every_builder(
                      (_OUTPUT, 'layers.Dense(1, activation="sigmoid", kernel_initializer="zeros", trainable=False)')),
                  caught_by=("accuracy",)),
)
VARIANTS_BY_NAME = {v.name: v for v in VARIANTS}


@dataclass
class DiscriminationRow:
    """One variant (or the reference) on one model over several seeds."""

    variant: str
    builder: str
    accuracies: list[float | None]
    failed: list[bool]

    def summary(self) -> str:
        accs = [a for a in self.accuracies if a is not None]
        span = f"{min(accs):.4f}–{max(accs):.4f}" if accs else "not trainable"
        return f"{self.variant:<16} {self.builder:<15} accuracy {span:<15} fails the accuracy check on " \
               f"{sum(self.failed)}/{len(self.failed)} seeds"


def run_variant(variant: BrokenVariant | None, builder: str, data: GradingData, protocol, seed: int,
                threshold: float) -> tuple[float | None, bool]:
    """Train one model (the reference, or it with the variant's bug) and apply the real accuracy check.

    Returns (test accuracy or None, whether the accuracy check failed).
    """
    import keras

    keras.utils.set_random_seed(seed)
    model = getattr(reference, builder)()
    if variant and variant.model_edit:
        model = variant.model_edit(model)
    run_data = variant.data_edit(data) if variant and variant.data_edit else data
    outcome = train_and_evaluate(model, builder, run_data, protocol, seed,
                                 loss=variant.loss if variant else "binary_crossentropy",
                                 train=variant.train if variant else True)
    call = Call(VISIBLE_PROBES_BY_NAME[builder], {}, {}, "ok", model=model,
                returned={"types": [type(model).__name__], "is_keras_model": True},
                train_under_protocol=lambda: ProtocolTraining(outcome, threshold, "calibration"))
    try:
        check_model_reaches_reference_accuracy(call)
    except AssertionError:
        return outcome.accuracy, True
    return outcome.accuracy, False


def discriminate(data: GradingData, protocol, thresholds: dict[str, float], seeds: list[int],
                 builders: tuple[str, ...], variants: tuple[BrokenVariant | None, ...] = (None, *VARIANTS),
                 log: Callable[[str], None] = print) -> list[DiscriminationRow]:
    """Each variant (None: the reference) on each builder over ``seeds``."""
    rows = []
    for variant in variants:
        for builder in builders:
            accs, failed = [], []
            for seed in seeds:
                acc, fail = run_variant(variant, builder, data, protocol, seed, thresholds[builder])
                accs.append(acc)
                failed.append(fail)
            row = DiscriminationRow(variant.name if variant else "reference", builder, accs, failed)
            log(row.summary())
            rows.append(row)
    return rows
