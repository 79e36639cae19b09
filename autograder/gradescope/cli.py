"""``python -m autograder gradescope [--output autograder.zip]``: build the Gradescope bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def add_gradescope(sub, load_config) -> None:
    parser = sub.add_parser("gradescope", help="build the autograder zip for Gradescope's \"Configure Autograder\" page")
    parser.add_argument("--output", default="autograder.zip", help="zip to write (default: autograder.zip)")
    parser.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    parser.set_defaults(func=lambda args: build(args, load_config))


def build(args, load_config) -> int:
    from autograder.gradescope.bundle import BundleError, build_bundle, mnist_path_from_environment

    config = load_config(args)
    try:
        bundle = build_bundle(config, Path(args.output), mnist_path_from_environment())
    except (BundleError, OSError) as exc:
        sys.exit(f"error: could not build the Gradescope bundle: {exc}")
    size_mb = bundle.path.stat().st_size / 1e6
    print(f"wrote {bundle.path} ({size_mb:.1f} MB, {len(bundle.members)} files; course {config.source_path}, "
          f"data {config.data.source}; MNIST: {bundle.mnist}"
          + (f", sha256 {bundle.mnist_sha256}" if bundle.mnist_sha256 else "") + ")")
    print("upload it on Gradescope: the assignment's Configure Autograder page, Zip file upload (README, \"Gradescope\")")
    return 0


COMMANDS = {"gradescope": add_gradescope}
