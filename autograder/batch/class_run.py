"""The coordinator of ``grade-all``: find the submissions, skip what the ledger holds, grade the rest on an
executor, retry a failure once, and append every finished submission to the ledger as it arrives.

The executor is anything with ``capacity``, ``submit(student, path)``, ``finished(in_flight)``,
``outcome(future)`` and ``close(cancel)``: the local pool and the Dask pool share this one loop.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.batch.ledger import LedgerWriter, UnreadableResult, each_line, read_ledger, recorded_result
from autograder.batch.progress import ClassProgress
from autograder.submissions import Refused, Submission
from autograder.support.atomic_files import write_atomically

ATTEMPTS = 2  # a grading that crashes, or whose worker dies, is tried once more before it is "not graded"


class ExecutorLost(ConnectionError):
    """The executor as a whole went away (the Dask scheduler): the run stops, and no submission in flight is charged
    an attempt or written to the ledger; the same command resumes."""


@dataclass
class ClassRunReport:
    assignment: str
    total: int = 0
    skipped: int = 0  # already in the ledger under the same key and notebook
    already_in_ledger: list[str] = field(default_factory=list)  # those students
    graded: list[dict] = field(default_factory=list)
    not_graded: list[dict] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # --json-dir and --html-dir: where, which students got their file, and why the others did not.
    json_dir: Path | None = None
    json_written: list[str] = field(default_factory=list)
    json_missing: dict[str, str] = field(default_factory=dict)
    html_dir: Path | None = None
    html_written: list[str] = field(default_factory=list)
    html_missing: dict[str, str] = field(default_factory=dict)
    # Files the run was asked for and could not write (a full disk): each sentence names the file and why.
    outputs_not_written: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.not_graded and not self.refused


def already_graded(submissions: list[Submission], ledger_entries: list[dict], key: str) -> set[str]:
    """Students whose last ledger line grades this very notebook under this grading key."""
    latest: dict[str, dict] = {}
    for entry in ledger_entries:
        latest[entry["student"]] = entry
    return {s.student for s in submissions
            if (e := latest.get(s.student)) and e["status"] == "graded" and e["sha256"] == s.sha256 and e["key"] == key}


def grade_class(submissions: list[Submission], refused: list[Refused], *, assignment: str, key: str,
                ledger: Path, executor_factory, force: bool = False, json_dir: Path | None = None,
                html_dir: Path | None = None, show_progress: bool = True,
                partial_credit=frozenset()) -> ClassRunReport:
    """Grade ``submissions`` not yet in ``ledger`` under ``key``; the executor is started only when needed.

    ``json_dir`` gets every current student's ``<student>.json``, the record of their grade
    (``GradeResult.to_dict``): the ones graded now from their outcome, the ones already in the ledger from
    their line (a line written before the kit stored records is read as ``ledger.recorded_result`` reads it,
    ``partial_credit`` naming the course's groups that score per check). ``html_dir`` is where the executor's
    workers draw each graded student's HTML report (set in their settings); only accounted for here: a report
    is drawn while grading, so the students already in the ledger get none, and the report says so.
    """
    started = time.perf_counter()
    report = ClassRunReport(assignment, total=len(submissions), refused=list(refused), json_dir=json_dir,
                            html_dir=html_dir)
    contents = read_ledger(ledger, assignment)
    report.warnings += contents.warnings
    done = set() if force else already_graded(submissions, contents.entries, key)
    report.skipped = len(done)
    report.already_in_ledger = sorted(done)
    # Each student's last line, by its position among the ledger's valid lines: what --json-dir rereads.
    last_line = {entry["student"]: index for index, entry in enumerate(contents.entries)}
    todo = [s for s in submissions if s.student not in done]
    del contents
    if json_dir is not None:
        json_dir.mkdir(parents=True, exist_ok=True)
        _json_from_ledger(ledger, assignment, {last_line[s]: s for s in done}, json_dir, report, partial_credit)
    if html_dir is not None:
        for student in report.already_in_ledger:
            report.html_missing[student] = HTML_NOT_IN_LEDGER
    if not todo:
        report.seconds = time.perf_counter() - started
        return report
    writer = LedgerWriter(ledger)  # fails here, before any grading, when the folder is read-only
    executor = executor_factory()
    progress = ClassProgress(len(todo), f"grading {assignment}", enabled=show_progress)
    attempts: dict[str, int] = {}
    in_flight: dict = {}
    queue = list(reversed(todo))
    finished_cleanly = False
    unisolated_hosts: set[str] = set()  # machines already warned about, once each
    try:
        while queue or in_flight:
            while queue and len(in_flight) < executor.capacity:
                submission = queue.pop()
                attempts[submission.student] = attempts.get(submission.student, 0) + 1
                in_flight[executor.submit(submission.student, str(submission.path))] = submission
            finished = []  # (entry, outcome) of this batch: recorded together, with one fsync
            lost = None
            for future in executor.finished(in_flight.keys()):
                submission = in_flight.pop(future)
                try:
                    outcome = executor.outcome(future)
                except ExecutorLost as exc:
                    lost = exc  # nobody's grading failed: the run stops once what did finish is recorded
                    continue
                except Exception as exc:
                    if attempts[submission.student] < ATTEMPTS:
                        queue.append(submission)
                        continue
                    finished.append((_entry(submission, assignment, key, attempts[submission.student], None,
                                            reason=f"{type(exc).__name__}: {exc}"), None))
                    continue
                finished.append((_entry(submission, assignment, key, attempts[submission.student], outcome), outcome))
            if finished:
                writer.append(*(entry for entry, _ in finished))
            for entry, outcome in finished:
                if outcome is None:
                    report.not_graded.append(entry)
                    progress.write(f"not graded: {entry['student']}: {entry['reason']}")
                    progress.finished(failed=True)
                    continue
                if entry["isolated"] is False and entry["worker"].split(":")[0] not in unisolated_hosts:
                    unisolated_hosts.add(entry["worker"].split(":")[0])
                    progress.write(f"warning: {entry['worker'].split(':')[0]} cannot give submissions their own "
                                   f"namespaces (unshare): they run with the network and can read the course's "
                                   f"private paths there (README, 'Isolation and limits'); each ledger line says "
                                   f"whether it was isolated")
                if outcome.get("report_error"):
                    progress.write(f"warning: {entry['student']}: {outcome['report_error']}")
                    report.html_missing[entry["student"]] = outcome["report_error"]
                    report.outputs_not_written.append(f"{entry['student']}: {outcome['report_error']}")
                elif html_dir is not None:
                    report.html_written.append(entry["student"])
                if json_dir is not None:
                    _record_json(report, entry["student"], _write_json(json_dir / f"{entry['student']}.json",
                                                                       outcome["result"]), progress)
                del entry["result"]  # kept in the ledger, not in the coordinator's memory
                report.graded.append(entry)
                progress.finished(failed=False)
            if lost is not None:
                raise lost
        finished_cleanly = True
    finally:
        progress.close()
        writer.close()
        executor.close(cancel=not finished_cleanly)
    report.seconds = time.perf_counter() - started
    return report


def _entry(submission: Submission, assignment: str, key: str, attempts: int, outcome: dict | None,
           reason: str = "") -> dict:
    entry = {"student": submission.student, "assignment": assignment, "sha256": submission.sha256, "key": key,
             "notebook": str(submission.path), "attempts": attempts,
             "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if outcome is None:
        return {**entry, "status": "not graded", "reason": reason, "score": None, "max_score": None, "groups": {},
                "seconds": None, "calibration": None, "worker": None, "result": None}
    return {**entry, "status": "graded", "reason": "", "isolated": outcome.get("isolated"),
            **{k: outcome[k] for k in ("score", "max_score", "groups", "seconds", "calibration", "worker", "result")}}


HTML_NOT_IN_LEDGER = ("already in the ledger, not graded now: an HTML report is drawn while grading, from the "
                      "models' predictions on the test digits, which the ledger does not keep; run again with "
                      "--force to regrade and draw them, or `python -m autograder grade NOTEBOOK --html FILE` for one")


def _write_json(path: Path, result: dict) -> str:
    """One grade's record as JSON; a failure to write it is returned, not raised (the ledger has the result)."""
    try:
        write_atomically(path, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:  # OutputNotWritten: which file, why, and that an earlier one is kept
        return str(exc)
    return ""


def _record_json(report: ClassRunReport, student: str, error: str, progress: ClassProgress | None = None) -> None:
    if not error:
        report.json_written.append(student)
        return
    report.json_missing[student] = error
    report.outputs_not_written.append(error)
    if progress is not None:
        progress.write(f"warning: {error}")


def _json_from_ledger(ledger: Path, assignment: str, wanted: dict[int, str], json_dir: Path,
                      report: ClassRunReport, partial_credit=frozenset()) -> None:
    """``<student>.json`` of each student already in the ledger, from their last line (``wanted``: its position
    among the valid lines → the student), rereading the ledger one line at a time: a line is 20 to 30 KB."""
    for index, entry in enumerate(each_line(ledger, assignment, [])):  # its warnings were reported already
        student = wanted.pop(index, None)
        if student is None:
            continue
        if entry["student"] != student:
            report.json_missing[student] = f"{ledger} changed while it was read; run the same command again"
        elif not isinstance(entry.get("result"), dict):
            report.json_missing[student] = ("its ledger line holds no full result (only its scores); "
                                            "run again with --force to regrade it")
        else:
            try:  # a line written before the kit stored records is migrated to one
                record = recorded_result(entry, partial_credit).to_dict()
            except UnreadableResult as exc:
                report.json_missing[student] = f"its ledger line (line {entry['line']}): {exc}; run again with --force"
            else:
                _record_json(report, student, _write_json(json_dir / f"{student}.json", record))
        if not wanted:
            break
    for student in wanted.values():
        report.json_missing[student] = f"{ledger} changed while it was read; run the same command again"
