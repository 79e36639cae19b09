"""nbgrader feedback with the HTML report: ``python -m autograder feedback`` after ``nbgrader generate_feedback``.

For each student with a submission, the submitted notebook is graded out of process (hidden
checks included, so the scores match nbgrader's) and the report, rendered for students (no
hidden-check details), is written as ``feedback/<student>/<assignment>/report.html``, next to
nbgrader's own feedback page, so ``nbgrader release_feedback`` hands both out.
"""

from __future__ import annotations

from pathlib import Path

from autograder.course.nbgrader_records import submitted_notebooks
from autograder.messages.i18n import Translator
from autograder.report import attach_report_data, write_report

REPORT_NAME = "report.html"


def write_feedback_reports(course: Path | str, grader, translator: Translator,
                           students: list[str] | None = None, not_graded: dict[str, str] | None = None) -> dict[str, Path]:
    """Grade each submission and write its student report into nbgrader's feedback folder; {student: report}.
    A grading the machine could not finish (``InfrastructureFault``) writes no report: the student and the reason
    go to ``not_graded``, and the others go on."""
    from autograder.isolation.infrastructure_fault import InfrastructureFault

    course, config = Path(course), grader.config
    written = {}
    for student, notebook in submitted_notebooks(course, config.assignment, config.notebook_name, students).items():
        try:
            result = grader.grade_notebook(notebook, include_hidden=True)
        except InfrastructureFault as exc:
            if not_graded is not None:
                not_graded[student] = str(exc)
            continue
        result.submission = f"{student}/{config.assignment}"
        written[student] = write_report(course / "feedback" / student / config.assignment / REPORT_NAME,
                                        attach_report_data(grader, result), translator, show_hidden=False)
    return written
