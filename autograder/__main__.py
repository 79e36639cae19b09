"""Command line: ``python -m autograder {grade,grade-all,export,gradescope,feedback,calibrate,reproduce,verify,build-source,student-kit,demo,update-catalog,similarity}``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _load_config(args):
    from autograder.config import CourseConfigError, load_config

    overrides = {"data": {"source": args.data}} if getattr(args, "data", None) else {}
    try:
        return load_config(args.config, **overrides)
    except CourseConfigError as exc:
        sys.exit(f"error: {exc}")


def cmd_grade(args) -> int:
    from autograder.grader.grading import Grader
    from autograder.report.gradescope_style import gradescope_json
    from autograder.report.text import result_text

    config = _load_config(args)
    log = (lambda msg: print(msg, file=sys.stderr)) if not args.quiet else (lambda msg: None)
    grader = Grader(config, log=log, lang=args.lang)
    try:
        result = grader.grade_notebook(args.path, include_hidden=not args.no_hidden)
    except Exception as exc:  # data or calibration unavailable: say so plainly, no traceback
        sys.exit(f"error: grading could not start: {type(exc).__name__}: {exc}")
    print(result_text(result, show_hidden=not args.no_hidden, translator=grader.translator))
    if args.json:
        Path(args.json).write_text(gradescope_json(result, grader.translator) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    if args.html:
        from autograder.report import attach_report_data, write_report

        log("  drawing the report (the reference models train once for their curves) ...")
        attach_report_data(grader, result)
        try:
            write_report(args.html, result, grader.translator, show_hidden=not args.no_hidden)
        except OSError as exc:
            sys.exit(f"error: could not write {args.html}: {exc}")
        print(f"\nwrote {args.html}")
    return 0


def cmd_feedback(args) -> int:
    from autograder.course.feedback import write_feedback_reports
    from autograder.grader.grading import Grader

    config = _load_config(args)
    grader = Grader(config, log=lambda msg: print(msg, file=sys.stderr), lang=args.lang)
    course = Path(args.course)
    written = write_feedback_reports(course, grader, grader.translator, students=args.student or None)
    if not written:
        sys.exit(f"error: no submissions found under {course / 'submitted'}/*/{config.assignment}/")
    for student, path in written.items():
        print(f"{student}: wrote {path}")
    return 0


def cmd_update_catalog(args) -> int:
    from autograder.dev.catalog import untranslated, update_all

    for path in update_all():
        print(f"wrote {path}")
    missing = untranslated("ko")
    print(f"{len(missing)} message(s) without a Korean translation" + (":" if missing else "."))
    for msgid in missing:
        print(f"  {msgid!r}")
    return 0


def cmd_calibrate(args) -> int:
    from autograder.grader.calibration import calibrate, calibration_path, calibration_summary, save_calibration
    from autograder.grader.grading import Grader

    config = _load_config(args)
    grader = Grader(config)
    print(f"calibrating on {grader.dataset.description}, protocol {config.grading.model_dump()}")
    calibration = calibrate(grader.dataset, config, grader.n_val, seeds=args.seeds, data=grader.data)
    path = save_calibration(calibration, Path(args.output) if args.output else calibration_path(config, grader.dataset, grader.n_val))
    print(calibration_summary(calibration))
    print(f"wrote {path}")
    return 0


def cmd_reproduce(args) -> int:
    from autograder.data import load_dataset
    from autograder.dev.reproduce import LECTURE_TEST_ACCURACY, reproduce

    config = _load_config(args)
    builders = tuple(f"build_{m}" for m in args.models.split(",")) if args.models else tuple(LECTURE_TEST_ACCURACY)
    unknown = [b for b in builders if b not in LECTURE_TEST_ACCURACY]
    if unknown:
        sys.exit(f"error: unknown model(s) {', '.join(b[6:] for b in unknown)}; choose from mlp, cnn, deep_cnn")
    try:
        dataset = load_dataset(config.data.source)
    except Exception as exc:
        sys.exit(f"error: {exc}")
    result = reproduce(dataset, builders, epochs=args.epochs or config.training.epochs,
                       batch_size=config.training.batch_size, seed=config.grading.seed, output=Path(args.output),
                       n_val=config.data.n_val or dataset.n_val)
    print()
    print(result.to_table())
    for m in result.models:
        print(f"{m.builder}: {m.overfitting_note}")
    print(f"\ndevice: {result.device}; curves and reproduce.json in {args.output}/")
    return 0


VERIFY_DESCRIPTION = """\
Compare each autograded submission's points in nbgrader's gradebook.db, group by group, with its
out-of-kernel grade in grade-all's ledger, grades/<assignment>.jsonl.

A submission the ledger already holds under the current grading key (course.yml, calibration, kit
version) and the same notebook (sha256) is compared straight from it: nothing is graded again. One
the ledger lacks (never graded, or changed since) is first graded the way grade-all grades it, in
parallel, and appended to the ledger.

