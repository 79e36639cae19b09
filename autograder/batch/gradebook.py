"""``grade-all --write-gradebook``: the ledger's grades into nbgrader's gradebook, written by the coordinator
alone (one SQLite writer, so no "database is locked"), so that ``nbgrader export`` and formgrader show them.

Each of the student's autograded test cells gets its points as nbgrader's ``auto_score``, as if nbgrader's
autograde had produced them; a manual score a TA set stays and still wins in nbgrader's totals. A student
nbgrader never autograded gets a submission created for them. The assignment must be in the gradebook
(``nbgrader generate_assignment`` puts it there).

The course's test-cell id convention (``grade_id_of``, ``group_of``, ``builder_of``) is defined here, in the
lower layer: the course tooling (``autograder.course.gradebook``, which names it for its own modules) imports
this package, and this package imports nothing of the course tooling.
"""

from __future__ import annotations

from pathlib import Path

from autograder.support.config import GROUPS
from autograder.hidden.probes import function_called_by
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
        checks = [[c.group, c.probe, c.passed] for c in recorded_checks(entry)]
    except UnreadableResult:
        checks = []
    return {**{k: v for k, v in entry.items() if k != "result"}, "checks": checks}


def cell_points(grade_id: str, max_score: float, entry: dict) -> float:
    """The points of one nbgrader test cell from a ledger line: its group's, or for a cell per model
    (test_accuracy_build_mlp) the share of that model's checks that passed."""
    group = group_of(grade_id)
    scores = entry["groups"].get(group)
    if scores is None:
        return 0.0
    builder = grade_id.removeprefix(f"test_{group}_")
    if builder != grade_id and builder.startswith("build_"):
        passed = [ok for check_group, probe, ok in check_outcomes_only(entry)["checks"]
                  if check_group == group and function_called_by(probe) == builder]
        return max_score * sum(passed) / len(passed) if passed else 0.0
    return max_score if scores["score"] >= scores["max_score"] - 1e-9 else 0.0


def write_gradebook(course: Path, assignment: str, notebook: str, entries: dict[str, dict]) -> int:
    """Write each student's ledger line (``entries``: student → line with its result) into the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    path = Path(course) / "gradebook.db"
    if not path.is_file():
        raise GradebookError(f"{path} does not exist; run `nbgrader generate_assignment {assignment}` in {course}")
    written = 0
    with Gradebook(f"sqlite:///{path}") as gb:
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
        gb.db.commit()
    return written
