"""``python -m autograder verify``: re-grade nbgrader's autograded submissions out of kernel.

nbgrader runs the test cells in the student's own kernel, after the student's code, so anything
that ran before them can subvert them (redefining ``check_group``, patching numpy, exiting the
kernel early). This re-grades each submitted notebook with the isolated grader and compares, group
by group, with the points in nbgrader's gradebook; ``write_back`` sets the verified points as
nbgrader manual scores, so that exports and feedback show them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from autograder.config import CourseConfig
from autograder.course.gradebook import builder_of, gradebook_scores, group_of, submitted_students
from autograder.grader.grading import Grader
from autograder.results import GradeResult


@dataclass(frozen=True)
class Discrepancy:
    """One group of one student whose nbgrader points differ from the verified ones."""

    student: str
    group: str
    nbgrader_points: float
    verified_points: float
    reason: str

    def line(self) -> str:
        return (f"{self.student:<24} {self.group:<10} nbgrader {self.nbgrader_points:>5g}  verified "
                f"{self.verified_points:>5g}  {self.reason}")


def compare(student: str, nbgrader: dict[str, tuple[float, float]], verified: GradeResult) -> list[Discrepancy]:
    """The groups where the gradebook and the verified grade disagree (by more than rounding)."""
    found = []
    for group in verified.groups:
        got = nbgrader.get(group.name, (0.0, group.max_score))[0]
        if abs(got - group.score) > 1e-6:
            failure = group.first_failure
            reason = failure.message.splitlines()[0][:160] if failure else "all checks pass out of kernel"
            found.append(Discrepancy(student, group.name, got, round(group.score, 6), reason))
    return found


def write_verified_scores(course: Path, assignment: str, notebook: str, student: str, result: GradeResult) -> None:
    """Set each of the student's test cells to its verified points as an nbgrader manual score."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for grade in gb.find_submission_notebook(notebook, assignment, student).grades:
            group = result.group(group_of(grade.name))
            if group.partial_credit:
                # One nbgrader cell per check (test_accuracy_build_mlp ↔ check ...[build_mlp]).
                builder = builder_of(grade.name)
                passed = any(c.passed for c in group.checks if c.name.endswith(f"[{builder}]"))
                grade.manual_score = grade.max_score if passed else 0.0
            else:
                grade.manual_score = grade.max_score if group.passed else 0.0
        gb.db.commit()


@dataclass
class Verification:
    """The outcome of re-grading a course's submissions: where nbgrader differs, and who was never autograded."""

    discrepancies: list[Discrepancy]
    results: dict[str, GradeResult]
    # Students in submitted/ without an autograded notebook in the gradebook (e.g. collected after autograde).
    not_autograded: list[str]

    @property
    def all_agree(self) -> bool:
        return not self.discrepancies and not self.not_autograded

    def text(self) -> str:
        lines = []
        if self.not_autograded:
            lines.append(f"{len(self.not_autograded)} submission(s) not autograded yet (run `nbgrader autograde "
                         f"<assignment>` first; nothing to compare with): {', '.join(self.not_autograded)}")
        if not self.discrepancies:
            lines.append("every autograded submission's nbgrader points match the out-of-kernel grade")
        else:
            head = f"{'student':<24} {'group':<10} points (nbgrader vs verified) and the verified reason"
            lines += [f"{len(self.discrepancies)} discrepancy(ies):", head, *(d.line() for d in self.discrepancies)]
        return "\n".join(lines)


def verify_course(course: Path, config: CourseConfig, assignment: str, notebook: str, write_back: bool = False,
                  log: Callable[[str], None] = print, students: list[str] | None = None) -> Verification:
    """Re-grade every autograded submission of ``assignment`` (or those of ``students``) and list where
    nbgrader's points differ."""
    course = Path(course)
    submitted = submitted_students(course, assignment)
    students = [s for s in submitted if students is None or s in students]
    nbgrader = gradebook_scores(course, assignment, notebook, students)
    grader = Grader(config, log=lambda m: None)
    verification = Verification([], {}, [s for s in students if s not in nbgrader])
    for student in students:
        if student not in nbgrader:
            log(f"  {student:<24} not autograded yet")
            continue
        path = course / "submitted" / student / assignment / f"{notebook}.ipynb"
        result = grader.grade_notebook(path)
        verification.results[student] = result
        found = compare(student, nbgrader[student], result)
        log(f"  {student:<24} nbgrader {sum(v[0] for v in nbgrader[student].values()):>5g}  verified "
            f"{result.score:>5g}/{result.max_score:g}  {'DIFFERS' if found else 'ok'}")
        if found and write_back:
            write_verified_scores(course, assignment, notebook, student, result)
        verification.discrepancies += found
    return verification


def as_dicts(discrepancies: list[Discrepancy]) -> list[dict]:
    return [asdict(d) for d in discrepancies]
