"""The checks: one module per group of rules, each rule registered where it is written (``registry.rule``).

Importing this package imports every group's module, which registers its rules; ``VISIBLE_CHECKS``
are those rules on the visible probes. The hidden checks are the same rules on the hidden probes;
the instructor wing makes them (``autograder.hidden.every_check``), and this package never imports it.
Adding a check: ``README.md`` in this folder.
"""

from __future__ import annotations

# Imported for their @rule registrations, in the course's group order.
from autograder.checks import relabel, split, prepare, architecture, compiling, accuracy  # noqa: F401
from autograder.checks.registry import RULES, Check, Rule, checks_on, rule  # noqa: F401
from autograder.engine.probes import VISIBLE_PROBES

VISIBLE_CHECKS: tuple[Check, ...] = tuple(checks_on(VISIBLE_PROBES))


def visible_checks(groups: tuple[str, ...] | None = None) -> list[Check]:
    """The visible checks of ``groups`` (all groups when None)."""
    return [c for c in VISIBLE_CHECKS if groups is None or c.group in groups]
