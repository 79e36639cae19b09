"""``python -m autograder similarity [COURSE]``: the class similarity page and its CSV. Instructor-facing, in English.

Exit codes: 0 the page was written (whatever it found), 1 it could not start (no notebooks, no release notebook,
an unwritable output).
"""

from __future__ import annotations

import sys
from pathlib import Path


def add_similarity(sub, load_config) -> None:
    similarity = sub.add_parser("similarity", help="compare every pair of students' own code (copydetect, on this "
                                "machine) and write an HTML page ranking the pairs, with a CSV beside it")
    similarity.add_argument("path", nargs="?", help="the course root (nbgrader's submitted/<student>/<assignment>/) or "
                            "a folder of notebooks, one per student (default: course.yml's folder)")
    similarity.add_argument("--output", metavar="FILE", help="the page to write (default: "
                            "grades/<assignment>-similarity.html in the course root; the CSV goes beside it)")
    similarity.add_argument("--lang", choices=("en", "ko"), help="language of the page (default: course.yml's language)")
    similarity.set_defaults(func=lambda args: cmd_similarity(args, load_config(args)))


def cmd_similarity(args, config) -> int:
    from autograder.messages.i18n import Translator
    from autograder.integrity.similarity import SimilarityError, class_similarity
    from autograder.integrity.similarity_page import write_similarity

    path = Path(args.path) if args.path else config.root
    try:
        report = class_similarity(path, config)
    except SimilarityError as exc:
        sys.exit(f"error: {exc}")
    output = Path(args.output) if args.output else config.root / "grades" / f"{config.assignment}-similarity.html"
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        page, table = write_similarity(output, report, Translator(args.lang or config.language))
    except OSError as exc:  # OutputNotWritten: which file, why, and whether the previous one is kept
        sys.exit(f"error: {exc}")
    print(similarity_summary(report))
    print(f"wrote {page}\nwrote {table}")
    return 0


def similarity_summary(report) -> str:
    lines = [f"{len(report.students)} notebook(s) compared, {len(report.pairs)} pair(s); "
             f"{len(report.flagged)} at or above {report.threshold:.0%}, {len(report.duplicates)} exact duplicate group(s)"]
    if not report.enough_students:
        lines.append("fewer than two readable notebooks: no pair to compare")
    lines += [f"  duplicate: {', '.join(g.students)} ({'same file' if g.same_file else 'same normalised code'})"
              for g in report.duplicates]
    lines += [f"  {p.score:.0%}  {p.first} · {p.second}" for p in report.flagged[:10]]
    lines += [f"  not compared: {r.student}: {r.reason}" for r in report.unreadable]
    return "\n".join(lines)


COMMANDS = {"similarity": add_similarity}
