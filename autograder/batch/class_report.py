"""``grade-all --class-report class.html``: one self-contained page, in the course's language, that an instructor
reads before the next lecture: the score distribution, each group's failure rate, the most common failures
(grouped by check and cause, with counts and one example message each), and what was not graded, and why.

Made from the ledger alone (each student's current line with its grade's record, rendered in the report's
language when it is written), so it never needs TensorFlow; the histogram is inline SVG.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import jinja2

from autograder.batch.ledger import UnreadableResult, recorded_checks
from autograder.messages.i18n import ENGLISH, Translator
from autograder.support.atomic_files import write_atomically

TEMPLATES = Path(__file__).resolve().parent / "templates"
MOST_COMMON = 15


def failure_cause(output: str) -> str:
    """A failure message without what varies from input to input (numbers, the call's arguments): one cause."""
    first = output.strip().splitlines()[0] if output.strip() else ""
    return re.sub(r"\s+", " ", re.sub(r"\d[\d,.]*", "#", re.sub(r"\([^()]*\)", "(…)", first)))


def histogram(totals: list[float], max_score: float) -> list[dict]:
    """Students per whole-point score (0..max), as bars: label, count, share of the tallest bar."""
    top = int(max_score)
    counts = Counter(min(int(t), top) for t in totals)
    tallest = max(counts.values(), default=1)
    return [{"label": str(s), "count": counts.get(s, 0), "height": counts.get(s, 0) / tallest} for s in range(top + 1)]


def failures_only(entry: dict, translator: Translator = ENGLISH) -> dict:
    """What the class report needs of a ledger line: its scores, and of each failed check its group, check and
    message, rendered in ``translator``'s language from the line's record (``ledger.recorded_checks``). The texts
    are interned, so that a message many students share is held once: 1,000 students failing every check with
    the same messages cost 64 MB held as read, 17 MB this way. A line whose result cannot be read lists none."""
    try:
        checks = recorded_checks(entry)
    except UnreadableResult:
        checks = []
    failures = [{"group": sys.intern(c.group), "check": sys.intern(c.check),
                 "output": sys.intern(c.message_text(translator))} for c in checks if not c.passed]
    return {**{k: v for k, v in entry.items() if k != "result"}, "failures": failures}


def common_failures(graded: list[dict], translator: Translator = ENGLISH) -> list[dict]:
    """Failures grouped by check and cause, most students first, each with one example message, in
    ``translator``'s language; ``graded``: ledger lines, whole or as ``failures_only`` keeps them."""
    students: dict[tuple[str, str, str], set[str]] = {}
    examples: dict[tuple[str, str, str], str] = {}
    for entry in graded:
        for failure in entry["failures"] if "failures" in entry else failures_only(entry, translator)["failures"]:
            key = (failure["group"], failure["check"], failure_cause(failure["output"]))
            students.setdefault(key, set()).add(entry["student"])
            examples.setdefault(key, failure["output"])
    ranked = sorted(students, key=lambda k: (-len(students[k]), k))[:MOST_COMMON]
    return [{"group": k[0], "check": k[1], "count": len(students[k]), "example": examples[k],
             "students": sorted(students[k])} for k in ranked]


def class_report_context(assignment: str, graded: list[dict], not_graded: list[dict], translator: Translator,
                         regrade=None, regrade_csv: str = "", similarity: dict | None = None) -> dict:
    """What the template shows; ``regrade`` (a ``regrade_diff.RegradeDiff``, None when this run regraded no one
    under a new grading key) adds the section of what the regrade changed, ``regrade_csv`` naming its CSV.
    ``similarity`` (``integrity.similarity_page.class_report_section``) adds the similarity section."""
    max_score = graded[0]["max_score"] if graded else 0.0
    groups = list(graded[0]["groups"]) if graded else []
    rates = [{"name": g, "failed": sum(e["groups"][g]["score"] < e["groups"][g]["max_score"] for e in graded),
              "mean": sum(e["groups"][g]["score"] for e in graded) / len(graded),
              "max_score": graded[0]["groups"][g]["max_score"]} for g in groups]
    totals = [e["score"] for e in graded]
    return {"lang": translator.lang, "_": translator, "assignment": assignment, "n_graded": len(graded),
            "max_score": max_score, "mean": sum(totals) / len(totals) if totals else 0.0,
            "histogram": histogram(totals, max_score) if graded else [], "groups": rates,
            "failures": common_failures(graded, translator), "not_graded": not_graded, "regrade": regrade,
            "regrade_csv": regrade_csv, "similarity": similarity}


def write_class_report(path: Path, assignment: str, graded: list[dict], not_graded: list[dict],
                       translator: Translator, regrade=None, regrade_csv: str = "", similarity: dict | None = None) -> Path:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True)
    env.filters["score"] = lambda v: f"{v:g}" if v == int(v) else f"{v:.2f}"
    context = class_report_context(assignment, graded, not_graded, translator, regrade=regrade, regrade_csv=regrade_csv,
                                   similarity=similarity)
    html = env.get_template("class_report.html.j2").render(**context)
    return write_atomically(path, html)
