"""The similarity report as a self-contained HTML page (in the course's language) and a CSV beside it.

Nothing leaves the machine: the page has no external script, style or font, and every piece of student code
in it is escaped (copydetect's highlighter escapes it; ``<mark>`` is the only markup added).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import jinja2
from markupsafe import Markup

from autograder.messages.i18n import Translator
from autograder.support.atomic_files import write_atomically
from autograder.integrity.similarity import FULL_FRAGMENT, SimilarityReport, side_by_side

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Pairs drawn side by side on the page (flagged ones first); the CSV holds every pair.
MOST_SHOWN = 50
CSV_COLUMNS = ("rank", "student_a", "student_b", "score", "similarity", "longest_fragment", "share_of_a", "share_of_b",
               "shared_characters", "flagged", "exact_duplicate")


def page_context(report: SimilarityReport, translator: Translator, csv_name: str = "") -> dict:
    duplicated = report.duplicated_pairs
    shown = []
    for pair in report.flagged[:MOST_SHOWN]:
        left, right = side_by_side(report.code_of(pair.first), report.code_of(pair.second))
        shown.append({"pair": pair, "left": Markup(left), "right": Markup(right),
                      "duplicate": frozenset(pair.students) in duplicated})
    return {"lang": translator.lang, "_": translator, "report": report, "shown": shown, "csv_name": csv_name,
            "full_fragment": FULL_FRAGMENT,
            "near": [p for p in report.pairs if p.score < report.threshold][:10]}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True)
    env.filters["percent"] = lambda v: f"{100 * v:.0f}%"
    return env


def write_similarity_page(path: Path, report: SimilarityReport, translator: Translator, csv_name: str = "") -> Path:
    html = _environment().get_template("similarity.html.j2").render(**page_context(report, translator, csv_name))
    return write_atomically(path, html)


def write_similarity_csv(path: Path, report: SimilarityReport) -> Path:
    """Every pair, highest score first (exact duplicates marked), one row each."""
    duplicated = report.duplicated_pairs
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for rank, p in enumerate(report.pairs, start=1):
        writer.writerow([rank, p.first, p.second, f"{p.score:.4f}", f"{p.similarity:.4f}", p.longest_fragment,
                         f"{p.share_of_first:.4f}",
                         f"{p.share_of_second:.4f}", p.shared_characters, int(p.score >= report.threshold),
                         int(frozenset(p.students) in duplicated)])
    return write_atomically(path, text.getvalue())


def write_similarity(html_path: Path, report: SimilarityReport, translator: Translator) -> tuple[Path, Path]:
    """The page and its CSV (same name, ``.csv``)."""
    html_path = Path(html_path)
    csv_path = write_similarity_csv(html_path.with_suffix(".csv"), report)
    return write_similarity_page(html_path, report, translator, csv_path.name), csv_path


def class_report_section(report: SimilarityReport, page: Path, top: int = 10) -> dict:
    """What the class report shows of it: the exact duplicates, the top flagged pairs, and where the page is."""
    return {"enough_students": report.enough_students, "n_students": len(report.students),
            "threshold": report.threshold, "n_flagged": len(report.flagged),
            "duplicates": [list(g.students) for g in report.duplicates],
            "top": [{"a": p.first, "b": p.second, "score": p.score} for p in report.flagged[:top]],
            "unreadable": [{"student": r.student, "reason": r.reason} for r in report.unreadable],
            "page": str(page)}
