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
        for g, message, failed in self.failures(show_hidden):
            hidden = t(_(" (hidden)"))
            names = ", ".join(f"{c.name}{hidden if c.hidden else ''}" for c in failed)
            rule = ["  " + t(_("rule: {rule}"), rule=failed[0].rule)] if len(failed) == 1 else []
            lines += ["", t(_("FAILED {group}: {names}"), group=g.name, names=names), *rule,
                      *("  " + line for line in message.splitlines())]
        for note in self.notes:
            lines.append("\n" + t(_("note: {note}"), note=note))
        return "\n".join(lines)

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
