"""The check registry: every check, its group and its probe, in the order students read the results in.

The lists are pinned in full: a check that moves, disappears or changes its name changes what students
read and what a class ledger compares between gradings (flipped_checks). A new check is added here on purpose.
"""

import pytest

from autograder.checks import VISIBLE_CHECKS, visible_checks
from autograder.support.config import GROUPS
from autograder.hidden.every_check import CHECKS, HIDDEN_CHECKS, checks_for

MODEL = ("check_builder_returns_keras_model", "check_model_input_shape", "check_model_layers_match_lecture",
         "check_last_layer_is_dense_1_sigmoid", "check_model_parameter_count")
RELABEL = ("check_relabel_keeps_shape", "check_relabel_returns_only_zeros_and_ones",
           "check_relabel_maps_odd_to_1_and_even_to_0", "check_relabel_leaves_input_unchanged")
SPLIT = ("check_split_returns_four_arrays", "check_split_sizes", "check_split_keeps_order")
# The alignment check needs inputs that carry their own index: not on MNIST's training set.
INDEXED_SPLIT = SPLIT + ("check_split_keeps_x_and_y_aligned",)
PREPARE = ("check_prepare_returns_float32", "check_prepare_shape", "check_prepare_scales_to_unit_range",
           "check_prepare_keeps_pixel_values", "check_prepare_leaves_input_unchanged")
COMPILE = ("check_compile_loss_is_binary_crossentropy", "check_compile_optimizer_is_sgd",
           "check_compile_metrics_include_accuracy")


def each(group: str, rules: tuple[str, ...], *probes: str) -> list[tuple[str, str]]:
    return [(group, f"{rule}[{probe}]") for probe in probes for rule in rules]


VISIBLE = (each("relabel", RELABEL, "relabel_digits")
           + each("split", INDEXED_SPLIT, "split_default_n_val", "split_n_val_2000")
           + each("prepare", PREPARE, "prepare_mlp_37_images", "prepare_cnn_37_images")
           + each("mlp", MODEL, "build_mlp") + each("cnn", MODEL, "build_cnn") + each("deep_cnn", MODEL, "build_deep_cnn")
           + each("compile", COMPILE, "compile_reference_mlp")
           + each("accuracy", ("check_model_reaches_reference_accuracy",),
                  "build_mlp_for_accuracy", "build_cnn_for_accuracy", "build_deep_cnn_for_accuracy"))
HIDDEN = (each("relabel", RELABEL, "relabel_all_labels", "relabel_random_labels")
          + each("split", INDEXED_SPLIT, "split_n_val_111_of_777") + each("split", SPLIT, "split_training_set")
          + each("prepare", PREPARE, "prepare_mlp_test_set", "prepare_cnn_test_set"))


def test_visible_checks_are_pinned_in_reading_order():
    assert [(c.group, c.name) for c in VISIBLE_CHECKS] == VISIBLE
    assert not any(c.hidden for c in VISIBLE_CHECKS)


def test_hidden_checks_are_the_same_rules_on_the_hidden_probes():
    assert [(c.group, c.name) for c in HIDDEN_CHECKS] == HIDDEN
    assert all(c.hidden for c in HIDDEN_CHECKS)


def test_every_check_runs_group_by_group_the_visible_before_the_hidden():
    expected = [pair for g in GROUPS for pair in VISIBLE + HIDDEN if pair[0] == g]
    assert [(c.group, c.name) for c in CHECKS] == expected
    assert [c.name for c in checks_for(("split",), include_hidden=False)] == [n for g, n in VISIBLE if g == "split"]
    assert [c.name for c in visible_checks(("prepare",))] == [n for g, n in VISIBLE if g == "prepare"]


def test_only_the_accuracy_checks_train_a_model():
    assert {c.name for c in CHECKS if c.needs_training} == {n for g, n in VISIBLE if g == "accuracy"}


def test_each_declared_group_checks_the_functions_its_probes_call():
    # The declaration's functions are what its test cell passes: every function a probe of the group calls,
    # in the order its probes call them (accuracy's cells also pass compile_model, which its training uses).
    from autograder.support.check_groups import CHECK_GROUPS

    for group in CHECK_GROUPS:
        called = list(dict.fromkeys(c.probe.function for c in CHECKS if c.group == group.name))
        assert called and list(group.functions[:len(called)]) == called, group.name
        assert group.functions[len(called):] == (("compile_model",) if group.name == "accuracy" else ()), group.name


def test_each_declared_group_has_its_rules_in_the_module_it_names():
    from autograder.support.check_groups import CHECK_GROUPS

    for group in CHECK_GROUPS:
        assert {c.func.__module__ for c in CHECKS if c.group == group.name} == {f"autograder.checks.{group.module}"}


def test_every_check_weighs_1_today_so_each_group_splits_its_points_evenly():
    assert {c.weight for c in CHECKS} == {1}


def test_a_rule_states_its_weight_where_it_is_registered(monkeypatch):
    from autograder.checks import registry
    from autograder.evidence.probes import VISIBLE_PROBES

    monkeypatch.setattr(registry, "RULES", [])

    @registry.rule("relabel", weight=3)
    def check_weighted(call):
        """A weighted rule."""

    assert [c.weight for c in registry.checks_on(VISIBLE_PROBES)] == [3]
    for bad in (0, -1, True, "1", float("inf")):
        with pytest.raises(ValueError, match="positive, finite weight"):
            registry.rule("relabel", weight=bad)


def test_each_check_shows_its_rule_the_first_line_of_its_docstring():
    # The rule is what students read next to each result, and a msgid of the catalog.
    for c in CHECKS:
        assert c.rule and c.rule == c.func.__doc__.strip().splitlines()[0], c.name
