"""The maintainer's sub-commands: ``update-catalog`` and ``reproduce``.

Registered by ``autograder.__main__`` from ``COMMANDS``, as every area's ``cli`` module is.
"""

from __future__ import annotations

import sys
from pathlib import Path


def add_update_catalog(sub, load_config) -> None:
    catalog = sub.add_parser("update-catalog", help="extract the student-facing messages and update the .po files")
    catalog.set_defaults(func=cmd_update_catalog)


def add_reproduce(sub, load_config) -> None:
    rep = sub.add_parser("reproduce", help="train the three reference models the lecture's way (30 epochs) "
                         "and compare with the lecture's published accuracies")
    rep.add_argument("--models", help="comma-separated subset of mlp,cnn,deep_cnn (default: all three)")
    rep.add_argument("--epochs", type=int, help="epochs (default: course.yml training.epochs, the lecture's 30)")
    rep.add_argument("--data", choices=("mnist", "sample"), help="override course.yml's data.source")
    rep.add_argument("--output", default="reproduce", help="folder for the curves and reproduce.json (default: reproduce/)")
    rep.set_defaults(func=lambda args: cmd_reproduce(args, load_config(args)))


def cmd_update_catalog(args) -> int:
    from autograder.dev.catalog import untranslated, update_all

    for path in update_all():
        print(f"wrote {path}")
    missing = untranslated("ko")
    print(f"{len(missing)} message(s) without a Korean translation" + (":" if missing else "."))
    for msgid in missing:
        print(f"  {msgid!r}")
    return 0


def cmd_reproduce(args, config) -> int:
    from autograder.support.mnist import load_dataset
    from autograder.dev.reproduce import LECTURE_TEST_ACCURACY, reproduce

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


COMMANDS = {"update-catalog": add_update_catalog, "reproduce": add_reproduce}
