"""The check registry: every check, its group, and the probe (student call) it examines.

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
from autograder.probes import PROBES_BY_NAME, Probe


@dataclass(frozen=True)
class Check:
    """One rule applied to one probe's outcome."""

    group: str
    func: Callable
    probe_name: str
    # Accuracy checks also need the model trained under the grading protocol.
    needs_training: bool = False

    @property
    def probe(self) -> Probe:
        return PROBES_BY_NAME[self.probe_name]

    @property
    def hidden(self) -> bool:
        return self.probe.hidden

    @property
    def name(self) -> str:
        return f"{self.func.__name__}[{self.probe_name}]"

    @property
    def rule(self) -> str:
        return (self.func.__doc__ or "").strip().splitlines()[0]


def _each(group: str, funcs: tuple[Callable, ...], probes: tuple[str, ...]) -> list[Check]:
    return [Check(group, f, p) for p in probes for f in funcs]


_RELABEL = (relabel.check_relabel_keeps_shape, relabel.check_relabel_returns_only_zeros_and_ones,
            relabel.check_relabel_maps_odd_to_1_and_even_to_0, relabel.check_relabel_leaves_input_unchanged)
_SPLIT = (split.check_split_returns_four_arrays, split.check_split_sizes, split.check_split_keeps_order)
_PREPARE = (prepare.check_prepare_returns_float32, prepare.check_prepare_shape,
            prepare.check_prepare_scales_to_unit_range, prepare.check_prepare_keeps_pixel_values)
_MODEL = (architecture.check_builder_returns_keras_model, architecture.check_model_input_shape,
          architecture.check_model_layers_match_lecture, architecture.check_last_layer_is_dense_1_sigmoid,
          architecture.check_model_parameter_count)
_COMPILE = (compile.check_compile_loss_is_binary_crossentropy, compile.check_compile_optimizer_is_sgd,
            compile.check_compile_metrics_include_accuracy)

CHECKS: tuple[Check, ...] = tuple(
    _each("relabel", _RELABEL, ("relabel_digits", "relabel_all_labels", "relabel_random_labels"))
    # The aligned check needs inputs that carry their index, which the training-set probe's don't.
    + _each("split", _SPLIT + (split.check_split_keeps_x_and_y_aligned,),
            ("split_default_n_val", "split_n_val_2000", "split_n_val_111_of_777"))
    + _each("split", _SPLIT, ("split_training_set",))
    + _each("prepare", _PREPARE, ("prepare_mlp_37_images", "prepare_cnn_37_images",
                                  "prepare_mlp_test_set", "prepare_cnn_test_set"))
    + _each("mlp", _MODEL, ("build_mlp",))
    + _each("cnn", _MODEL, ("build_cnn",))
    + _each("deep_cnn", _MODEL, ("build_deep_cnn",))
    + _each("compile", _COMPILE, ("compile_reference_mlp",))
    + [Check("accuracy", check_model_reaches_reference_accuracy, p, needs_training=True)
       for p in ("build_mlp", "build_cnn", "build_deep_cnn")]
)


def checks_for(groups: tuple[str, ...] | None = None, include_hidden: bool = True) -> list[Check]:
    """The registered checks of ``groups`` (all when None), hidden ones only if asked for."""
    return [c for c in CHECKS if (groups is None or c.group in groups) and (include_hidden or not c.hidden)]
