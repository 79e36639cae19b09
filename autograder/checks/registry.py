"""Where each rule registers itself: ``@rule(group)`` above its function, and the checks made of the rules.

A rule is a plain function ``check_<behaviour>(call)`` that returns None or raises AssertionError with
a message naming the call, the rule, expected vs. actual, and a hint. ``@rule("prepare")`` applies it
to every probe of that group: the visible ones (``autograder.evidence.probes``) and, when grading, the hidden
ones (``autograder.hidden.every_probe``), which this module never names. Rules run in the order
they are written, so a group's module reads in the order students read its results: first whether
the call returned at all, then shape, then values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from autograder.evidence.call_record import Call
from autograder.support.check_groups import GROUPS
from autograder.evidence.probes import Probe


@dataclass(frozen=True)
class Check:
    """One rule applied to one probe's outcome."""

    group: str
    func: Callable[[Call], None]
    probe: Probe
    # Accuracy checks train the returned model under the grading protocol (``Call.train_under_protocol``):
    # the grader gives them the training time limit and the calibrated thresholds.
    needs_training: bool = False
    # Its share of its group's points, relative to the group's other checks (``@rule(weight=...)``).
    weight: float = 1

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


@dataclass(frozen=True)
class Rule:
    """A check function and the probes it examines: those of its groups that ``applies_to`` accepts."""

    func: Callable[[Call], None]
    groups: tuple[str, ...]
    applies_to: Callable[[Probe], bool] | None = None
    needs_training: bool = False
    weight: float = 1

    def examines(self, probe: Probe) -> bool:
        return probe.group in self.groups and (self.applies_to is None or self.applies_to(probe))


# Every rule, in the order the group modules register them (``autograder.checks`` imports them all).
RULES: list[Rule] = []


def rule(*groups: str, applies_to: Callable[[Probe], bool] | None = None, needs_training: bool = False,
         weight: float = 1):
    """Register the decorated ``check_<behaviour>(call)`` as a rule of ``groups``, where it is written.

    ``applies_to(probe)`` narrows the probes it examines (e.g. to inputs that carry their index);
    ``needs_training`` marks a rule that trains the returned model (``call.train_under_protocol()``);
    ``weight`` is each of its checks' share of its group's points, relative to the group's other checks: a
    group's points are split over its checks in proportion to their weights, so a new rule of weight 1 takes
    one even share and says so here, where it is written.
    """
    unknown = [g for g in groups if g not in GROUPS]
    if not groups or unknown:
        raise ValueError(f"@rule needs groups among {', '.join(GROUPS)}; got {groups}")
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight < float("inf"):
        raise ValueError(f"@rule needs a positive, finite weight; got {weight!r}")

    def register(func: Callable[[Call], None]) -> Callable[[Call], None]:
        if not func.__name__.startswith("check_") or not (func.__doc__ or "").strip():
            # The name and the docstring's first line are what students read next to each result.
            raise ValueError(f"a rule is a function check_<behaviour> with a one-line docstring: {func.__name__}")
        RULES.append(Rule(func, groups, applies_to, needs_training, weight))
        return func

    return register


def checks_on(probes: Iterable[Probe]) -> list[Check]:
    """One check per probe and rule that examines it: group by group, probe by probe, rules as written."""
    probes = list(probes)
    return [Check(probe.group, r.func, probe, r.needs_training, r.weight)
            for group in GROUPS for probe in probes if probe.group == group for r in RULES if r.examines(probe)]
