"""The checks: one module per group of rules, each rule registered where it is written (``registry.rule``).

Importing this package imports every group's module, which registers its rules; ``VISIBLE_CHECKS``
are those rules on the visible probes. The hidden checks are the same rules on the hidden probes;
the instructor wing makes them (``autograder.hidden.every_check``), and this package never imports it.
Adding a check: ``README.md`` in this folder.
"""

from __future__ import annotations

from importlib import import_module

from autograder.checks.registry import RULES, Check, Rule, checks_on, rule  # noqa: F401
from autograder.evidence.probes import VISIBLE_PROBES
from autograder.support.check_groups import CHECK_GROUPS

# Each group's module, imported for its @rule registrations in the course's group order (the declaration names
# it, so a new group's module needs no line here).
for _module in dict.fromkeys(g.module for g in CHECK_GROUPS):
    import_module(f"{__name__}.{_module}")

VISIBLE_CHECKS: tuple[Check, ...] = tuple(checks_on(VISIBLE_PROBES))


def visible_checks(groups: tuple[str, ...] | None = None) -> list[Check]:
    """The visible checks of ``groups`` (all groups when None)."""
    return [c for c in VISIBLE_CHECKS if groups is None or c.group in groups]
