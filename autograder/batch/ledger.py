"""The class's ledger, ``grades/<assignment>.jsonl``: one JSON line per finished submission, appended at once.

Only the coordinator writes it, and only by appending: each line is written whole, flushed and
fsynced before the next submission is recorded, so a killed run loses at most the submissions in
flight. Nothing is ever rewritten. Reading it back tolerates damage: a torn last line (the run was
killed while writing), or a line that is not a ledger entry (checked by ``ledger_schema.LedgerLine``:
wrong types, a NaN) is reported as a warning with its line number and skipped, and stays in the file;
a byte-order mark an editor put before line 1 is not part of it. Before appending after a torn line, a
newline is written first, so the new line stays whole.

A line's ``result`` is the grade's record (``GradeResult.to_dict``); lines written before the kit stored
records hold a Gradescope-style dict instead, and still read (``stored_result``).

A student's current grade is their last line: regrading appends, it never replaces.
"""

from __future__ import annotations

import codecs
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch.ledger_schema import ledger_line_problem
from autograder.engine.results import CheckResult, GradeResult, GroupResult, split_check_name

# The fields the coordinator needs to decide what to skip; the rest of a line (the full result) is
# dropped when reading for a resume, so that a class of 1,000 costs little memory.
# ``line`` is not written: it is the line's number in the file, added when reading, so that whoever refuses a
# line (``ledger_schema.impossible_values``) can name it.
SUMMARY_FIELDS = ("student", "assignment", "sha256", "key", "status", "score", "max_score", "groups", "reason",
                  "seconds", "attempts", "calibration", "worker", "isolated", "line")


class LedgerError(OSError):
    """The ledger cannot be written (read-only folder, disk full): the run stops, nothing recorded is lost."""


def ledger_path(course_root: Path, assignment: str) -> Path:
    return Path(course_root) / "grades" / f"{assignment}.jsonl"


@dataclass
class LedgerContents:
    entries: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def latest_by_student(self) -> dict[str, dict]:
        """Each student's last line (their current grade, or why it is missing)."""
        latest: dict[str, dict] = {}
        for entry in self.entries:
            latest[entry["student"]] = entry
        return latest


def read_ledger(path: Path, assignment: str, keep_results: bool = False) -> LedgerContents:
    """Every valid line of the ledger at ``path`` (none when it does not exist yet), with warnings for the rest."""
    contents = LedgerContents()
    for entry in _valid_lines(Path(path), assignment, contents.warnings):
        contents.entries.append(entry if keep_results else {k: entry.get(k) for k in SUMMARY_FIELDS})
    return contents


def latest_lines(path: Path, assignment: str, students: set[str] | None = None, slim=None) -> LedgerContents:
    """Each student's last valid line, whole (its full result included), for ``students`` (None: everyone).

    A superseded line is dropped as soon as a later one of the same student is read, so a ledger that a
    class was graded into several times costs the memory of one line per student, not of every line.
    ``slim(entry)``, when given, returns what the caller keeps of each line (a real line is 20 to 30 KB).
    """
    latest: dict[str, dict] = {}
    contents = LedgerContents()
    for entry in _valid_lines(Path(path), assignment, contents.warnings):
        if students is None or entry["student"] in students:
            latest.pop(entry["student"], None)  # re-inserted last, so the order is that of each student's last line
            latest[entry["student"]] = slim(entry) if slim else entry
    contents.entries = list(latest.values())
    return contents


def each_line(path: Path, assignment: str, warnings: list[str]):
    """Every valid line of the ledger, whole, in file order, one at a time (a caller that needs more than each
    student's last line keeps only what it needs of each); a warning for each line that is not one."""
    yield from _valid_lines(Path(path), assignment, warnings)


def _valid_lines(path: Path, assignment: str, warnings: list[str]):
    """The ledger's valid entries in file order; a warning for each line that is not one."""
    if not path.exists():
        return
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)  # an editor's byte-order mark: not part of line 1
            if not raw.strip():
                continue
            problem, entry = _parse(raw, assignment)
            if problem:
                warnings.append(f"{path}, line {number}: {problem}; ignored (left in the file)")
                continue
            entry["line"] = number
            yield entry


