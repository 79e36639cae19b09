"""Grading results: the result of one grading, by group and check, as data.

Scores are computed properties, never trusted from storage: a group scores its points when all its checks pass
(or its share per passed check, for partial-credit groups). The renderings are the instructor's:
the text table (``autograder.report.text``), the Gradescope-style results
(``autograder.report.gradescope_style``) and the HTML report (``autograder.report.html``).

``GradeResult.to_dict`` is the one record of a grade that is stored (the class's ledger, ``--json-dir``,
Gradescope's grading process): ids, outcomes and lazy messages, no text, so that every rendering can be
made from it later, in any language; each type reads its own part back (``from_dict``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from autograder.messages.i18n import ENGLISH, Message, Translator, render, text_from_data, text_to_data


if TYPE_CHECKING:
    import numpy as np

    from autograder.checks import Check
    from autograder.evidence.layer_rows import LayerRow
    from autograder.evidence.training_outcome import TrainingOutcome

# Bounds on a check result read back from data that may be untrusted (``CheckResult.from_dict``).
MAX_FIELD_CHARS = 2_000
# The layout of ``GradeResult.to_dict``'s record; a reader refuses another (``from_dict``) rather than guess.
RECORD_FORMAT = 1


# The fields a check result's data holds (``CheckResult.to_dict``); data written before the check and its
# probe were stored apart names them together instead, as ``"name": "check[probe]"`` (``split_check_name``).
_DATA_FIELDS = ("check", "probe", "group", "rule", "hidden", "passed", "message", "subject", "see", "weight")


def split_check_name(name: str) -> tuple[str, str]:
    """A check's name as files write it, ``check[probe]``, back into its check and probe.

    Only data written in that joined form is read this way (a Gradescope-style test name, a check result
    from before the two were stored apart). A name that does not end in a non-empty ``[probe]`` is a check
    alone, so that ``CheckResult(check=..., probe=...).name`` gives back exactly the name that was read.
    """
    check, bracket, rest = name.partition("[")
    if bracket and rest.endswith("]") and len(rest) > 1:
        return check, rest[:-1]
    return name, ""


@dataclass(kw_only=True)
class CheckResult:
    """One check's outcome: the check (its function's name) applied to one probe (the input it examined).

    ``rule`` and ``message`` stay lazy (``i18n.Message``, or plain text) until a rendering (``report.text``,
    ``report.gradescope_style``, the report) writes them in its reader's language.
    """

    # The check function's name, e.g. "check_split_keeps_x_and_y_aligned".
    check: str
    # The probe (input) the check examined, e.g. "split_default_n_val" ("" for a result that names none).
    probe: str
    group: str
    rule: Message | str
    hidden: bool
    passed: bool
    message: Message | str = ""
    # The call the check examined, as the student would write it (e.g. "split_train_val(x, y, n_val=2000)").
    subject: str = ""
    # The check that reports this failure's cause, when this check's own precondition failed.
    see: str = ""
    # Its share of its group's points relative to the group's other checks (the rule's ``@rule(weight=...)``).
    weight: float = 1

    @classmethod
    def of(cls, check: "Check", passed: bool, message: Message | str = "", *, subject: str = "",
           see: str = "") -> "CheckResult":
        """The result of ``check`` (a ``checks.Check``): its name, probe, group, rule and visibility."""
        return cls(check=check.func.__name__, probe=check.probe_name, group=check.group, rule=Message(check.rule),
                   hidden=check.hidden, passed=passed, message=message, subject=subject, see=see, weight=check.weight)

    @property
    def name(self) -> str:
        """The check and its probe as reports and Gradescope's test names write them: ``check[probe]``."""
        return f"{self.check}[{self.probe}]" if self.probe else self.check

    def rule_text(self, translator: Translator = ENGLISH) -> str:
        return render(self.rule, translator)

    def message_text(self, translator: Translator = ENGLISH) -> str:
        return render(self.message, translator)

    def to_dict(self) -> dict:
        """Plain JSON data (what crosses a process boundary; see ``from_dict``); messages stay lazy. The weight
        is written only when it is not 1, so that a record of even shares reads as it always has."""
        data = {"check": self.check, "probe": self.probe, "group": self.group, "rule": text_to_data(self.rule),
                "hidden": self.hidden, "passed": self.passed, "message": text_to_data(self.message),
                "subject": self.subject, "see": self.see}
        return data if self.weight == 1 else {**data, "weight": self.weight}

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        """A result from ``to_dict``'s data, or from the data written before the check and its probe were
        stored apart (``"name": "check[probe]"``); raises ValueError on anything else (the data may be
        untrusted)."""
        if not isinstance(data, dict):
            raise ValueError(f"a check result must be a mapping, not {type(data).__name__}")
        unknown = set(data) - {*_DATA_FIELDS, "name"}
        if unknown:
            raise ValueError(f"a check result has unknown fields: {', '.join(sorted(map(str, unknown)))[:200]}")
        if "name" in data and ("check" in data or "probe" in data):
            raise ValueError("a check result has both a name and a check or probe: it names its check one way only")
        names = ("name",) if "name" in data else ("check", "probe")
        text = {k: data.get(k, "") for k in (*names, "group", "subject", "see")}
        flags = {k: data.get(k) for k in ("hidden", "passed")}
        if not all(isinstance(v, str) for v in text.values()) or not all(isinstance(v, bool) for v in flags.values()):
            raise ValueError(f"a check result's fields have the wrong types: {', '.join(names)}, group, subject and "
                             "see must be strings, hidden and passed booleans")
        too_long = [k for k, v in text.items() if len(v) > MAX_FIELD_CHARS]
        if too_long:
            raise ValueError(f"a check result's {', '.join(too_long)} has more than {MAX_FIELD_CHARS:,} characters")
        weight = data.get("weight", 1)
        if not _is_number(weight) or weight <= 0:
            raise ValueError(f"a check result's weight must be a positive number, not {weight!r}"[:300])
        if "name" in text:
            text["check"], text["probe"] = split_check_name(text.pop("name"))
        return cls(**text, **flags, rule=text_from_data(data.get("rule", "")),
                   message=text_from_data(data.get("message", "")), weight=weight)


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

    @property
    def total_weight(self) -> float:
        return sum(c.weight for c in self.checks)

    def check_max_score(self, check: CheckResult) -> float:
        """The points this check is worth: the group's, split over its checks in proportion to their weights
        (with every weight 1, an even split)."""
        return self.max_score * check.weight / self.total_weight

    def check_score(self, check: CheckResult) -> float:
        """This check's share of the group's points."""
        share = self.check_max_score(check)
        if self.partial_credit:
            return share if check.passed else 0.0
        return share if self.passed else 0.0

    @property
    def score(self) -> float:
        if self.partial_credit:
            passed_weight = sum(c.weight for c in self.checks if c.passed)
            return self.max_score * passed_weight / self.total_weight if self.checks else 0.0
        return self.max_score if self.passed else 0.0

    @property
    def first_failure(self) -> CheckResult | None:
        return next((c for c in self.checks if not c.passed), None)

    def to_dict(self) -> dict:
        """Plain JSON data: the group, its points, how it scores, its checks; ``score`` is what they give."""
        return {"name": self.name, "score": round(self.score, 4), "max_score": self.max_score,
                "partial_credit": self.partial_credit, "checks": [c.to_dict() for c in self.checks]}

    @classmethod
    def from_dict(cls, data) -> "GroupResult":
        """A group from ``to_dict``'s data; ValueError for anything else, or when its checks do not give the
        score it records (a record that cannot be trusted is never rendered as if it could)."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not _is_number(data.get("max_score")) \
                or not isinstance(data.get("partial_credit"), bool) or not isinstance(data.get("checks"), list):
            raise ValueError("a group must be a mapping with a name, max_score, partial_credit and a list of checks")
        group = cls(data["name"], float(data["max_score"]), [CheckResult.from_dict(c) for c in data["checks"]],
                    partial_credit=data["partial_credit"])
        _same_score(f"group {group.name}", group.score, data.get("score"))
        return group


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _same_score(what: str, computed: float, recorded) -> None:
    """Raise ValueError when a record's ``recorded`` score (rounded to 4 decimals) is not what its checks give."""
    if recorded is not None and (not _is_number(recorded) or abs(computed - recorded) > 1e-3):
        raise ValueError(f"its checks give {what} {computed:g} points, the record says {recorded!r}")


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
    # Each returned model's layer rows (evidence.layer_rows.LayerRow), by builder name.
    layers: dict = field(default_factory=dict)
    # The protections in force while the submission's code ran (the jail's report: namespaces, cgroups,
    # capabilities, network), and the grader's own bounded process for the student's models.
    isolation: dict = field(default_factory=dict)
    # What the HTML report shows besides the checks, attached by the grader (``report.report_data.attach_report_data``).
    report_data: "ReportData | None" = None

    @property
    def score(self) -> float:
        return sum(g.score for g in self.groups)

    @property
    def max_score(self) -> float:
        return sum(g.max_score for g in self.groups)

    def group(self, name: str) -> GroupResult:
        return next(g for g in self.groups if g.name == name)

    def to_dict(self) -> dict:
        """The grade as one language-free record (``RECORD_FORMAT``): each group and check with its ids, outcome
        and messages as msgid and arguments, never text, so that it renders in any language at any time.
        The totals are there for whoever reads the file; ``from_dict`` recomputes them and checks they agree.
        ``report_data`` (the reference's curves, the test digits) is the HTML report's, not the grade's."""
        return {"format": RECORD_FORMAT, "submission": self.submission, "score": round(self.score, 4),
                "max_score": round(self.max_score, 4), "groups": [g.to_dict() for g in self.groups],
                "problems": [text_to_data(p) for p in self.problems], "notes": [text_to_data(n) for n in self.notes],
                "execution_time": self.execution_time, "timings": dict(self.timings),
                "trainings": {b: o.to_dict() for b, o in self.trainings.items()},
                "layers": {b: [row.to_dict() for row in rows] for b, rows in self.layers.items()},
                "isolation": self.isolation}

    @classmethod
    def from_dict(cls, data) -> "GradeResult":
        """The grade ``to_dict`` recorded; ValueError for anything else (another format, wrong types, scores its
        checks do not give): the record may have been edited by hand."""
        from autograder.evidence.layer_rows import LayerRow
        from autograder.evidence.training_outcome import TrainingOutcome

        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"a grade record must be a mapping of format {RECORD_FORMAT}, not {found!r}")
        for name, kind in (("submission", str), ("groups", list), ("problems", list), ("notes", list),
                           ("timings", dict), ("trainings", dict), ("layers", dict), ("isolation", dict)):
            if not isinstance(data.get(name), kind):
                raise ValueError(f"a grade record's {name} must be a {kind.__name__}")
        if not _is_number(data.get("execution_time")) or not all(_is_number(v) for v in data["timings"].values()):
            raise ValueError("a grade record's execution_time and timings must be numbers")
        layers = {}
        for builder, rows in data["layers"].items():
            if not isinstance(rows, list):
                raise ValueError(f"a grade record's layers of {builder[:40]!r} must be a list of rows")
            layers[builder] = [LayerRow.from_dict(row) for row in rows]
        result = cls(data["submission"], [GroupResult.from_dict(g) for g in data["groups"]],
                     problems=[text_from_data(p) for p in data["problems"]],
                     notes=[text_from_data(n) for n in data["notes"]], execution_time=float(data["execution_time"]),
                     timings={str(k): float(v) for k, v in data["timings"].items()},
                     trainings={b: TrainingOutcome.from_dict(o) for b, o in data["trainings"].items()},
                     layers=layers, isolation=data["isolation"])
        _same_score("the submission", result.score, data.get("score"))
        return result
