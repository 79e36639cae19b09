"""``python -m autograder grade-all`` and ``python -m autograder export``: arguments and what they print.

Instructor-facing, so in English. Exit codes of grade-all: 0 every submission graded (now or before),
3 some submission is not graded (listed at the end), 4 all graded but a file asked for (--json-dir,
--html-dir, the regrade diff, the similarity report) could not be written (each named, with why), 1 the run
could not start or had to stop, 75 the Dask scheduler went away, 130 interrupted (Ctrl-C, SIGINT), 143
terminated (SIGTERM); after the last three, the same command resumes. export exits 1 and writes nothing when a
student of the class has no current grade (each named, with why), unless ``--allow-missing``.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from autograder.isolation.infrastructure_fault import EXIT_RUN_AGAIN

EXIT_NOT_GRADED = 3
EXIT_OUTPUT_NOT_WRITTEN = 4
# Stopped by the operator, as a shell reports a command ended by the signal (128 + its number).
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM
# The executor went away (the Dask scheduler): no student's fault, nothing recorded for them.
EXIT_EXECUTOR_LOST = EXIT_RUN_AGAIN


class Terminated(KeyboardInterrupt):
    """SIGTERM to grade-all, raised where the coordinator is, so that it stops as on Ctrl-C: its workers and their
    jailed processes are ended, what finished stays in the ledger."""


def _raise_terminated(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the cleanup short
    raise Terminated()


def add_grade_all(sub, load_config) -> None:
    """Register ``grade-all``; ``load_config(args)`` is the CLI's own course.yml loader."""
    grade_all = sub.add_parser("grade-all", help="grade a whole class in parallel, resumably, into grades/<assignment>.jsonl")
    grade_all.add_argument("path", nargs="?", help="the course root (nbgrader's submitted/<student>/<assignment>/) or a "
                           "folder of notebooks, one per student (default: course.yml's folder)")
    grade_all.add_argument("--workers", type=int, help="local worker processes (default: cores ÷ limits.cpu_threads, at least 2 on 2+ cores, "
                           "capped by available memory ÷ 2.1 GB)")
    grade_all.add_argument("--dask-local", type=int, metavar="N", help="start a Dask LocalCluster of N worker processes")
    grade_all.add_argument("--scheduler", metavar="ADDRESS", help="use a running Dask scheduler, e.g. tcp://host:8786")
    grade_all.add_argument("--force", action="store_true", help="regrade everything, even what the ledger already holds")
    grade_all.add_argument("--json-dir", metavar="DIR", help="also write one Gradescope-style <student>.json per graded "
                           "submission: graded now, or already in the ledger (from its line's full result)")
    grade_all.add_argument("--html-dir", metavar="DIR", help="also write the HTML report (as grade --html) of each "
                           "student graded now to DIR/<student>.html (those already in the ledger are listed)")
    grade_all.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    grade_all.add_argument("--lang", choices=("en", "ko"), help="language of the messages (default: course.yml's language)")
    grade_all.add_argument("--write-gradebook", action="store_true", help="then write the class's grades into "
                           "nbgrader's gradebook.db in the course root (as autograded scores)")
    grade_all.add_argument("--class-report", metavar="FILE", help="then write one HTML page about the class: score "
                           "distribution, failure rate by group, most common failures, what was not graded")
    grade_all.add_argument("--no-training-cache", action="store_true", help="train every submission's models "
                           "anew, without the class's training cache (grades/<assignment>.training-cache/, where each "
                           "distinct model's training is kept for the next submission with the same model)")
    grade_all.add_argument("--quiet", action="store_true", help="no progress bar")
    grade_all.set_defaults(func=lambda args: cmd_grade_all(args, load_config(args)))


def add_export(sub, load_config) -> None:
    export = sub.add_parser("export", help="write the ledger's grades as CSV, into a Canvas gradebook, or for Moodle")
    export.add_argument("--format", choices=("csv", "canvas", "moodle"), default="csv")
    export.add_argument("--output", metavar="FILE", help="file to write (default: grades/<assignment>-<format>.csv)")
    export.add_argument("--canvas-gradebook", metavar="FILE", help="the gradebook CSV downloaded from Canvas (canvas)")
    export.add_argument("--canvas-column", help="the Canvas column to fill (default: the one named after the assignment)")
    export.add_argument("--roster", metavar="FILE", help="CSV with columns student and email/idnumber (moodle)")
    export.add_argument("--identity", choices=("email", "idnumber"), default="email", help="Moodle identity column")
    export.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    export.add_argument("--allow-missing", action="store_true", help="write the export even when some students of "
                        "the class have no current grade (they are named on stderr); without it, export refuses")
    export.set_defaults(func=lambda args: cmd_export(args, load_config(args)))


