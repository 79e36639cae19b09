"""Grading results: one result type, rendered as a text table, a Gradescope-style dict, or JSON.

Scores are computed properties, never stored: a group scores its points when all its checks pass
(or its share per passed check, for partial-credit groups).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from autograder.i18n import ENGLISH, Message, Translator, _, render, text_from_data, text_to_data


if TYPE_CHECKING:
    import numpy as np

    from autograder.checks.architecture import LayerRow
    from autograder.training import TrainingOutcome

# Bounds on a check result read back from data that may be untrusted (``CheckResult.from_dict``).
MAX_FIELD_CHARS = 2_000


@dataclass
class CheckResult:
    """One check's outcome. ``rule`` and ``message`` stay lazy (``i18n.Message``, or plain text) until a
    rendering (``to_text``, ``to_gradescope``, the report) writes them in its reader's language."""

    name: str
    group: str
    rule: Message | str
    hidden: bool
    passed: bool
    message: Message | str = ""
    # The call the check examined, as the student would write it (e.g. "split_train_val(x, y, n_val=2000)").
    subject: str = ""
    # The check that reports this failure's cause, when this check's own precondition failed.
    see: str = ""

    def rule_text(self, translator: Translator = ENGLISH) -> str:
        return render(self.rule, translator)

    def message_text(self, translator: Translator = ENGLISH) -> str:
        return render(self.message, translator)

    def to_dict(self) -> dict:
        """Plain JSON data (what crosses a process boundary; see ``from_dict``); messages stay lazy."""
        return {"name": self.name, "group": self.group, "rule": text_to_data(self.rule), "hidden": self.hidden,
                "passed": self.passed, "message": text_to_data(self.message), "subject": self.subject, "see": self.see}

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        """A result from ``to_dict``'s data; raises ValueError on anything else (the data may be untrusted)."""
        if not isinstance(data, dict):
            raise ValueError(f"a check result must be a mapping, not {type(data).__name__}")
        unknown = set(data) - {"name", "group", "rule", "hidden", "passed", "message", "subject", "see"}
        if unknown:
            raise ValueError(f"a check result has unknown fields: {', '.join(sorted(map(str, unknown)))[:200]}")
        text = {k: data.get(k, "") for k in ("name", "group", "subject", "see")}
        flags = {k: data.get(k) for k in ("hidden", "passed")}
        if not all(isinstance(v, str) for v in text.values()) or not all(isinstance(v, bool) for v in flags.values()):
            raise ValueError("a check result's fields have the wrong types: name, group, subject and see must be "
                             "strings, hidden and passed booleans")
        too_long = [k for k, v in text.items() if len(v) > MAX_FIELD_CHARS]
        if too_long:
            raise ValueError(f"a check result's {', '.join(too_long)} has more than {MAX_FIELD_CHARS:,} characters")
        return cls(**text, **flags, rule=text_from_data(data.get("rule", "")),
                   message=text_from_data(data.get("message", "")))

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
class Digits:
    """Test digits as a model saw them: images (28×28), their classes (1 = odd) and its probability of odd."""

    images: "np.ndarray"
    labels: "np.ndarray"
    probabilities: "np.ndarray"


@dataclass
class ReportData:
    """What the HTML report shows besides the checks, so that it renders a result alone, in any language."""

    # The reference models trained under the grading protocol, by builder: accuracy and curves.
    references: "dict[str, TrainingOutcome]"
    # The calibrated accuracy threshold of each builder.
    thresholds: dict[str, float]
    # The lecture's layer table of each builder.
    expected_layers: "dict[str, list[LayerRow]]"
    # The student's best trained model, and its predictions: the first test digits, and misclassified ones.
    best_model: str | None = None
    grid: Digits | None = None
    misclassified: Digits | None = None


