"""Grading results: one result type, rendered as a text table, a Gradescope-style dict, or JSON.

Scores are computed properties, never stored: a group scores its points when all its checks pass
(or its share per passed check, for partial-credit groups).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from autograder.i18n import ENGLISH, Translator, _


@dataclass
class CheckResult:
    name: str
    group: str
    rule: str
    hidden: bool
    passed: bool
    message: str = ""
    # The call the check examined, as the student would write it (e.g. "split_train_val(x, y, n_val=2000)").
    subject: str = ""
    # The check that reports this failure's cause, when this check's own precondition failed.
    see: str = ""

    def to_dict(self) -> dict:
        """Plain JSON data (what crosses a process boundary; see ``from_dict``)."""
        return {"name": self.name, "group": self.group, "rule": str(self.rule), "hidden": self.hidden,
                "passed": self.passed, "message": str(self.message), "subject": self.subject, "see": self.see}

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        """A result from ``to_dict``'s data; raises ValueError on anything else (the data may be untrusted)."""
        if not isinstance(data, dict):
            raise ValueError(f"a check result must be a mapping, not {type(data).__name__}")
        text = {k: data.get(k, "") for k in ("name", "group", "rule", "message", "subject", "see")}
        flags = {k: data.get(k) for k in ("hidden", "passed")}
        if not all(isinstance(v, str) for v in text.values()) or not all(isinstance(v, bool) for v in flags.values()):
            raise ValueError("a check result's fields have the wrong types")
        return cls(**text, **flags)

    @property
    def check(self) -> str:
        """The check function's name, without the probe."""
        return self.name.split("[", 1)[0]

    @property
    def probe(self) -> str:
        """The probe (input) the check examined."""
        return self.name.split("[", 1)[1].rstrip("]") if "[" in self.name else ""


@dataclass
class GroupResult:
    name: str
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    partial_credit: bool = False

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def n_passed(self) -> int:
        return sum(c.passed for c in self.checks)

    def check_score(self, check: CheckResult) -> float:
        """This check's share of the group's points."""
        share = self.max_score / len(self.checks)
        if self.partial_credit:
            return share if check.passed else 0.0
        return share if self.passed else 0.0

    @property
    def score(self) -> float:
        if self.partial_credit:
            return self.max_score * self.n_passed / len(self.checks) if self.checks else 0.0
        return self.max_score if self.passed else 0.0

    @property
    def first_failure(self) -> CheckResult | None:
        return next((c for c in self.checks if not c.passed), None)


