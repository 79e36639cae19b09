"""A graded result as text: the score table by group, then each cause of failure once, in the reader's language.

``result_text`` is what ``python -m autograder grade`` prints and what Gradescope's upload shows;
``failure_blocks`` groups the failures for reading, for this text and for the HTML report alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from autograder.messages.i18n import ENGLISH, Translator, _
from autograder.report.protections import protections_text
from autograder.engine.results import CheckResult, GradeResult, GroupResult


def result_text(result: GradeResult, show_hidden: bool = True, translator: Translator = ENGLISH) -> str:
    """The score table by group, each failed check's message, the notes and the protections in force,
    in the translator's language."""
    t = translator
    lines = [t(_("Grade for {submission}"), submission=result.submission), ""]
    width = max(len(g.name) for g in result.groups)
    lines.append(f"  {t(_('group')):<{width}}  {t(_('score')):>11}  {t(_('checks passed'))}")
    for g in result.groups:
        n = len([c for c in g.checks if show_hidden or not c.hidden])
        p = len([c for c in g.checks if (show_hidden or not c.hidden) and c.passed])
        mark = t(_("ok")) if g.passed else t(_("FAILED"))
        lines.append(f"  {g.name:<{width}}  {g.score:>5.2f}/{g.max_score:<5.2f}  {p}/{n} {mark}")
    lines.append(f"  {t(_('total')):<{width}}  {result.score:>5.2f}/{result.max_score:<5.2f}")
    for problem in result.problems:
        lines.append("\n" + t(_("problem: {problem}"), problem=problem))
    for block in failure_blocks(result, show_hidden, t):
        lines += ["", t(_("FAILED {group}: {names}"), group=block.group.name, names=block.names(t))]
        if block.single_rule:
            lines.append("  " + t(_("rule: {rule}"), rule=block.rule))
        if block.inputs(t):
            lines.append("  " + t(_("failed on: {inputs}"), inputs=block.inputs(t)))
        lines += ["  " + line for line in block.message.splitlines()]
        if block.also:
            lines.append("  " + t(_("also failed because of this (not checked further): {names}"),
                                  names=block.also_names(t)))
    for note in result.notes:
        lines.append("\n" + t(_("note: {note}"), note=note))
    if result.isolation:
        lines += ["", protections_text(result.isolation, t)]
    return "\n".join(lines)


def failure_blocks(result: GradeResult, show_hidden: bool = True,
                   translator: Translator = ENGLISH) -> list[FailureBlock]:
    """Failures grouped for reading: one block per check and cause, with the inputs it failed on, and
    the checks that could not check further because of that cause named under it.

    The cause is the message with the call and its numbers taken out, so the same mistake seen on
    several inputs (n_val=10000 and n_val=2000) is one block. A failure whose precondition failed
    (``CheckResult.see``) joins the block of the check it names for the same input. The per-check
    results (``report.gradescope_style.gradescope_results``) stay as they are. Blocks hold text in the
    translator's language.
    """
    t = translator
    blocks: list[FailureBlock] = []
    for g in result.groups:
        failed = [c for c in g.checks if not c.passed and (show_hidden or not c.hidden)]
        by_cause: dict[tuple, FailureBlock] = {}
        deferred = []
        for c in failed:
            if c.see:
                deferred.append(c)
                continue
            # An identical message (e.g. an untouched stub) is one block whatever the check; otherwise
            # one block per check and cause.
            message = c.message_text(t)
            block = next((b for b in by_cause.values() if b.message == message), None)
            if block is None:
                block = by_cause.setdefault((_cause(c, message), c.check), FailureBlock(g, message, t))
            block.failed.append(c)
        for c in deferred:
            home = next((b for b in by_cause.values()
                         if any(f.check == c.see and f.probe == c.probe for f in b.failed)), None)
            if home is None:
                message = c.message_text(t)
                home = by_cause.setdefault((_cause(c, message), c.check), FailureBlock(g, message, t))
                home.failed.append(c)
            else:
                home.also.append(c)
        blocks += list(by_cause.values())
    return blocks


def _cause(c: CheckResult, message: str) -> str:
    """The message without what varies from input to input: the call, and the numbers."""
    text = message.replace(c.subject, "{call}") if c.subject else message
    return re.sub(r"\s+", " ", re.sub(r"\d[\d,.]*", "#", text))


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass
class FailureBlock:
    """One cause of failure in a group: the checks it failed, on which inputs, and its message."""

    group: GroupResult
    # The message, rendered in ``translator``'s language.
    message: str
    translator: Translator = ENGLISH
    failed: list[CheckResult] = field(default_factory=list)
    # Checks whose precondition failed because of this cause: named, not repeated.
    also: list[CheckResult] = field(default_factory=list)

    @property
    def single_rule(self) -> bool:
        return len(_unique([c.check for c in self.failed])) == 1

    @property
    def rule(self) -> str:
        """The rule the block's checks failed, when they are one check ('' otherwise)."""
        return self.failed[0].rule_text(self.translator) if self.single_rule else ""

    def names(self, t: Translator = ENGLISH) -> str:
        """The failed checks, each once (by name alone when they failed on named inputs)."""
        hidden = t(_(" (hidden)"))
        if all(c.probe for c in self.failed):
            checks = _unique([c.check for c in self.failed])
            return ", ".join(f"{name}{hidden if all(c.hidden for c in self.failed if c.check == name) else ''}"
                             for name in checks)
        return ", ".join(f"{c.name}{hidden if c.hidden else ''}" for c in self.failed)

    def inputs(self, t: Translator = ENGLISH) -> str:
        """The inputs (probes) the checks failed on, in one line; empty when they have no names."""
        if not all(c.probe for c in self.failed):
            return ""
        hidden = t(_(" (hidden)"))
        probes = _unique([c.probe for c in self.failed])
        return ", ".join(f"{p}{hidden if all(c.hidden for c in self.failed if c.probe == p) else ''}" for p in probes)

    def also_names(self, t: Translator = ENGLISH) -> str:
        hidden = t(_(" (hidden)"))
        return ", ".join(f"{name}{hidden if all(c.hidden for c in self.also if c.check == name) else ''}"
                         for name in _unique([c.check for c in self.also]))
