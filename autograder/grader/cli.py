"""``python -m autograder grade`` and ``calibrate``: grading one notebook, and calibrating the thresholds.

Each area's ``cli`` module registers its own sub-commands (``COMMANDS``: name → the function that adds its
parser); ``autograder.__main__`` only assembles them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.messages.i18n import LANGUAGES


def add_grade(sub, load_config) -> None:
    grade = sub.add_parser("grade", help="grade one notebook (or the notebook in a folder)")
    grade.add_argument("path")
    grade.add_argument("--json", metavar="FILE", help="also write a Gradescope-style results file")
    grade.add_argument("--no-hidden", action="store_true", help="skip hidden checks (what students see)")
    grade.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    grade.add_argument("--quiet", action="store_true", help="no progress messages")
    grade.add_argument("--html", metavar="FILE", help="also write the HTML report (plots, layer diff) to FILE")
    grade.add_argument("--lang", choices=LANGUAGES, help="language of the messages and the report "
                       "(default: course.yml's language)")
    grade.add_argument("--no-training-cache", action="store_true", help="train every model anew, even where the "
                       "class's training cache (grades/<assignment>.training-cache/, made by grade-all or "
                       "warm-training-cache) holds its training")
    grade.set_defaults(func=lambda args: cmd_grade(args, load_config(args)))


def add_calibrate(sub, load_config) -> None:
    cal = sub.add_parser("calibrate", help="train the reference over several seeds and write the thresholds")
    cal.add_argument("--seeds", type=int, help="number of seeds (default: course.yml calibration.seeds)")
    cal.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    cal.add_argument("--output", help="file to write (default: the calibration folder, named by data and protocol)")
    cal.set_defaults(func=lambda args: cmd_calibrate(args, load_config(args)))


def cmd_grade(args, config) -> int:
    from autograder.grader.grading import Grader
    from autograder.report.gradescope_style import gradescope_json
    from autograder.report.text import result_text

    from autograder.isolation.infrastructure_fault import EXIT_RUN_AGAIN, InfrastructureFault
    from autograder.isolation.jail import require_sandbox

    require_sandbox(config.limits)
    log = (lambda msg: print(msg, file=sys.stderr)) if not args.quiet else (lambda msg: None)
    grader = Grader(config, log=log, lang=args.lang)
    if not args.no_training_cache:
        from autograder.grader.training_cache import cache_folder

        # The class's cache where grade-all or warm-training-cache made one (grade never makes the folder).
        folder = cache_folder(config.root, config.assignment)
        if folder.is_dir():
            grader.training_cache_dir = folder.resolve()
    try:
        result = grader.grade_notebook(args.path, include_hidden=not args.no_hidden)
    except InfrastructureFault as exc:  # the machine's fault, not the notebook's: no score at all
        print(f"not graded: {exc}; this says nothing about the notebook: run the same command again",
              file=sys.stderr)
        return EXIT_RUN_AGAIN
    except Exception as exc:  # data or calibration unavailable: say so plainly, no traceback
        sys.exit(f"error: grading could not start: {type(exc).__name__}: {exc}")
    print(result_text(result, show_hidden=not args.no_hidden, translator=grader.translator))
    if args.json:
        from autograder.support.atomic_files import write_atomically

        try:
            write_atomically(args.json, gradescope_json(result, grader.translator) + "\n")
        except OSError as exc:  # which file, why, and whether an earlier one is kept
            sys.exit(f"error: {exc}")
        print(f"\nwrote {args.json}")
    if args.html:
        from autograder.report import attach_report_data, write_report

        log("  drawing the report (the reference models train once for their curves) ...")
        attach_report_data(grader, result)
        try:
            write_report(args.html, result, grader.translator, show_hidden=not args.no_hidden)
        except OSError as exc:  # OutputNotWritten: which file, why, and whether an earlier one is kept
            sys.exit(f"error: {exc}")
        print(f"\nwrote {args.html}")
    return 0


def cmd_calibrate(args, config) -> int:
    from autograder.grader.calibration import calibrate, calibration_path, calibration_summary, save_calibration
    from autograder.grader.grading import Grader

    grader = Grader(config)
    print(f"calibrating on {grader.dataset.description}, protocol {config.grading.model_dump()}")
    calibration = calibrate(grader.dataset, config, grader.n_val, seeds=args.seeds, data=grader.data)
    path = save_calibration(calibration, Path(args.output) if args.output else calibration_path(config, grader.dataset, grader.n_val))
    print(calibration_summary(calibration))
    print(f"wrote {path}")
    return 0


COMMANDS = {"grade": add_grade, "calibrate": add_calibrate}
