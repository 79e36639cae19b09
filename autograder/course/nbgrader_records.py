"""What nbgrader recorded, as this course reads it: who submitted, the gradebook's scores, and the test-cell
id convention.

Every module of the course tooling that reads or writes nbgrader's records asks here: the source
notebook names its test cells with ``grade_id_of``; demo, verify, feedback and the nbgrader pipeline
read them back with ``group_of`` and ``builder_of``, and find submissions with ``submitted_students``
and ``submitted_notebooks``. The test-cell id convention itself is defined with the class grader's
gradebook writer (``autograder.batch.gradebook_writer``), which needs it too: ``batch`` is the lower
layer, which this package (``verify``) imports, never the other way.
"""

from __future__ import annotations

from pathlib import Path

from autograder.batch.gradebook_writer import PREFIX, builder_of, grade_id_of, group_of  # noqa: F401 (the convention)


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
