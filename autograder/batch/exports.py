"""Grades out of the ledger: a plain CSV, a filled Canvas gradebook, a Moodle grade import.

Each student's grade is their last ledger line under the current grading key, of the notebook they submitted
(as ``grade-all --write-gradebook`` writes). The class is the course's submissions when the course root has
nbgrader's ``submitted/``, else the ledger's students. A student of the class with no such line (never graded,
grading failed, graded only under another key, notebook changed since) is ``missing``, with the reason: never
exported with a silent 0, and the command refuses a partial export unless told ``--allow-missing``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch.ledger_schema import impossible_line, impossible_values
from autograder.support.atomic_files import write_atomically

# Canvas' gradebook export: identity columns, then one column per assignment named "<title> (<id>)".
CANVAS_POINTS_ROW = "Points Possible"


class ExportError(ValueError):
    """An input file is missing a column the export needs, or is not the expected CSV."""


@dataclass
class CurrentGrades:
    scores: dict[str, dict] = field(default_factory=dict)  # student → ledger line (status graded)
    missing: dict[str, str] = field(default_factory=dict)  # student of the class → why they have no grade
    notes: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    @property
    def max_score(self) -> float | None:
        return next((e["max_score"] for e in self.scores.values()), None)


@dataclass
class Unmatched:
    in_ledger: list[str] = field(default_factory=list)
    in_file: list[str] = field(default_factory=list)


def current_grades(entries: list[dict], key: str, submissions: dict[str, str] | None = None,
                   refused: dict[str, str] | None = None) -> CurrentGrades:
    """The class's current grades from the ledger's ``entries`` under ``key``.

    ``submissions`` (student → sha256 of the notebook found now), when given, is the class: a student without a
    line is missing, a line of another notebook is stale, and a student of the ledger with no submission now is
    left out, with a note. ``refused``: students whose submission cannot be graded (student → why).
    """
    grades = CurrentGrades()
    latest: dict[str, dict] = {}
    for entry in entries:
        latest[entry["student"]] = entry
    students = set(latest) if submissions is None else set(submissions) | set(refused or {}) | set(latest)
    for student in sorted(students):
        entry = latest.get(student)
        if student in (refused or {}):
            grades.missing[student] = f"not graded: its submission cannot be graded ({refused[student]})"
        elif submissions is not None and student not in submissions:
            grades.notes.append(f"{student}: in the ledger, but no submission of theirs is in submitted/ now; "
                                f"not exported (as grade-all --write-gradebook does)")
        elif entry is None:
            grades.missing[student] = "not graded: no line in the ledger; run grade-all"
        elif entry["status"] != "graded":
            grades.missing[student] = f"not graded: grading failed ({entry.get('reason')}); fix it and run grade-all"
        elif entry["key"] != key:
            grades.missing[student] = (f"graded only under another grading key ({entry['key']}, now {key}: "
                                       f"course.yml, the calibration or the kit changed); run grade-all")
        elif submissions is not None and entry["sha256"] != submissions[student]:
            grades.missing[student] = "graded, but their notebook changed since; run grade-all"
        elif problem := impossible_values(entry):
            grades.missing[student] = f"not exported: {impossible_line(entry, problem)}"
        else:
            grades.scores[student] = entry
            for group in entry["groups"]:
                if group not in grades.groups:
                    grades.groups.append(group)
    return grades


def _number(value: float) -> str:
    return f"{value:g}"


def write_csv(grades: CurrentGrades, output: Path) -> None:
    """student, total, then one column per group."""
    rows = [["student", "total", *grades.groups]]
    for student, entry in grades.scores.items():
        rows.append([student, _number(entry["score"]),
                     *(_number(entry["groups"][g]["score"]) if g in entry["groups"] else "" for g in grades.groups)])
    _write_rows(output, rows)


def _write_rows(output: Path, rows: list[list[str]]) -> None:
    """The CSV, whole or not at all: a full disk leaves the previous export as it was (``OutputNotWritten``)."""
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    write_atomically(output, text.getvalue())


def _read_csv(path: Path) -> list[list[str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ExportError(f"{path} is not UTF-8 text; download it again as CSV") from None
    if not rows:
        raise ExportError(f"{path} is empty")
    return rows


def _canvas_column(header: list[str], wanted: str, path: Path) -> int:
    """The column titled ``wanted`` exactly, or ``wanted (<id>)`` as Canvas names assignment columns."""
    for i, title in enumerate(header):
        if title == wanted or (title.startswith(wanted + " (") and title.endswith(")")):
            return i
    raise ExportError(f"{path} has no column for {wanted!r}; its columns: {', '.join(header)}; "
                      f"name one with --canvas-column")


def fill_canvas_gradebook(grades: CurrentGrades, gradebook: Path, output: Path, column: str) -> Unmatched:
    """Copy Canvas' gradebook CSV with this assignment's column filled in, matching students by SIS Login ID,
    then by Canvas ID. Canvas' header and its "Points Possible" row are kept as they are; other cells too."""
    rows = _read_csv(gradebook)
    header = rows[0]
    missing = [c for c in ("Student", "ID", "SIS Login ID") if c not in header]
    if missing:
        raise ExportError(f"{gradebook} is not a Canvas gradebook export: no column {', '.join(missing)}")
    target = _canvas_column(header, column, gradebook)
    login, canvas_id, name = header.index("SIS Login ID"), header.index("ID"), header.index("Student")
    remaining = dict(grades.scores)
    unmatched = Unmatched()
    for row in rows[1:]:
        row += [""] * (len(header) - len(row))
        if row[name].strip() in (CANVAS_POINTS_ROW, "Student, Test") or not row[canvas_id].strip() and not row[login].strip():
            continue  # Canvas' own rows: points possible, the test student
        student = next((k for k in (row[login].strip(), row[canvas_id].strip()) if k and k in remaining), None)
        if student is None:
            unmatched.in_file.append(row[login].strip() or row[canvas_id].strip())
            continue
        row[target] = _number(remaining.pop(student)["score"])
    unmatched.in_ledger = sorted(remaining)
    _write_rows(output, rows)
    return unmatched


def write_moodle(grades: CurrentGrades, roster: Path, output: Path, identity: str, assignment: str) -> Unmatched:
    """Moodle's grade import CSV: an identity column (email address or ID number) and the assignment's grade.

    The roster maps the ledger's student ids to that identity: a CSV with a ``student`` column and an
    ``email`` or ``idnumber`` column.
    """
    rows = _read_csv(roster)
    header = [h.strip().lower() for h in rows[0]]
    for needed in ("student", identity):
        if needed not in header:
            raise ExportError(f"{roster} has no column {needed!r} (columns: {', '.join(rows[0])})")
    by_student = {r[header.index("student")].strip(): r[header.index(identity)].strip()
                  for r in rows[1:] if len(r) > max(header.index("student"), header.index(identity))}
    unmatched = Unmatched(in_ledger=sorted(s for s in grades.scores if not by_student.get(s)),
                          in_file=sorted(s for s in by_student if s not in grades.scores))
    title = {"email": "Email address", "idnumber": "ID number"}[identity]
    _write_rows(output, [[title, assignment]] + [[by_student[student], _number(entry["score"])]
                                                 for student, entry in grades.scores.items() if by_student.get(student)])
    return unmatched
