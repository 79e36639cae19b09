"""The nbgrader course's sub-commands: ``feedback``, ``verify``, ``build-source``, ``student-kit``, ``demo`` and
``warm-training-cache``.

Registered by ``autograder.__main__`` from ``COMMANDS``, as every area's ``cli`` module is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.messages.i18n import LANGUAGES

VERIFY_DESCRIPTION = """\
Compare each autograded submission's points in nbgrader's gradebook.db, group by group, with its
out-of-kernel grade in grade-all's ledger, grades/<assignment>.jsonl.

A submission the ledger already holds under the current grading key (course.yml, calibration, checks, kit
version) and the same notebook (sha256) is compared straight from it: nothing is graded again. One
the ledger lacks (never graded, or changed since) is first graded the way grade-all grades it, in
parallel, and appended to the ledger.

exit status: 0 every compared submission agrees (or --write-back fixed it); 1 a discrepancy not
written back, or a submission nbgrader never autograded; 3 a submission that could not be graded
out of kernel (listed with the reason; nothing to compare with)."""


def add_feedback(sub, load_config) -> None:
    feedback = sub.add_parser("feedback", help="after `nbgrader generate_feedback`: write each student's HTML "
                              "report (no hidden-check details) next to nbgrader's feedback")
    feedback.add_argument("course", nargs="?", default=".", help="nbgrader course root (default: .)")
    feedback.add_argument("--student", action="append", help="only this student (repeatable)")
    feedback.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    feedback.add_argument("--lang", choices=LANGUAGES, help="report language (default: course.yml's language)")
    feedback.set_defaults(func=lambda args: cmd_feedback(args, load_config(args)))


def add_verify(sub, load_config) -> None:
    ver = sub.add_parser(
        "verify", formatter_class=argparse.RawDescriptionHelpFormatter,
        help="compare nbgrader's autograded points with the out-of-kernel grades of the grade-all ledger, group by "
             "group (grading first what the ledger lacks)",
        description=VERIFY_DESCRIPTION)
    ver.add_argument("course", nargs="?", default=".", help="the nbgrader course folder (default: here)")
    ver.add_argument("--assignment", help="assignment id (default: course.yml assignment)")
    ver.add_argument("--notebook", help="notebook name without .ipynb (default: the assignment id)")
    ver.add_argument("--write-back", action="store_true", help="store the verified points as nbgrader manual scores")
    ver.add_argument("--json", metavar="FILE", help="also write the discrepancies (and who was not compared) as JSON")
    ver.add_argument("--student", action="append", help="verify only this student (repeatable)")
    ver.add_argument("--workers", type=int, help="local worker processes for what the ledger lacks (default: as for "
                     "grade-all)")
    ver.add_argument("--quiet", action="store_true", help="no progress bar while grading what the ledger lacks")
    ver.set_defaults(func=cmd_verify)


def add_build_source(sub, load_config) -> None:
    src = sub.add_parser("build-source", help="write the nbgrader source notebook and the student wing's expected values "
                         "(autograder/expected/) from autograder/grader/reference.py")
    src.add_argument("--output", help="notebook path (default: solutions/<assignment>/<assignment>.ipynb)")
    src.add_argument("--expected-output", metavar="DIR", help="folder for the expected values (default: autograder/expected/)")
    src.set_defaults(func=lambda args: cmd_build_source(args, load_config(args)))


def add_student_kit(sub, load_config) -> None:
    kit = sub.add_parser("student-kit", help="write what students get (release notebook, the student wing as a "
                         "package, course.yml, README) into OUT, e.g. a GitHub Classroom starter repository")
    kit.add_argument("out", help="folder to create (must be new or empty)")
    kit.set_defaults(func=lambda args: cmd_student_kit(args, load_config(args)))


def add_warm(sub, load_config) -> None:
    warm = sub.add_parser("warm-training-cache", help="train the lecture's three models once, in this trusted "
                          "process, into the class's training cache (read by grade, grade-all and, read-only, by "
                          "nbgrader's sandboxed kernels): run it before nbgrader autograde")
    warm.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    warm.set_defaults(func=lambda args: cmd_warm(args, load_config(args)))


def add_demo(sub, load_config) -> None:
    demo = sub.add_parser("demo", help="nbgrader round trip on the bundled example submissions, offline")
    demo.add_argument("--data", choices=("mnist", "sample"), help="data for grading (default: sample, offline)")
    demo.add_argument("--keep", metavar="DIR", help="build the course in DIR and keep it (default: a temp folder)")
    demo.set_defaults(func=lambda args: cmd_demo(args, load_config(args)))


def cmd_feedback(args, config) -> int:
    from autograder.course.feedback import write_feedback_reports
    from autograder.grader.grading import Grader
    from autograder.isolation.infrastructure_fault import EXIT_RUN_AGAIN
    from autograder.isolation.jail import require_sandbox

    require_sandbox(config.limits)
    grader = Grader(config, log=lambda msg: print(msg, file=sys.stderr), lang=args.lang)
    course = Path(args.course)
    not_graded: dict[str, str] = {}
    written = write_feedback_reports(course, grader, grader.translator, students=args.student or None,
                                     not_graded=not_graded)
    if not written and not not_graded:
        sys.exit(f"error: no submissions found under {course / 'submitted'}/*/{config.assignment}/")
    for student, path in written.items():
        print(f"{student}: wrote {path}")
    for student, reason in not_graded.items():
        print(f"{student}: not graded, no report written: {reason}; run the same command again "
              f"(--student {student})", file=sys.stderr)
    return EXIT_RUN_AGAIN if not_graded else 0


def cmd_verify(args) -> int:
    import json

    from autograder.batch.cli import EXIT_NOT_GRADED, hold_the_course
    from autograder.batch.ledger import LedgerError, ledger_path
    from autograder.support.config import CourseConfigError, load_config
    from autograder.course.verify import as_dicts, verify_course

    from autograder.isolation.jail import require_sandbox

    course = Path(args.course).resolve()
    config_path = args.config or (course / "course.yml" if (course / "course.yml").is_file() else None)
    try:
        config = load_config(config_path)
    except CourseConfigError as exc:
        sys.exit(f"error: {exc}")
    if not (course / "gradebook.db").is_file():
        sys.exit(f"error: {course} has no gradebook.db; run it in the nbgrader course folder after `nbgrader autograde`")
    if args.workers is not None and args.workers < 1:
        sys.exit("error: --workers must be at least 1")
    require_sandbox(config.limits)  # verify grades what the ledger lacks: fail closed before any of it
    assignment = args.assignment or config.assignment
    ledger = ledger_path(course, assignment)
    print(f"comparing nbgrader's points for {assignment} in {course} with the out-of-kernel grades in {ledger} "
          f"(grading first what it lacks) ...")
    try:
        with hold_the_course(ledger):  # verify appends what it grades to the ledger: one writer at a time
            verification = verify_course(course, config, assignment, args.notebook or assignment,
                                         write_back=args.write_back, students=args.student, workers=args.workers,
                                         show_progress=not args.quiet)
    except LedgerError as exc:
        sys.exit(f"error: {exc}; nothing already in the ledger was changed")
    except KeyboardInterrupt:
        sys.exit(f"interrupted: what was graded is in {ledger}; run the same command again to resume")
    print()
    print(verification.text())
    if args.write_back and verification.discrepancies:
        print("wrote the verified points into the gradebook as manual scores")
    if args.json:
        from autograder.support.atomic_files import write_atomically

        try:
            write_atomically(args.json, json.dumps({"discrepancies": as_dicts(verification.discrepancies),
                                                    "not_autograded": verification.not_autograded,
                                                    "not_graded": verification.not_graded,
                                                    "from_ledger": verification.from_ledger,
                                                    "graded_now": verification.graded_now}, indent=2) + "\n")
        except OSError as exc:  # the verification was printed above; only its JSON copy is lost
            sys.exit(f"error: {exc}")
    if verification.not_graded:
        return EXIT_NOT_GRADED
    unresolved = verification.discrepancies and not args.write_back
    return 1 if unresolved or verification.not_autograded else 0


def cmd_build_source(args, config) -> int:
    from autograder.course.expected_values import write_expected_values
    from autograder.course.source_notebook import write_source_notebook

    path = write_source_notebook(config, Path(args.output) if args.output else None)
    print(f"wrote {path}")
    # The student wing's expected values come from the same reference, so they are rebuilt with it.
    for written in write_expected_values(config, *([Path(args.expected_output)] if args.expected_output else [])):
        print(f"wrote {written}")
    return 0


def cmd_student_kit(args, config) -> int:
    from autograder.course.student_kit import write_student_kit

    try:
        written = write_student_kit(config, Path(args.out))
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        sys.exit(f"error: {exc}")
    print(f"wrote {len(written)} files into {args.out}: the release notebook, the student wing (autograder/), "
          "pyproject.toml, course.yml and README.md")
    if config.student_kit.colab_install:
        print(f"the notebook's first cell installs the kit in Colab from {config.student_kit.colab_install}: "
              "publish the kit there")
    else:
        print("no Colab install cell: set student_kit.colab_install in course.yml to where you publish the kit")
    return 0


def cmd_warm(args, config) -> int:
    import os

    from autograder.course.lecture_trainings import train_the_lecture_models

    # TensorFlow's threads as a jailed process has them (``isolation.jail.child_environment``): one training, one
    # outcome, wherever it runs. Set before TensorFlow is imported.
    threads = str(config.limits.cpu_threads)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                 "TF_NUM_INTEROP_THREADS"):
        os.environ[name] = threads
    done = train_the_lecture_models(config, log=lambda message: print(message, file=sys.stderr))
    for builder, what in done.items():
        print(f"{builder}: {what}")
    return 0 if all(not what.startswith("not filed") for what in done.values()) else 1


def cmd_demo(args, config) -> int:
    from autograder.course.demo import run_demo

    return run_demo(config, data=args.data or "sample", keep=Path(args.keep) if args.keep else None)


COMMANDS = {"feedback": add_feedback, "verify": add_verify, "build-source": add_build_source,
            "student-kit": add_student_kit, "demo": add_demo, "warm-training-cache": add_warm}
