"""Every check the grader runs: the visible registry (autograder.checks) plus the hidden checks.

The hidden checks are the visible rules applied to the hidden probes (``autograder.hidden.every_probe``): each rule
examines every probe of its group, so a new hidden probe is one line there and a new rule needs
nothing here.
"""

from __future__ import annotations

from autograder.checks import VISIBLE_CHECKS, Check, checks_on
from autograder.support.config import GROUPS
from autograder.hidden.every_probe import HIDDEN_PROBES

# The hidden checks: the visible rules, applied to the hidden probes.
HIDDEN_CHECKS: tuple[Check, ...] = tuple(checks_on(HIDDEN_PROBES))
# Every check, group by group, the visible ones of a group before its hidden ones.
CHECKS: tuple[Check, ...] = tuple(c for g in GROUPS for c in VISIBLE_CHECKS + HIDDEN_CHECKS if c.group == g)


def checks_for(groups: tuple[str, ...] | None = None, include_hidden: bool = True) -> list[Check]:
    """The registered checks of ``groups`` (all when None), hidden ones only if asked for."""
    return [c for c in CHECKS if (groups is None or c.group in groups) and (include_hidden or not c.hidden)]