def _settings(args, config):
    from autograder.batch.worker_task import settings_for
    from autograder.grader.training_cache import cache_folder

    # Workers may run elsewhere (Dask, on the shared file system): an absolute path.
    training_cache = None if args.no_training_cache else str(cache_folder(config.root, config.assignment).resolve())
    html_dir = None
    if args.html_dir:
        html_dir = str(Path(args.html_dir).resolve())  # workers may run elsewhere: an absolute path
        try:
            Path(html_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            sys.exit(f"error: cannot create {html_dir}: {exc.strerror or exc}")
    return settings_for(config, args.data, args.lang, html_dir, training_cache)


def _executor_factory(args, config, settings):
    if args.scheduler or args.dask_local:
        from autograder.batch.dask_pool import DaskPool

        return lambda: DaskPool(settings, address=args.scheduler, local_workers=args.dask_local)
    from autograder.batch.local_pool import local_pool_factory

    return local_pool_factory(config, settings, args.workers)


def cmd_grade_all(args, config) -> int:
    from autograder.batch.ledger import ledger_path
    from autograder.submissions import NothingToGrade, find_submissions

    if args.workers is not None and args.workers < 1:
        sys.exit("error: --workers must be at least 1")
    if args.scheduler and args.dask_local:
        sys.exit("error: give --scheduler or --dask-local, not both")
    from autograder.isolation.jail import require_sandbox

    require_sandbox(config.limits)  # fail closed before any student is tried
    path = Path(args.path) if args.path else config.root
    try:
        submissions, refused = find_submissions(path, config.assignment, _size_limit(config))
    except NothingToGrade as exc:
        sys.exit(f"error: {exc}")
    ledger = ledger_path(config.root, config.assignment)
    with hold_the_course(ledger):
        return _grade_and_report(args, config, submissions, refused, ledger)


def hold_the_course(ledger: Path):
    """The course's lock (``course_lock``), for a with-block around a run that appends to ``ledger`` (grade-all,
    verify); a second run is refused, naming the first, and a dead run's lock is taken over, with a note."""
    from autograder.batch.course_lock import CourseBusy, CourseLock

    try:
        lock = CourseLock.take(ledger)
    except CourseBusy as exc:
        sys.exit(f"error: {exc}")
    except OSError as exc:
        sys.exit(f"error: cannot create the lock file beside the ledger {ledger}: {exc.strerror or exc}; "
                 f"nothing was graded")
    if lock.took_over:
        print(f"note: {lock.took_over}", file=sys.stderr)
    return lock


def _grade_and_report(args, config, submissions, refused, ledger: Path) -> int:
    from autograder.batch.class_run import ExecutorLost, grade_class
    from autograder.batch.grading_key import grading_key
    from autograder.batch.ledger import LedgerError, read_ledger
    from autograder.isolation.jail import sweep_leftovers
    from autograder.batch.summary import refuse_impossible, summary_text

    key = grading_key(config)
    settings = _settings(args, config)
    sweep_leftovers()  # what a killed run left: its jailed processes, cgroups and temp folders
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        report = grade_class(submissions, refused, assignment=config.assignment, key=key, ledger=ledger,
                             executor_factory=_executor_factory(args, config, settings), force=args.force,
                             json_dir=Path(args.json_dir) if args.json_dir else None,
                             html_dir=Path(settings.html_dir) if settings.html_dir else None,
                             show_progress=not args.quiet, partial_credit=config.partial_credit)
    except LedgerError as exc:
        sys.exit(f"error: {exc}; nothing more was graded, and nothing already in the ledger was changed")
    except KeyboardInterrupt as exc:
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"{how}: the workers and the students' processes were stopped; what finished is in {ledger}; run the "
              "same command again to resume", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except ExecutorLost as exc:
        print(f"stopped: {exc}; what finished is in {ledger}, and no student's attempt was spent", file=sys.stderr)
        return EXIT_EXECUTOR_LOST
    except ConnectionError as exc:
        sys.exit(f"error: {exc}")
    except OSError as exc:  # e.g. --json-dir cannot be created
        sys.exit(f"error: {exc.strerror or exc}: {exc.filename or ''}")
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    current = {s.student: s.sha256 for s in submissions}
    class_entries = [e for e in read_ledger(ledger, config.assignment).latest_by_student().values()
                     if e["status"] == "graded" and e["key"] == key and current.get(e["student"]) == e["sha256"]]
    class_entries = refuse_impossible(class_entries, report.warnings)
    print(summary_text(report, class_entries))
    regrade = _write_regrade_diff(config, ledger, key, current, report)
    print(f"\nledger: {ledger}")
    if args.class_report:
        _write_class_report(args, config, ledger, report, {e["student"] for e in class_entries}, regrade,
                            similarity=_write_similarity_beside(args, config, submissions, refused, report))
    if args.write_gradebook:
        _write_gradebook(config, ledger, {e["student"] for e in class_entries})
    if report.outputs_not_written:
        print(f"\nerror: {len(report.outputs_not_written)} file(s) asked for could not be written (named above; "
              f"the grades are in {ledger}). Free space, then run the same command again: it grades nothing "
              f"again and writes them (an HTML report needs --force, or `grade NOTEBOOK --html FILE`)",
              file=sys.stderr)
    if not report.complete:
        return EXIT_NOT_GRADED
    return EXIT_OUTPUT_NOT_WRITTEN if report.outputs_not_written else 0


def _write_regrade_diff(config, ledger: Path, key: str, current: dict[str, str], report):
    """Write grades/<assignment>-regrade-diff.csv when this run regraded students graded before under another
    key, and return (the diff, its path, None where it could not be written); else None. A run that graded
    nothing reads nothing more."""
    from autograder.batch.regrade_diff import regrade_diff, regrade_diff_path, write_regrade_csv

    if not report.graded:
        return None
    diff = regrade_diff(ledger, config.assignment, key, current)
    if not diff.regraded_by({e["student"] for e in report.graded}):
        return None  # a first grading, or new notebooks: no grading key changed under them
    path = regrade_diff_path(ledger, config.assignment)
    try:
        write_regrade_csv(diff, path)
    except OSError as exc:  # the grades are in the ledger; the diff can be written by running again
        print(f"\nwarning: the regrade diff: {exc}")
        report.outputs_not_written.append(f"the regrade diff: {exc}")
        return diff, None
    print(f"\n{diff.summary_line(path)}")
    return diff, path


def _write_similarity_beside(args, config, submissions, refused, report) -> dict | None:
    """The similarity page beside the class report (<report>-similarity.html and .csv), from the same notebooks;
    what the class report shows of it, or None (with a warning) when it cannot be made: grading went well."""
    from autograder.messages.i18n import Translator
    from autograder.integrity.similarity import (SimilarityError, instructor_boilerplate, release_notebook_path,
                                                 similarity_report)
    from autograder.integrity.similarity_page import class_report_section, write_similarity

    report_path = Path(args.class_report)
    page = report_path.with_name(f"{report_path.stem}-similarity.html")
    try:
        similarity = similarity_report(submissions, refused, release_notebook_path(config.assignment, config.root),
                                       config.assignment, config.similarity.threshold,
                                       config.similarity.common_code_share,
                                       instructor_boilerplate(config.similarity.boilerplate, config.root))
        page, _ = write_similarity(page, similarity, Translator(args.lang or config.language))
    except (SimilarityError, OSError) as exc:  # OutputNotWritten names the file and whether the old one is kept
        print(f"warning: no similarity report: {exc}")
        if isinstance(exc, OSError):
            report.outputs_not_written.append(f"the similarity report: {exc}")
        return None
    print(f"wrote {page}")
    return class_report_section(similarity, page.name)


def _write_class_report(args, config, ledger: Path, report, students: set[str], regrade=None,
                        similarity: dict | None = None) -> None:
    from autograder.batch.class_report import failures_only, write_class_report
    from autograder.batch.ledger import latest_lines
    from autograder.messages.i18n import Translator

    translator = Translator(args.lang or config.language)
    latest = {e["student"]: e for e in latest_lines(ledger, config.assignment, students,
                                                    slim=lambda e: failures_only(e, translator)).entries}
    graded = [latest[s] for s in sorted(students)]
    not_graded = [{"student": e["student"], "reason": e["reason"]} for e in report.not_graded]
    not_graded += [{"student": r.student, "reason": r.reason} for r in report.refused]
    try:
        path = write_class_report(Path(args.class_report), config.assignment, graded, not_graded,
                                  translator, regrade=regrade[0] if regrade else None,
                                  regrade_csv=str(regrade[1] or "") if regrade else "", similarity=similarity)
    except OSError as exc:  # OutputNotWritten: which file, why, and whether the previous one is kept
        sys.exit(f"error: the class report: {exc}")
    print(f"wrote {path}")


def _write_gradebook(config, ledger: Path, students: set[str]) -> None:
    from autograder.batch.gradebook_writer import GradebookError, check_outcomes_only, write_gradebook
    from autograder.batch.ledger import latest_lines

    latest = {e["student"]: e for e in latest_lines(ledger, config.assignment, students, slim=check_outcomes_only).entries}
    try:
        written = write_gradebook(config.root, config.assignment, config.assignment,
                                  {s: latest[s] for s in sorted(students)})
    except GradebookError as exc:
        sys.exit(f"error: {exc}; the grades stay in {ledger}")
    print(f"wrote {written} student(s)' grades into {config.root / 'gradebook.db'}")


def cmd_export(args, config) -> int:
    from autograder.batch import exports
    from autograder.batch.grading_key import grading_key
    from autograder.batch.ledger import ledger_path, read_ledger

    if args.format == "canvas" and not args.canvas_gradebook:
        sys.exit("error: --format canvas needs --canvas-gradebook FILE (the CSV downloaded from Canvas' gradebook)")
    if args.format == "moodle" and not args.roster:
        sys.exit("error: --format moodle needs --roster FILE (columns: student and email or idnumber)")
    ledger = ledger_path(config.root, config.assignment)
    if not ledger.exists():
        sys.exit(f"error: no ledger at {ledger}; run `python -m autograder grade-all` first")
    contents = read_ledger(ledger, config.assignment)
    for warning in contents.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    submissions, refused = _class_submissions(config)
    grades = exports.current_grades(contents.entries, grading_key(config), submissions, refused)
    for line in grades.notes:
        print(f"note: {line}", file=sys.stderr)
    if grades.missing and not args.allow_missing:
        sys.exit(f"error: {len(grades.missing)} student(s) of the class have no current grade, so this export "
                 f"would be partial; nothing written:\n{_missing_text(grades.missing)}\ngrade them "
                 f"(`python -m autograder grade-all`), or pass --allow-missing to export the "
                 f"{len(grades.scores)} graded student(s) alone")
    for student, reason in grades.missing.items():
        print(f"not exported: {student}: {reason}", file=sys.stderr)
    output = Path(args.output) if args.output else ledger.with_name(f"{config.assignment}-{args.format}.csv")
    try:
        if args.format == "csv":
            exports.write_csv(grades, output)
        elif args.format == "canvas":
            unmatched = exports.fill_canvas_gradebook(grades, Path(args.canvas_gradebook), output,
                                                      args.canvas_column or config.assignment)
            _print_unmatched(unmatched)
        else:
            unmatched = exports.write_moodle(grades, Path(args.roster), output, args.identity, config.assignment)
            _print_unmatched(unmatched)
    except exports.ExportError as exc:
        sys.exit(f"error: {exc}")
    except OSError as exc:  # OutputNotWritten: which file, why, and whether the previous export is kept
        sys.exit(f"error: {exc}")
    missing = f"; {len(grades.missing)} without a current grade, not exported (named above)" if grades.missing else ""
    print(f"wrote {output} ({len(grades.scores)} graded student(s){missing})")
    return 0


def _class_submissions(config) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """The class an export must cover, as grade-all finds it in the course root: (student → notebook sha256,
    student → why their submission cannot be graded); (None, None) without submitted/ (the ledger is the class)."""
    from autograder.submissions import NothingToGrade, find_submissions, is_course_root

    if not is_course_root(config.root):
        return None, None
    try:
        submissions, refused = find_submissions(config.root, config.assignment, _size_limit(config))
    except NothingToGrade:
        return None, None
    return {s.student: s.sha256 for s in submissions}, {r.student: r.reason for r in refused}


def _size_limit(config) -> int:
    from autograder.submissions.reading import MB

    return config.limits.notebook_size_limit_mb * MB


def _missing_text(missing: dict[str, str]) -> str:
    return "\n".join(f"  {student}: {reason}" for student, reason in missing.items())


def _print_unmatched(unmatched) -> None:
    if unmatched.in_ledger:
        print("graded but not in the file (not written): " + ", ".join(unmatched.in_ledger))
    if unmatched.in_file:
        print("in the file but not graded (left as they were): " + ", ".join(unmatched.in_file))


COMMANDS = {"grade-all": add_grade_all, "export": add_export}
