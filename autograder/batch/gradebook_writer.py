"""``grade-all --write-gradebook``: the ledger's grades into nbgrader's gradebook, written by the coordinator
alone (one SQLite writer, so no "database is locked"), so that ``nbgrader export`` and formgrader show them.

Each of the student's autograded test cells gets its points as nbgrader's ``auto_score``, as if nbgrader's
autograde had produced them; a manual score a TA set stays and still wins in nbgrader's totals. A student
nbgrader never autograded gets a submission created for them. The assignment must be in the gradebook
(``nbgrader generate_assignment`` puts it there).

The course's test-cell id convention (``grade_id_of``, ``group_of``, ``builder_of``) is defined here, in the
lower layer: the course tooling (``autograder.course.nbgrader_records``, which names it for its own modules)
imports this package, and this package imports nothing of the course tooling.
"""

from __future__ import annotations

from pathlib import Path

from autograder.support.config import GROUPS
from autograder.hidden.every_probe import function_called_by
from autograder.batch.ledger import UnreadableResult, recorded_checks

# ---------------------------------------------------------------- the course's test-cell id convention

PREFIX = "test_"


def grade_id_of(group: str, builder: str | None = None) -> str:
    """The grade id of a group's test cell: 'test_relabel', or 'test_accuracy_build_mlp' for a cell per model."""
    return f"{PREFIX}{group}" + (f"_{builder}" if builder else "")


def group_of(grade_id: str) -> str:
    """The check group of a test cell id ('test_relabel' → relabel, 'test_accuracy_build_mlp' → accuracy)."""
    name = grade_id.removeprefix(PREFIX)
    return next((g for g in sorted(GROUPS, key=len, reverse=True) if name.startswith(g)), name)


def builder_of(grade_id: str) -> str | None:
    """The model of a per-model test cell ('test_accuracy_build_mlp' → build_mlp); None for a group's cell."""
    rest = grade_id.removeprefix(PREFIX + group_of(grade_id))
    return rest.removeprefix("_") if rest.startswith("_build_") else None


# ---------------------------------------------------------------- grades into the gradebook


class GradebookError(ValueError):
    """The gradebook lacks the assignment or notebook: nothing written."""


def check_outcomes_only(entry: dict) -> dict:
    """What ``cell_points`` needs of a ledger line: its group scores and each check's group, probe and outcome
    (from its record, or a line's older Gradescope-style dict: ``ledger.recorded_checks``)."""
    if "checks" in entry:
        return entry
    try:
        # A check's weight follows its outcome only when it is not 1 (``CheckResult.to_dict`` does the same).
        checks = [[c.group, c.probe, c.passed, *([c.weight] if c.weight != 1 else [])] for c in recorded_checks(entry)]
    except UnreadableResult:
        checks = []
    return {**{k: v for k, v in entry.items() if k != "result"}, "checks": checks}


def cell_points(grade_id: str, max_score: float, entry: dict) -> float:
    """The points of one nbgrader test cell from a ledger line: its group's, or for a cell per model
    (test_accuracy_build_mlp) the share of that model's checks that passed, by their weights."""
    group = group_of(grade_id)
    scores = entry["groups"].get(group)
    if scores is None:
        return 0.0
    builder = grade_id.removeprefix(f"test_{group}_")
    if builder != grade_id and builder.startswith("build_"):
        outcomes = [(ok, weight[0] if weight else 1) for check_group, probe, ok, *weight
                    in check_outcomes_only(entry)["checks"]
                    if check_group == group and function_called_by(probe) == builder]
        total = sum(w for _, w in outcomes)
        return max_score * sum(w for ok, w in outcomes if ok) / total if outcomes else 0.0
    return max_score if scores["score"] >= scores["max_score"] - 1e-9 else 0.0


# How long one attempt waits for another program's lock on gradebook.db (SQLite's busy timeout), and how many
# attempts: formgrader or `nbgrader autograde` hold it for a moment per write, so 3 × 5 s outlasts them; a lock
# held longer (a sqlite3 shell in a transaction, a hung process) is reported, not waited on.
GRADEBOOK_BUSY_TIMEOUT_S = 5.0
GRADEBOOK_ATTEMPTS = 3


def write_gradebook(course: Path, assignment: str, notebook: str, entries: dict[str, dict],
                    busy_timeout_s: float | None = None, attempts: int | None = None) -> int:
    """Write each student's ledger line (``entries``: student → line with its result) into the gradebook, all
    students in one SQLite transaction: either every grade is written or none (a lock, a full disk).

    A gradebook locked by another program is tried ``attempts`` times, each waiting ``busy_timeout_s``; then
    ``GradebookError`` says so. Nothing is half written: the transaction is rolled back."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    busy_timeout_s = GRADEBOOK_BUSY_TIMEOUT_S if busy_timeout_s is None else busy_timeout_s
    attempts = GRADEBOOK_ATTEMPTS if attempts is None else attempts
    path = Path(course) / "gradebook.db"
    if not path.is_file():
        raise GradebookError(f"{path} does not exist; run `nbgrader generate_assignment {assignment}` in {course}")
    for attempt in range(1, attempts + 1):
        try:
            return _write_in_one_transaction(path, assignment, notebook, entries, busy_timeout_s)
        except OperationalError as exc:
            if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                raise GradebookError(f"{path} could not be written ({exc.orig}); nothing was written to it") from None
            if attempt == attempts:
                raise GradebookError(
                    f"{path} is locked by another program (formgrader, `nbgrader autograde`, a sqlite3 shell...): "
                    f"tried {attempts} times, waiting {busy_timeout_s:g} s each; nothing was written to it. Close "
                    f"that program and run the same grade-all command with --write-gradebook again (what the "
                    f"ledger holds is not graded again)") from None
        except SQLAlchemyError as exc:
            raise GradebookError(f"{path} could not be written ({type(exc).__name__}: {exc}); nothing was written "
                                 f"to it") from None
    raise AssertionError("unreachable: the last attempt returns or raises")


def _write_in_one_transaction(path: Path, assignment: str, notebook: str, entries: dict[str, dict],
                              busy_timeout_s: float) -> int:
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy import text

    written = 0
    with Gradebook(f"sqlite:///{path}?timeout={busy_timeout_s:g}") as gb:
        # nbgrader commits inside update_or_create_student and add_submission: flush there instead, so that the
        # whole class is one transaction, committed below or rolled back when the session is removed.
        commit, gb.db.commit = gb.db.commit, gb.db.flush
        # Take SQLite's write lock now (a write that changes nothing), waiting here for another program's, so
        # that a lock meets this function and not one of nbgrader's methods, which would log it as a traceback.
        gb.db.execute(text("DELETE FROM alembic_version WHERE 0 = 1"))
        try:
            gb.find_notebook(notebook, assignment)
        except MissingEntry:
            raise GradebookError(f"{path} has no notebook {notebook} in assignment {assignment}; run "
                                 f"`nbgrader generate_assignment {assignment}` first") from None
        for student, entry in entries.items():
            gb.update_or_create_student(student)
            try:
                submission = gb.find_submission_notebook(notebook, assignment, student)
            except MissingEntry:
                gb.add_submission(assignment, student)
                submission = gb.find_submission_notebook(notebook, assignment, student)
            for grade in submission.grades:
                if grade.name.startswith("test_"):  # the kit's autograded test cells
                    grade.auto_score = cell_points(grade.name, grade.max_score, entry)
                    grade.needs_manual_grade = False
            written += 1
        commit()
    return written