def _parse(raw: bytes, assignment: str) -> tuple[str, dict]:
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        torn = "" if raw.endswith(b"\n") else " (a line cut short: a run was killed while writing it?)"
        return f"not a JSON line{torn}", {}
    except RecursionError:
        return "not a JSON line (nested too deep)", {}
    if not isinstance(entry, dict) or not {"student", "sha256", "key", "status"} <= entry.keys():
        return "not a ledger entry (student, sha256, key, status missing)", {}
    if entry.get("assignment") != assignment:
        return f"an entry of assignment {entry.get('assignment')!r}, not {assignment!r}", {}
    problem = ledger_line_problem(entry)
    return (problem, {}) if problem else ("", entry)


class LedgerWriter:
    """Appends entries to the ledger, each one durable before ``append`` returns."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
            self._end_torn_line()
        except OSError as exc:
            raise LedgerError(f"cannot write the ledger {self.path}: {exc.strerror or exc}") from None

    def _end_torn_line(self) -> None:
        size = self.path.stat().st_size
        if size:
            with self.path.open("rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    self._write(b"\n")

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())

    def append(self, *entries: dict) -> None:
        """Append ``entries`` (the submissions that finished together), durable when this returns: one fsync
        for them all, so that a busy class is not slowed down to the disk's fsync rate."""
        lines = b"".join(json.dumps(e, ensure_ascii=False).encode("utf-8") + b"\n" for e in entries)
        try:
            self._write(lines)
        except OSError as exc:
            raise LedgerError(f"cannot append to the ledger {self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "LedgerWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class UnreadableResult(ValueError):
    """A graded ledger line whose full result cannot be rebuilt (damaged, or in another layout)."""


def recorded_result(entry: dict, partial_credit=frozenset()) -> GradeResult:
    """The ``GradeResult`` a graded ledger line records (``stored_result``), whose group scores must be the ones
    the line states: a line that cannot be trusted is never compared or rendered as if it could. Raises
    ``UnreadableResult`` otherwise."""
    result = stored_result(entry, partial_credit)
    groups = entry.get("groups") or {}
    for group in result.groups:
        recorded = (groups.get(group.name) or {}).get("score")
        if recorded is None or abs(group.score - recorded) > 1e-3:
            raise UnreadableResult(f"its checks give {group.name} {group.score:g} points, its line says "
                                   f"{'nothing' if recorded is None else format(recorded, 'g')}")
    return result


def recorded_checks(entry: dict) -> list[CheckResult]:
    """Each check result a graded line records, group by group (``stored_result``): what the class report, the
    gradebook and the regrade diff read of a line, none of which needs the groups' scoring."""
    return [check for group in stored_result(entry).groups for check in group.checks]


def stored_result(entry: dict, partial_credit=frozenset()) -> GradeResult:
    """The result in a ledger line: its record (``GradeResult.from_dict``), or for a line written before the kit
    stored records, the result rebuilt from its Gradescope-style dict (``partial_credit``: the course's groups
    that score per check, which that layout does not say). Raises ``UnreadableResult`` when it cannot be read."""
    data = entry.get("result")
    if not isinstance(data, dict):
        raise UnreadableResult("its line holds no full result (only its scores)")
    if "format" not in data:
        return _result_from_gradescope_style(entry, partial_credit)
    try:
        return GradeResult.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise UnreadableResult(f"its result cannot be read back ({exc})") from None


def _result_from_gradescope_style(entry: dict, partial_credit) -> GradeResult:
    """A line written before the kit stored records held a Gradescope-style dict (``report.gradescope_style``),
    text in one language: each check's group, name, outcome, message and visibility come back from it, and each
    group's points from the line's groups. A failed check's rule is not in that layout (its message is), so it
    comes back empty; the result's problems and notes come back as notes, in the language they were written in."""
    try:
        tests = entry["result"]["tests"]
        groups = []
        for name, points in entry["groups"].items():
            checks = []
            for test in (t for t in tests if t["group"] == name):
                passed = test["status"] == "passed"
                check, probe = split_check_name(test["name"].removeprefix(f"{name}: "))
                output = test.get("output") or ""
                checks.append(CheckResult(check=check, probe=probe, group=name,
                                          rule=output.removeprefix("passed: ") if passed else "",
                                          hidden=test.get("visibility") == "hidden", passed=passed,
                                          message="" if passed else output))
            groups.append(GroupResult(name, float(points["max_score"]), checks, partial_credit=name in partial_credit))
        output = entry["result"].get("output") or ""
        return GradeResult(str(entry.get("notebook") or entry.get("student") or ""), groups,
                           notes=[line for line in output.splitlines() if line.strip()],
                           execution_time=float(entry["result"].get("execution_time") or 0.0))
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise UnreadableResult(f"its result cannot be read back ({type(exc).__name__}: {exc})") from None