exit status: 0 every compared submission agrees (or --write-back fixed it); 1 a discrepancy not
written back, or a submission nbgrader never autograded; 3 a submission that could not be graded
out of kernel (listed with the reason; nothing to compare with)."""


def cmd_verify(args) -> int:
    import json

    from autograder.batch.cli import EXIT_NOT_GRADED
    from autograder.batch.ledger import LedgerError, ledger_path
    from autograder.config import CourseConfigError, load_config
    from autograder.course.verify import as_dicts, verify_course

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
    assignment = args.assignment or config.assignment
    ledger = ledger_path(course, assignment)
    print(f"comparing nbgrader's points for {assignment} in {course} with the out-of-kernel grades in {ledger} "
          f"(grading first what it lacks) ...")
    try:
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
        Path(args.json).write_text(json.dumps({"discrepancies": as_dicts(verification.discrepancies),
                                               "not_autograded": verification.not_autograded,
                                               "not_graded": verification.not_graded,
                                               "from_ledger": verification.from_ledger,
                                               "graded_now": verification.graded_now}, indent=2) + "\n")
    if verification.not_graded:
        return EXIT_NOT_GRADED
    unresolved = verification.discrepancies and not args.write_back
    return 1 if unresolved or verification.not_autograded else 0


def cmd_build_source(args) -> int:
    from autograder.course.expected_values import write_expected_values
    from autograder.course.source_notebook import write_source_notebook

    config = _load_config(args)
    path = write_source_notebook(config, Path(args.output) if args.output else None)
    print(f"wrote {path}")
    # The student wing's expected values come from the same reference, so they are rebuilt with it.
    for written in write_expected_values(config, *([Path(args.expected_output)] if args.expected_output else [])):
        print(f"wrote {written}")
    return 0


def cmd_student_kit(args) -> int:
    from autograder.course.student_kit import write_student_kit

    config = _load_config(args)
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


def cmd_demo(args) -> int:
    from autograder.course.demo import run_demo

    config = _load_config(args)
    return run_demo(config, data=args.data or "sample", keep=Path(args.keep) if args.keep else None)


def main(argv: list[str] | None = None) -> int:
    from autograder.i18n import LANGUAGES

    parser = argparse.ArgumentParser(prog="python -m autograder", description="The binary MNIST course kit's grader.")
    parser.add_argument("--config", help="course.yml to use (default: $COURSE_CONFIG or the nearest course.yml)")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's own C++ log lines (by default they go to a debug log)")
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade one notebook (or the notebook in a folder)")
    grade.add_argument("path")
    grade.add_argument("--json", metavar="FILE", help="also write a Gradescope-style results file")
    grade.add_argument("--no-hidden", action="store_true", help="skip hidden checks (what students see)")
    grade.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    grade.add_argument("--quiet", action="store_true", help="no progress messages")
    grade.add_argument("--html", metavar="FILE", help="also write the HTML report (plots, layer diff) to FILE")
    grade.add_argument("--lang", choices=LANGUAGES, help="language of the messages and the report "
                       "(default: course.yml's language)")
    grade.set_defaults(func=cmd_grade)

    feedback = sub.add_parser("feedback", help="after `nbgrader generate_feedback`: write each student's HTML "
                              "report (no hidden-check details) next to nbgrader's feedback")
    feedback.add_argument("course", nargs="?", default=".", help="nbgrader course root (default: .)")
    feedback.add_argument("--student", action="append", help="only this student (repeatable)")
    feedback.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    feedback.add_argument("--lang", choices=LANGUAGES, help="report language (default: course.yml's language)")
    feedback.set_defaults(func=cmd_feedback)

    catalog = sub.add_parser("update-catalog", help="extract the student-facing messages and update the .po files")
    catalog.set_defaults(func=cmd_update_catalog)

    cal = sub.add_parser("calibrate", help="train the reference over several seeds and write the thresholds")
    cal.add_argument("--seeds", type=int, help="number of seeds (default: course.yml calibration.seeds)")
    cal.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    cal.add_argument("--output", help="file to write (default: the calibration folder, named by data and protocol)")
    cal.set_defaults(func=cmd_calibrate)

    rep = sub.add_parser("reproduce", help="train the three reference models the lecture's way (30 epochs) "
                         "and compare with the lecture's published accuracies")
    rep.add_argument("--models", help="comma-separated subset of mlp,cnn,deep_cnn (default: all three)")
    rep.add_argument("--epochs", type=int, help="epochs (default: course.yml training.epochs, the lecture's 30)")
    rep.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    rep.add_argument("--output", default="reproduce", help="folder for the curves and reproduce.json (default: reproduce/)")
    rep.set_defaults(func=cmd_reproduce)

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

    src = sub.add_parser("build-source", help="write the nbgrader source notebook and the student wing's expected values "
                         "(autograder/expected/) from autograder/grader/reference.py")
    src.add_argument("--output", help="notebook path (default: solutions/<assignment>/<assignment>.ipynb)")
    src.add_argument("--expected-output", metavar="DIR", help="folder for the expected values (default: autograder/expected/)")
    src.set_defaults(func=cmd_build_source)

    kit = sub.add_parser("student-kit", help="write what students get (release notebook, the student wing as a "
                         "package, course.yml, README) into OUT, e.g. a GitHub Classroom starter repository")
    kit.add_argument("out", help="folder to create (must be new or empty)")
    kit.set_defaults(func=cmd_student_kit)

    demo = sub.add_parser("demo", help="nbgrader round trip on the bundled example submissions, offline")
    demo.add_argument("--data", choices=("mnist", "sample"), help="data for grading (default: sample, offline)")
    demo.add_argument("--keep", metavar="DIR", help="build the course in DIR and keep it (default: a temp folder)")
    demo.set_defaults(func=cmd_demo)

    from autograder.batch.cli import add_parsers as add_class_commands

    add_class_commands(sub, _load_config)  # grade-all, export

    from autograder.gradescope.cli import add_parser as add_gradescope_command

    add_gradescope_command(sub, _load_config)

    from autograder.integrity.cli import add_parser as add_similarity_command

    add_similarity_command(sub, _load_config)

    args = parser.parse_args(argv)
    if not (args.verbose or os.environ.get("AUTOGRADER_VERBOSE")):
        from autograder.framework_log import drop_framework_log_lines

        drop_framework_log_lines()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
