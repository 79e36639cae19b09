"""The check groups, each declared once: everything else that names a group derives from ``CHECK_GROUPS``.

``config.GROUPS`` and course.yml's default points and validation, the module that holds each group's rules
(``autograder.checks`` imports them in this order), and where the source notebook puts each group's test cell
all read this tuple; a check's weight within its group is stated where its rule is registered (``@rule``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckGroup:
    """One group of checks: scored together, tested by one cell of the notebook (one per model for accuracy)."""

    name: str
    # The student functions its checks call, in the order its test cell passes them to ``check_group``.
    functions: tuple[str, ...]
    # The student function whose answer cell its test cell follows (a group is tested once all its functions
    # exist); None for a group whose test cells the notebook places itself (accuracy's, one per model, at the end).
    test_after: str | None
    # Its points when course.yml does not set them.
    points: float
    # The module of ``autograder/checks`` that registers its rules.
    module: str


CHECK_GROUPS: tuple[CheckGroup, ...] = (
    CheckGroup("relabel", ("relabel_odd_even",), "relabel_odd_even", 1, "relabel"),
    CheckGroup("split", ("split_train_val",), "split_train_val", 1, "split"),
    CheckGroup("prepare", ("prepare_mlp_input", "prepare_cnn_input"), "prepare_cnn_input", 1, "prepare"),
    CheckGroup("mlp", ("build_mlp",), "build_mlp", 2, "architecture"),
    CheckGroup("cnn", ("build_cnn",), "build_cnn", 2, "architecture"),
    CheckGroup("deep_cnn", ("build_deep_cnn",), "build_deep_cnn", 2, "architecture"),
    CheckGroup("compile", ("compile_model",), "compile_model", 1, "compiling"),
    CheckGroup("accuracy", ("build_mlp", "build_cnn", "build_deep_cnn", "compile_model"), None, 3, "accuracy"),
)
GROUPS: tuple[str, ...] = tuple(g.name for g in CHECK_GROUPS)
CHECK_GROUPS_BY_NAME: dict[str, CheckGroup] = {g.name: g for g in CHECK_GROUPS}


def groups_tested_after(function: str) -> list[CheckGroup]:
    """The groups whose test cells follow ``function``'s answer cell, in the course's order (several may)."""
    return [g for g in CHECK_GROUPS if g.test_after == function]
