"""Every check the grader runs: the visible registry (autograder.checks) plus the hidden checks.

The hidden checks apply the visible rules to the hidden probes (``hidden_probes``); a new hidden
check is one line here.
"""

from __future__ import annotations

from autograder.checks import (INDEXED_SPLIT_RULES, PREPARE_RULES, RELABEL_RULES, SPLIT_RULES, VISIBLE_CHECKS, Check,
                               each)
from autograder.config import GROUPS
from autograder.grader.hidden_probes import PROBES_BY_NAME

# The hidden checks: the visible rules, applied to the hidden probes.
HIDDEN_CHECKS: tuple[Check, ...] = tuple(
    each("relabel", RELABEL_RULES, tuple(PROBES_BY_NAME[n] for n in ("relabel_all_labels", "relabel_random_labels")))
    + each("split", INDEXED_SPLIT_RULES, (PROBES_BY_NAME["split_n_val_111_of_777"],))
    + each("split", SPLIT_RULES, (PROBES_BY_NAME["split_training_set"],))
    + each("prepare", PREPARE_RULES, tuple(PROBES_BY_NAME[n] for n in ("prepare_mlp_test_set", "prepare_cnn_test_set")))
)
# Every check, group by group, the visible ones of a group before its hidden ones.
CHECKS: tuple[Check, ...] = tuple(c for g in GROUPS for c in VISIBLE_CHECKS + HIDDEN_CHECKS if c.group == g)


def checks_for(groups: tuple[str, ...] | None = None, include_hidden: bool = True) -> list[Check]:
    """The registered checks of ``groups`` (all when None), hidden ones only if asked for."""
    return [c for c in CHECKS if (groups is None or c.group in groups) and (include_hidden or not c.hidden)]