@dataclass
class GradeResult:
    submission: str
    groups: list[GroupResult]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    execution_time: float = 0.0
    # Seconds per grading phase, in the order they ran (see benchmarks/).
    timings: dict[str, float] = field(default_factory=dict)
    # The grading protocol's training run of each returned model, by builder name.
    trainings: dict = field(default_factory=dict)
    # Each returned model's layer rows (checks.architecture.LayerRow), by builder name.
    layers: dict = field(default_factory=dict)
    # The protections in force while the submission's code ran (the jail's report: namespaces, cgroups,
    # capabilities, network), and the grader's own bounded process for the student's models.
    isolation: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(g.score for g in self.groups)

    @property
    def max_score(self) -> float:
        return sum(g.max_score for g in self.groups)

    def group(self, name: str) -> GroupResult:
        return next(g for g in self.groups if g.name == name)

    def to_gradescope(self) -> dict:
        """Gradescope's results.json layout: totals plus one entry per check."""
        tests = []
        for g in self.groups:
            for c in g.checks:
                output = c.message if not c.passed else f"passed: {c.rule}"
                tests.append({"name": f"{g.name}: {c.name}", "group": g.name, "score": round(g.check_score(c), 4),
                              "max_score": round(g.max_score / len(g.checks), 4),
                              "status": "passed" if c.passed else "failed", "output": output,
                              "visibility": "hidden" if c.hidden else "visible"})
        return {"score": round(self.score, 4), "max_score": round(self.max_score, 4),
                "execution_time": round(self.execution_time, 2), "output": "\n".join(self.problems + self.notes),
                "tests": tests,
                "extra_data": {"timings": {k: round(v, 3) for k, v in self.timings.items()},
                               "accuracies": {b: t.accuracy for b, t in self.trainings.items()}}}

    def to_json(self) -> str:
        return json.dumps(self.to_gradescope(), indent=2, ensure_ascii=False)

    def to_text(self, show_hidden: bool = True, translator: Translator = ENGLISH) -> str:
        """The score table by group, then each failed check's message, in the translator's language."""
        t = translator
        lines = [t(_("Grade for {submission}"), submission=self.submission), ""]
        width = max(len(g.name) for g in self.groups)
        lines.append(f"  {t(_('group')):<{width}}  {t(_('score')):>11}  {t(_('checks passed'))}")
        for g in self.groups:
            n = len([c for c in g.checks if show_hidden or not c.hidden])
            p = len([c for c in g.checks if (show_hidden or not c.hidden) and c.passed])
            mark = t(_("ok")) if g.passed else t(_("FAILED"))
            lines.append(f"  {g.name:<{width}}  {g.score:>5.2f}/{g.max_score:<5.2f}  {p}/{n} {mark}")
        lines.append(f"  {t(_('total')):<{width}}  {self.score:>5.2f}/{self.max_score:<5.2f}")
        for problem in self.problems:
            lines.append("\n" + t(_("problem: {problem}"), problem=problem))
        for block in self.failure_blocks(show_hidden):
            lines += ["", t(_("FAILED {group}: {names}"), group=block.group.name, names=block.names(t))]
            if block.single_rule:
                lines.append("  " + t(_("rule: {rule}"), rule=block.failed[0].rule))
            if block.inputs(t):
                lines.append("  " + t(_("failed on: {inputs}"), inputs=block.inputs(t)))
            lines += ["  " + line for line in block.message.splitlines()]
            if block.also:
                lines.append("  " + t(_("also failed because of this (not checked further): {names}"),
                                      names=block.also_names(t)))
        for note in self.notes:
            lines.append("\n" + t(_("note: {note}"), note=note))
        return "\n".join(lines)

    def failure_blocks(self, show_hidden: bool = True) -> list["FailureBlock"]:
        """Failures grouped for reading: one block per check and cause, with the inputs it failed on, and
        the checks that could not check further because of that cause named under it.

        The cause is the message with the call and its numbers taken out, so the same mistake seen on
        several inputs (n_val=10000 and n_val=2000) is one block. A failure whose precondition failed
        (``CheckResult.see``) joins the block of the check it names for the same input. The per-check
        results (``to_gradescope``) stay as they are.
        """
        blocks: list[FailureBlock] = []
        for g in self.groups:
            failed = [c for c in g.checks if not c.passed and (show_hidden or not c.hidden)]
            by_cause: dict[tuple, FailureBlock] = {}
            deferred = []
            for c in failed:
                if c.see:
                    deferred.append(c)
                    continue
                # An identical message (e.g. an untouched stub) is one block whatever the check; otherwise
                # one block per check and cause.
                block = next((b for b in by_cause.values() if b.message == c.message), None)
                if block is None:
                    block = by_cause.setdefault((_cause(c), c.check), FailureBlock(g, c.message))
                block.failed.append(c)
            for c in deferred:
                home = next((b for b in by_cause.values()
                             if any(f.check == c.see and f.probe == c.probe for f in b.failed)), None)
                if home is None:
                    home = by_cause.setdefault((_cause(c), c.check), FailureBlock(g, c.message))
                    home.failed.append(c)
                else:
                    home.also.append(c)
            blocks += list(by_cause.values())
        return blocks

    def failures(self, show_hidden: bool = True) -> list[tuple[GroupResult, str, list[CheckResult]]]:
        """Failed checks by group, those failing with the same message (e.g. an untouched stub) together."""
        out = []
        for g in self.groups:
            by_message: dict[str, list[CheckResult]] = {}
            for c in g.checks:
                if not c.passed and (show_hidden or not c.hidden):
                    by_message.setdefault(c.message, []).append(c)
            out += [(g, message, failed) for message, failed in by_message.items()]
        return out


def _cause(c: CheckResult) -> str:
    """The message without what varies from input to input: the call, and the numbers."""
    import re

    text = c.message.replace(c.subject, "{call}") if c.subject else c.message
    return re.sub(r"\s+", " ", re.sub(r"\d[\d,.]*", "#", text))


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass
class FailureBlock:
    """One cause of failure in a group: the checks it failed, on which inputs, and its message."""

    group: GroupResult
    message: str
    failed: list[CheckResult] = field(default_factory=list)
    # Checks whose precondition failed because of this cause: named, not repeated.
    also: list[CheckResult] = field(default_factory=list)

    @property
    def single_rule(self) -> bool:
        return len(_unique([c.check for c in self.failed])) == 1

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
