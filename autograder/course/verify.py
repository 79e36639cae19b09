"""``python -m autograder verify``: compare nbgrader's autograded points with the out-of-kernel grades of the ledger.

nbgrader runs the test cells in the student's own kernel, after the student's code, so anything
that ran before them can subvert them (redefining ``check_group``, patching numpy, exiting the
kernel early). ``grade-all`` grades each submission out of kernel, in the isolated grader, into the
class's ledger (``grades/<assignment>.jsonl``); this compares, group by group, each autograded
submission's points in nbgrader's gradebook with its ledger grade. A submission the ledger lacks
under the current grading key and notebook (never graded, or changed since) is graded first through
grade-all's own code path (in parallel, appended to the ledger), so that the comparison is always with
the grade of the notebook as it is now. ``write_back`` sets the verified points as nbgrader manual
scores, so that exports and feedback show them.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from autograder.batch.class_run import grade_class
from autograder.batch.grading_key import grading_key
from autograder.batch.ledger import UnreadableResult, latest_lines, ledger_path, recorded_result
from autograder.support.config import CourseConfig
from autograder.course.nbgrader_records import builder_of, gradebook_scores, group_of, submitted_students
from autograder.hidden.every_probe import function_called_by
from autograder.engine.results import GradeResult
from autograder.messages.i18n import ENGLISH, Translator
from autograder.submissions import Refused, Submission


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


def compare(student: str, nbgrader: dict[str, tuple[float, float]], verified: GradeResult,
            translator: Translator = ENGLISH) -> list[Discrepancy]:
    """The groups where the gradebook and the verified grade disagree (by more than rounding); each reason is the
    group's first failure, rendered in ``translator``'s language from the grade's record."""
    found = []
    for group in verified.groups:
        got = nbgrader.get(group.name, (0.0, group.max_score))[0]
        if abs(got - group.score) > 1e-6:
            failure = group.first_failure
            reason = (failure.message_text(translator).splitlines() or [""])[0][:160] if failure \
                else "all checks pass out of kernel"
            found.append(Discrepancy(student, group.name, got, round(group.score, 6), reason))
    return found


