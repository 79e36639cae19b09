"""nbgrader's gradebook as this course uses it: the test-cell id convention, and who submitted.

Every module that reads or writes nbgrader's records of this course asks here: the source notebook
names its test cells with ``grade_id_of``; demo, verify, feedback, the nbgrader pipeline and the
class grader read them back with ``group_of`` and ``builder_of``, and find submissions with
``submitted_students`` and ``submitted_notebooks``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.config import GROUPS

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


def submitted_students(course: Path | str, assignment: str) -> list[str]:
    """Students with a submitted/<student>/<assignment>/ folder, sorted."""
    return sorted(p.parent.name for p in (Path(course) / "submitted").glob(f"*/{assignment}") if p.is_dir())


def submitted_notebooks(course: Path | str, assignment: str, notebook_name: str,
                        students: list[str] | None = None) -> dict[str, Path]:
    """The submitted notebook of each student (all students with one when ``students`` is None)."""
    found = {p.parent.parent.name: p for p in sorted(Path(course).glob(f"submitted/*/{assignment}/{notebook_name}"))}
    return {s: p for s, p in found.items() if students is None or s in students}


def gradebook_scores(course: Path, assignment: str, notebook: str,
                     students: list[str]) -> dict[str, dict[str, tuple[float, float]]]:
    """{student: {group: (score, max_score)}} from nbgrader's gradebook.

    A student the gradebook has no autograded notebook for (collected after ``autograde`` ran)
    is left out, not an error: callers say so by the student's absence.
    """
    from nbgrader.api import Gradebook, MissingEntry

    scores: dict[str, dict[str, tuple[float, float]]] = {}
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gb:
        for student in students:
            per_group: dict[str, tuple[float, float]] = {}
            try:
                notebook_grades = gb.find_submission_notebook(notebook, assignment, student).grades
            except MissingEntry:
                continue
            for grade in notebook_grades:
                group = group_of(grade.name)
                got, most = per_group.get(group, (0.0, 0.0))
                per_group[group] = (got + (grade.score or 0.0), most + grade.max_score)
            scores[student] = per_group
    return scores