@dataclass
class GradeResult:
    submission: str
    groups: list[GroupResult]
    # What went wrong around the checks (unreadable cells, limits hit) and what to know, lazy like messages.
    problems: list[Message | str] = field(default_factory=list)
    notes: list[Message | str] = field(default_factory=list)
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
    # What the HTML report shows besides the checks, attached by the grader (``report.data.attach_report_data``).
    report_data: "ReportData | None" = None

    @property
    def score(self) -> float:
        return sum(g.score for g in self.groups)

    @property
    def max_score(self) -> float:
        return sum(g.max_score for g in self.groups)

    def group(self, name: str) -> GroupResult:
        return next(g for g in self.groups if g.name == name)

    def to_gradescope(self, translator: Translator = ENGLISH) -> dict:
        """Gradescope's results.json layout: totals plus one entry per check, text in the translator's language.

        ``extra_data.isolation`` is the protections record as it is (``isolation``); ``output`` says it in words.
        """
        t = translator
        tests = []
        for g in self.groups:
            for c in g.checks:
                output = c.message_text(t) if not c.passed else f"passed: {c.rule_text(t)}"
                tests.append({"name": f"{g.name}: {c.name}", "group": g.name, "score": round(g.check_score(c), 4),
                              "max_score": round(g.max_score / len(g.checks), 4),
                              "status": "passed" if c.passed else "failed", "output": output,
                              "visibility": "hidden" if c.hidden else "visible"})
        output = [render(text, t) for text in self.problems + self.notes]
        if self.isolation:
            output.append(protections_text(self.isolation, t))
        return {"score": round(self.score, 4), "max_score": round(self.max_score, 4),
                "execution_time": round(self.execution_time, 2), "output": "\n".join(output),
                "tests": tests,
                "extra_data": {"timings": {k: round(v, 3) for k, v in self.timings.items()},
                               "accuracies": {b: o.accuracy for b, o in self.trainings.items()},
                               "isolation": self.isolation}}

    def to_json(self, translator: Translator = ENGLISH) -> str:
        return json.dumps(self.to_gradescope(translator), indent=2, ensure_ascii=False)

    def to_text(self, show_hidden: bool = True, translator: Translator = ENGLISH) -> str:
        """The score table by group, each failed check's message, the notes and the protections in force,
        in the translator's language."""
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
        for block in self.failure_blocks(show_hidden, t):
            lines += ["", t(_("FAILED {group}: {names}"), group=block.group.name, names=block.names(t))]
            if block.single_rule:
                lines.append("  " + t(_("rule: {rule}"), rule=block.rule))
            if block.inputs(t):
                lines.append("  " + t(_("failed on: {inputs}"), inputs=block.inputs(t)))
            lines += ["  " + line for line in block.message.splitlines()]
            if block.also:
                lines.append("  " + t(_("also failed because of this (not checked further): {names}"),
                                      names=block.also_names(t)))
        for note in self.notes:
            lines.append("\n" + t(_("note: {note}"), note=note))
        if self.isolation:
            lines += ["", protections_text(self.isolation, t)]
        return "\n".join(lines)

    def failure_blocks(self, show_hidden: bool = True, translator: Translator = ENGLISH) -> list["FailureBlock"]:
        """Failures grouped for reading: one block per check and cause, with the inputs it failed on, and
        the checks that could not check further because of that cause named under it.

        The cause is the message with the call and its numbers taken out, so the same mistake seen on
        several inputs (n_val=10000 and n_val=2000) is one block. A failure whose precondition failed
        (``CheckResult.see``) joins the block of the check it names for the same input. The per-check
        results (``to_gradescope``) stay as they are. Blocks hold text in the translator's language.
        """
        t = translator
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
    import re

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


# The jail's report (``isolation.jail``): which of its protections it could apply, one key each, and what
# the student reads for each, applied or not (the models' process reports the same keys).
_PROTECTIONS = (
    (lambda r: r.get("network") == "off", _("no network"), _("network isolation")),
    (lambda r: bool(r.get("hidden")), _("the course's private files hidden"),
     _("hiding the course's private files")),
    (lambda r: bool(r.get("cgroups")), _("memory and process limits by cgroup"), _("cgroup limits")),
    (lambda r: bool(r.get("capabilities_dropped")), _("no capabilities"), _("dropping capabilities")),
)
_JAIL_KEYS = ("network", "hidden", "cgroups", "capabilities_dropped")


def _applied(report: dict, t: Translator) -> tuple[list[str], list[str]]:
    """The jail's protections that were in force for one process, and those that were not, as text."""
    in_force, missing = [], []
    for applied, present, absent in _PROTECTIONS:
        (in_force if applied(report) else missing).append(t(present if applied(report) else absent))
    return in_force, missing


def _reported(report) -> bool:
    return isinstance(report, dict) and any(k in report for k in _JAIL_KEYS)


def protections_text(isolation: dict, t: Translator = ENGLISH) -> str:
    """The protections in force for a submission (``GradeResult.isolation``), in the translator's language.

    ``isolation["submission"]`` is the jail's report for the submission's process, ``isolation["models"]``
    the report for the grader's bounded process that loads and trains the submission's models. The one
    renderer of that record: the text result, results.json and the HTML report all say it with this.
    """
    submission = isolation.get("submission") if isinstance(isolation, dict) else None
    if not _reported(submission):
        return t(_("Protections: the submission's process did not report them."))
    in_force, missing = _applied(submission, t)
    lines = [t(_("Protections in force: {protections}."),
               protections=", ".join([t(_("memory, file-size, time and output limits")), *in_force]))]
    if missing:
        lines.append(t(_("Not available on this machine: {protections}."), protections=", ".join(missing)))
    models = isolation.get("models")
    if _reported(models):
        in_force, missing = _applied(models, t)
        megabytes = models.get("memory_limit_mb")
        memory = (t(_("a memory limit of {megabytes:,} MB"), megabytes=int(megabytes))
                  if isinstance(megabytes, (int, float)) and not isinstance(megabytes, bool) else t(_("memory limit")))
        lines.append(t(_("Your models were loaded and trained in a bounded process of the grader's own: "
                         "{protections}."), protections=", ".join([memory, *in_force])))
        if missing:
            lines.append(t(_("Not available to that process on this machine: {protections}."),
                           protections=", ".join(missing)))
    return "\n".join(lines)
