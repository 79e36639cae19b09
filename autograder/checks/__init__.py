"""The visible check registry: every check a student can run, its group, and the probe (student call) it examines.

The hidden checks apply the same rules to the hidden probes; they are registered in the
instructor wing (``autograder.grader.hidden_probes``), which this package never imports.

Each check is a plain function ``check_<behaviour>(call, ...)`` that returns None or raises
AssertionError with a message naming the call, the rule, expected vs. actual, and a hint.
Within a group the order is the order students read the results in: first whether the call
returned at all, then shape, then values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from autograder.checks import architecture, compile, prepare, relabel, split
from autograder.checks.accuracy import check_model_reaches_reference_accuracy
from autograder.probes import VISIBLE_PROBES_BY_NAME, Probe


@dataclass(frozen=True)
class Check:
    """One rule applied to one probe's outcome."""

    group: str
    func: Callable
    probe: Probe
    # Accuracy checks also need the model trained under the grading protocol.
    needs_training: bool = False

    @property
    def probe_name(self) -> str:
        return self.probe.name

    @property
    def hidden(self) -> bool:
        return self.probe.hidden

    @property
    def name(self) -> str:
        return f"{self.func.__name__}[{self.probe_name}]"

    @property
    def rule(self) -> str:
        return (self.func.__doc__ or "").strip().splitlines()[0]


def each(group: str, rules: tuple[Callable, ...], probes: tuple[Probe, ...]) -> list[Check]:
    """One check per rule and probe, probe by probe (the order students read the results in)."""
    return [Check(group, rule, probe) for probe in probes for rule in rules]


def _visible(*names: str) -> tuple[Probe, ...]:
    return tuple(VISIBLE_PROBES_BY_NAME[n] for n in names)


RELABEL_RULES = (relabel.check_relabel_keeps_shape, relabel.check_relabel_returns_only_zeros_and_ones,
                 relabel.check_relabel_maps_odd_to_1_and_even_to_0, relabel.check_relabel_leaves_input_unchanged)
SPLIT_RULES = (split.check_split_returns_four_arrays, split.check_split_sizes, split.check_split_keeps_order)
# The aligned check needs inputs that carry their index, which the training-set probe's don't.
INDEXED_SPLIT_RULES = SPLIT_RULES + (split.check_split_keeps_x_and_y_aligned,)
PREPARE_RULES = (prepare.check_prepare_returns_float32, prepare.check_prepare_shape,
                 prepare.check_prepare_scales_to_unit_range, prepare.check_prepare_keeps_pixel_values)
MODEL_RULES = (architecture.check_builder_returns_keras_model, architecture.check_model_input_shape,
               architecture.check_model_layers_match_lecture, architecture.check_last_layer_is_dense_1_sigmoid,
               architecture.check_model_parameter_count)
COMPILE_RULES = (compile.check_compile_loss_is_binary_crossentropy, compile.check_compile_optimizer_is_sgd,
                 compile.check_compile_metrics_include_accuracy)

VISIBLE_CHECKS: tuple[Check, ...] = tuple(
    each("relabel", RELABEL_RULES, _visible("relabel_digits"))
    + each("split", INDEXED_SPLIT_RULES, _visible("split_default_n_val", "split_n_val_2000"))
    + each("prepare", PREPARE_RULES, _visible("prepare_mlp_37_images", "prepare_cnn_37_images"))
    + each("mlp", MODEL_RULES, _visible("build_mlp"))
    + each("cnn", MODEL_RULES, _visible("build_cnn"))
    + each("deep_cnn", MODEL_RULES, _visible("build_deep_cnn"))
    + each("compile", COMPILE_RULES, _visible("compile_reference_mlp"))
    + [Check("accuracy", check_model_reaches_reference_accuracy, p, needs_training=True)
       for p in _visible("build_mlp_for_accuracy", "build_cnn_for_accuracy", "build_deep_cnn_for_accuracy")]
)


def visible_checks(groups: tuple[str, ...] | None = None) -> list[Check]:
    """The visible checks of ``groups`` (all groups when None)."""
    return [c for c in VISIBLE_CHECKS if groups is None or c.group in groups]
