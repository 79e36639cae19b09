"""What a regrade under a new grading key changed: ``grades/<assignment>-regrade-diff.csv`` and a section of
the class report.

When course.yml, the calibration or the kit's version changes, ``grade-all`` regrades the class under the new
grading key. For each student whose current grade (their last ledger line: graded, under the current key, of
the notebook found now) has an earlier graded line of the same notebook under another key, the diff compares
the two: the old and the new score, and each check whose outcome flipped (passed ↔ failed), that appeared or
that disappeared (a renamed check is one removed and one added). A student whose score did not change gets no
row. Only the same notebook is compared: a resubmitted notebook changes the grade for its own reasons, not the
key's.

The diff is computed over the class, not over one run, so that a regrade killed in mid-run and resumed still
writes every student's row. ``grade-all`` writes it only when its run regraded some student who had been graded
under another key: a first grading, or a run with nothing to regrade, writes none.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch.ledger import UnreadableResult, each_line, recorded_checks
from autograder.support.atomic_files import write_atomically

SAME_SCORE = 1e-6  # the ledger rounds scores to 4 decimals: below this, two scores are the same

CSV_COLUMNS = ("student", "old_score", "new_score", "change", "max_score", "old_key", "new_key", "flipped_checks")


@dataclass(frozen=True)
class Flip:
    """One check whose outcome differs: ``old`` and ``new`` are "passed", "failed", or None where the check is
    not in that grading (it was added, or removed). ``check`` is its full name, ``group: check[probe]``."""

    check: str
    old: str | None
    new: str | None

    @property
    def kind(self) -> str:
        """added, removed, now_passed or now_failed."""
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "now_passed" if self.new == "passed" else "now_failed"

    def text(self) -> str:
        """The flip in one CSV-safe phrase (ASCII arrows: spreadsheets mangle what they guess is not UTF-8)."""
        if self.old is None:
            return f"{self.check} (added, {self.new})"
        if self.new is None:
            return f"{self.check} (removed, was {self.old})"
        return f"{self.check} ({self.old} -> {self.new})"


@dataclass
class StudentChange:
    """One student whose score changed between their old-key and current-key gradings of the same notebook."""

    student: str
    old_key: str
    new_key: str
    old_score: float
    new_score: float
    max_score: float
    flips: list[Flip] = field(default_factory=list)

    @property
    def change(self) -> float:
        return self.new_score - self.old_score


@dataclass
class RegradeDiff:
    """The class's regrade under ``key``: the students compared (graded under another key before, same
    notebook) and, of them, those whose score changed."""

    key: str
    compared: list[str] = field(default_factory=list)
    changes: list[StudentChange] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return len(self.changes)

    @property
    def unchanged(self) -> int:
        return len(self.compared) - len(self.changes)

    def regraded_by(self, students: set[str]) -> bool:
        """Whether a run that graded ``students`` regraded some student of the diff (it is then written)."""
        return bool(set(self.compared) & set(students))

    def summary_line(self, path: Path) -> str:
        return (f"regrade diff: {self.changed} of {len(self.compared)} student(s) regraded under the new grading "
                f"key ({self.key}) changed score; written to {path}")


def regrade_diff_path(ledger: Path, assignment: str) -> Path:
    """Next to the ledger, named as the exports are: ``grades/<assignment>-regrade-diff.csv``."""
    return Path(ledger).with_name(f"{assignment}-regrade-diff.csv")


def _outcomes(entry: dict) -> dict:
    """What the diff keeps of a ledger line: its identity, its score and each check's status by full name
    (``group: check[probe]``), read from its record (``ledger.recorded_checks``); none when it cannot be read."""
    try:
        checks = recorded_checks(entry) if entry["status"] == "graded" else []
    except UnreadableResult:
        checks = []
    return {"key": entry["key"], "sha256": entry["sha256"], "status": entry["status"], "score": entry.get("score"),
            "max_score": entry.get("max_score"),
            "tests": {f"{c.group}: {c.name}": "passed" if c.passed else "failed" for c in checks}}


def flips(old: dict[str, str], new: dict[str, str]) -> list[Flip]:
    """The checks whose status differs, in the new grading's order, then the removed ones in the old one's."""
    changed = [Flip(name, old.get(name), status) for name, status in new.items() if old.get(name) != status]
    return changed + [Flip(name, status, None) for name, status in old.items() if name not in new]


def regrade_diff(ledger: Path, assignment: str, key: str, current: dict[str, str]) -> RegradeDiff:
    """The diff of the class ``current`` (student → sha256 of the notebook found now) under ``key``, read from
    the ledger in one pass that keeps, of each line, only its scores and its checks' statuses."""
    latest: dict[str, dict] = {}
    previous: dict[str, dict] = {}  # the last graded line of the same notebook under another key
    for entry in each_line(ledger, assignment, []):  # the coordinator has reported damaged lines already
        student = entry["student"]
        if student not in current:
            continue
        kept = _outcomes(entry)
        latest[student] = kept
        if kept["status"] == "graded" and kept["key"] != key and kept["sha256"] == current[student]:
            previous[student] = kept
    diff = RegradeDiff(key)
    for student in sorted(previous):
        old, new = previous[student], latest[student]
        if not (new["status"] == "graded" and new["key"] == key and new["sha256"] == current[student]):
            continue  # not regraded under this key yet (or their regrade failed): nothing to compare
        diff.compared.append(student)
        if abs(new["score"] - old["score"]) > SAME_SCORE:
            diff.changes.append(StudentChange(student, old["key"], key, old["score"], new["score"], new["max_score"],
                                              flips(old["tests"], new["tests"])))
    return diff


def _number(value: float) -> str:
    return f"{value:g}"


def write_regrade_csv(diff: RegradeDiff, path: Path) -> Path:
    """One row per student whose score changed; the flipped checks in one cell, separated by "; "."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for c in diff.changes:
        writer.writerow([c.student, _number(c.old_score), _number(c.new_score), f"{c.change:+g}",
                         _number(c.max_score), c.old_key, c.new_key, "; ".join(flip.text() for flip in c.flips)])
    return write_atomically(path, text.getvalue())  # a full disk keeps the last diff whole
