"""Command line: ``python -m autograder {grade,grade-all,export,gradescope,feedback,calibrate,reproduce,verify,build-source,student-kit,demo,update-catalog,similarity}``.

Each area registers its own sub-commands in its ``cli`` module: ``COMMANDS`` maps a sub-command's name to
the function that adds its parser, ``add(sub, load_config)``. This module only assembles them, with the
global options and the course.yml loader they share.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The order `python -m autograder --help` lists the sub-commands in; one not named here comes after these.
HELP_ORDER = ("grade", "feedback", "update-catalog", "calibrate", "reproduce", "verify", "build-source",
              "student-kit", "demo", "grade-all", "export", "gradescope", "similarity")


def _load_config(args):
    from autograder.support.config import CourseConfigError, load_config

    overrides = {"data": {"source": args.data}} if getattr(args, "data", None) else {}
    try:
        return load_config(args.config, **overrides)
    except CourseConfigError as exc:
        sys.exit(f"error: {exc}")


def commands() -> dict:
    """Every sub-command, from each area's ``cli`` module: name → the function that adds its parser."""
    from autograder.batch import cli as batch
    from autograder.course import cli as course
    from autograder.dev import cli as dev
    from autograder.grader import cli as grader
    from autograder.gradescope import cli as gradescope
    from autograder.integrity import cli as integrity

    found: dict = {}
    for area in (grader, course, dev, batch, gradescope, integrity):
        twice = set(found) & set(area.COMMANDS)
        assert not twice, f"{area.__name__} registers {sorted(twice)} again"
        found.update(area.COMMANDS)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description="The binary MNIST course kit's grader.")
    parser.add_argument("--config", help="course.yml to use (default: $COURSE_CONFIG or the nearest course.yml)")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's own C++ log lines (by default they go to a debug log)")
    sub = parser.add_subparsers(dest="command", required=True)
    adders = commands()
    for name in sorted(adders, key=lambda n: HELP_ORDER.index(n) if n in HELP_ORDER else len(HELP_ORDER)):
        adders[name](sub, _load_config)

    args = parser.parse_args(argv)
    if not (args.verbose or os.environ.get("AUTOGRADER_VERBOSE")):
        from autograder.messages.framework_log import drop_framework_log_lines

        drop_framework_log_lines()
    from autograder.isolation.bubblewrap import SandboxUnavailable

    try:
        return args.func(args)
    except SandboxUnavailable as exc:  # fail closed: no student code runs without its sandbox
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    sys.exit(main())