def write_verified_scores(course: Path, assignment: str, notebook: str, student: str, result: GradeResult) -> None:
    """Set each of the student's test cells to its verified points as an nbgrader manual score."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for grade in gb.find_submission_notebook(notebook, assignment, student).grades:
            group = result.group(group_of(grade.name))
            if group.partial_credit:
                # One nbgrader cell per model (test_accuracy_build_mlp ↔ the check of build_mlp_for_accuracy).
                builder = builder_of(grade.name)
                passed = any(c.passed for c in group.checks if function_called_by(c.probe) == builder)
                grade.manual_score = grade.max_score if passed else 0.0
            else:
                grade.manual_score = grade.max_score if group.passed else 0.0
        gb.db.commit()


@dataclass
class Verification:
    """The outcome of comparing a course's gradebook with its ledger: where nbgrader differs, who was never
    autograded, who could not be graded out of kernel, and where each compared grade came from."""

    discrepancies: list[Discrepancy]
    results: dict[str, GradeResult]
    # Students in submitted/ without an autograded notebook in the gradebook (e.g. collected after autograde).
    not_autograded: list[str]
    # Autograded students with no out-of-kernel grade to compare with, and why (grading failed twice, an
    # unreadable notebook or ledger line): never compared as if they scored 0.
    not_graded: dict[str, str] = field(default_factory=dict)
    from_ledger: list[str] = field(default_factory=list)  # compared with a grade the ledger already held
    graded_now: list[str] = field(default_factory=list)  # graded by this verify, and appended to the ledger

    @property
    def all_agree(self) -> bool:
        return not self.discrepancies and not self.not_autograded and not self.not_graded

    def text(self) -> str:
        lines = [f"{len(self.results)} submission(s) compared: {len(self.from_ledger)} with the ledger's grade, "
                 f"{len(self.graded_now)} graded now (appended to the ledger)"]
        if self.not_autograded:
            lines.append(f"{len(self.not_autograded)} submission(s) not autograded yet (run `nbgrader autograde "
                         f"<assignment>` first; nothing to compare with): {', '.join(self.not_autograded)}")
        if self.not_graded:
            lines.append(f"{len(self.not_graded)} submission(s) NOT GRADED out of kernel (nothing to compare with):")
            lines += [f"  {student}: {reason}" for student, reason in self.not_graded.items()]
        if not self.discrepancies:
            lines.append("every compared submission's nbgrader points match the out-of-kernel grade")
        else:
            head = f"{'student':<24} {'group':<10} points (nbgrader vs verified) and the verified reason"
            lines += [f"{len(self.discrepancies)} discrepancy(ies):", head, *(d.line() for d in self.discrepancies)]
        return "\n".join(lines)


def verify_course(course: Path, config: CourseConfig, assignment: str, notebook: str, write_back: bool = False,
                  log: Callable[[str], None] = print, students: list[str] | None = None,
                  executor_factory=None, workers: int | None = None, show_progress: bool = False) -> Verification:
    """Compare every autograded submission of ``assignment`` (or those of ``students``) with its grade in the
    ledger, grading first what the ledger lacks; list where nbgrader's points differ.

    ``executor_factory`` is grade-all's: by default a local pool of ``workers`` processes (None: as many as fit
    this machine), started only when some submission is not in the ledger yet.
    """
    course = Path(course)
    submitted = submitted_students(course, assignment)
    students = [s for s in submitted if students is None or s in students]
    nbgrader = gradebook_scores(course, assignment, notebook, students)
    verification = Verification([], {}, [s for s in students if s not in nbgrader])
    for student in verification.not_autograded:
        log(f"  {student:<24} not autograded yet")
    submissions, unreadable = _submissions(course, assignment, notebook, [s for s in students if s in nbgrader])
    ledger = ledger_path(course, assignment)
    key = grading_key(config)
    if executor_factory is None:
        from autograder.batch.local_pool import local_pool_factory
        from autograder.batch.worker_task import settings_for

        executor_factory = local_pool_factory(config, settings_for(config), workers)
    run = grade_class(submissions, unreadable, assignment=assignment, key=key, ledger=ledger,
                      executor_factory=executor_factory, show_progress=show_progress,
                      partial_credit=config.partial_credit)
    for warning in run.warnings:
        log(f"warning: {warning}")
    graded_now = {e["student"] for e in run.graded}
    verification.not_graded = {**{e["student"]: e["reason"] for e in run.not_graded},
                               **{r.student: r.reason for r in run.refused}}
    latest = {e["student"]: e for e in latest_lines(ledger, assignment, {s.student for s in submissions}).entries}
    for submission in submissions:
        student = submission.student
        if student in verification.not_graded:
            log(f"  {student:<24} NOT GRADED: {verification.not_graded[student]}")
            continue
        try:
            result = _current_result(latest.get(student), submission, key, config)
        except UnreadableResult as exc:
            verification.not_graded[student] = f"its ledger line in {ledger}: {exc}; run grade-all --force"
            log(f"  {student:<24} NOT GRADED: {verification.not_graded[student]}")
            continue
        (verification.graded_now if student in graded_now else verification.from_ledger).append(student)
        verification.results[student] = result
        found = compare(student, nbgrader[student], result, Translator(config.language))
        log(f"  {student:<24} nbgrader {sum(v[0] for v in nbgrader[student].values()):>5g}  verified "
            f"{result.score:>5g}/{result.max_score:g}  {'DIFFERS' if found else 'ok'}"
            f"  ({'graded now' if student in graded_now else 'from the ledger'})")
        if found and write_back:
            write_verified_scores(course, assignment, notebook, student, result)
        verification.discrepancies += found
    return verification


def _submissions(course: Path, assignment: str, notebook: str,
                 students: list[str]) -> tuple[list[Submission], list[Refused]]:
    """Each student's submitted notebook, with the sha256 that keys its ledger line; an unreadable one is refused."""
    submissions, refused = [], []
    for student in students:
        path = course / "submitted" / student / assignment / f"{notebook}.ipynb"
        try:
            submissions.append(Submission(student, path, hashlib.sha256(path.read_bytes()).hexdigest()))
        except OSError as exc:
            refused.append(Refused(student, f"cannot read {path}: {exc.strerror or exc}"))
    return submissions, refused


def _current_result(entry: dict | None, submission: Submission, key: str, config: CourseConfig) -> GradeResult:
    """The grade of this very notebook under this grading key, from its ledger line."""
    if entry is None or entry.get("status") != "graded" or entry.get("key") != key \
            or entry.get("sha256") != submission.sha256:
        # grade_class just graded or skipped it, so only another writer since (a grade-all running now) gets here.
        raise UnreadableResult("its last line is not a grade of this notebook under the current grading key")
    return recorded_result(entry, config.partial_credit)


def as_dicts(discrepancies: list[Discrepancy]) -> list[dict]:
    return [asdict(d) for d in discrepancies]
