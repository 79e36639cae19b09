"""The HTML feedback report: one self-contained file with the score, the failures, a layer-by-layer
diff per model, training curves beside the reference's, a prediction grid and the accuracies.

Rendered with Jinja2 (autoescaping on); every picture is an embedded PNG. Rendered for students
(``show_hidden=False``) it shows nothing of hidden checks but their effect on the group score.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.checks.architecture import first_difference

from autograder.evidence.layer_rows import LayerRow
from autograder.messages.i18n import Translator, _, render
from autograder.report.plots import (accuracy_comparison, misclassified_strip, prediction_grid, training_curves)
from autograder.report.report_data import MISCLASSIFIED_DIGITS
from autograder.report.protections import protections_text
from autograder.report.text import failure_blocks
from autograder.engine.results import GradeResult, ReportData
from autograder.evidence.training_outcome import BUILDERS
from autograder.support.atomic_files import write_atomically

TITLES = {"build_mlp": _("MLP"), "build_cnn": _("CNN"), "build_deep_cnn": _("Deep CNN with Dropout")}
_COLUMNS = ("type", "output_shape", "params", "settings")


@dataclass
class LayerDiffRow:
    """One line of the layer table: the expected and the student's layer, and which columns differ."""

    index: int
    expected: tuple[str, ...]
    actual: tuple[str, ...]
    differs: tuple[bool, ...]
    first: bool


def layer_diff(expected: list[LayerRow], actual: list[LayerRow]) -> tuple[list[LayerDiffRow], int | None]:
    """The rows of the expected-vs-student layer table and the index of the first difference."""
    first = first_difference(expected, actual)
    rows = []
    for i in range(max(len(expected), len(actual))):
        e = expected[i].cells() if i < len(expected) else ("—",) * 4
        a = actual[i].cells() if i < len(actual) else ("—",) * 4
        rows.append(LayerDiffRow(i, e, a, tuple(x != y for x, y in zip(e, a)), i == first))
    return rows, first


def report_context(result: GradeResult, translator: Translator, show_hidden: bool = False) -> dict:
    """Everything the template shows, as plain values (text already in the reader's language).

    Reads the result alone: ``result.report_data`` must be attached (``report.report_data.attach_report_data``).
    """
    t = translator
    data = result.report_data
    if data is None:
        raise ValueError(f"the result of {result.submission} carries no report data: attach it with "
                         "autograder.report.report_data.attach_report_data(grader, result) before rendering the report")
    groups = []
    for g in result.groups:
        visible = [c for c in g.checks if show_hidden or not c.hidden]
        groups.append({"name": g.name, "score": g.score, "max_score": g.max_score, "passed": g.passed,
                       "n_passed": sum(c.passed for c in visible), "n_checks": len(visible)})
    # One block per check and cause (see report.text.failure_blocks), as in the text output.
    failures = [{"group": b.group.name, "names": b.names(t), "rule": b.rule, "inputs": b.inputs(t),
                 "also": b.also_names(t) if b.also else "", "message": b.message}
                for b in failure_blocks(result, show_hidden, t)]
    models = []
    for builder in BUILDERS:
        rows, first = layer_diff(data.expected_layers[builder], result.layers.get(builder, []))
        student, reference = result.trainings.get(builder), data.references[builder]
        models.append({
            "builder": builder, "title": t(TITLES[builder]), "returned": builder in result.layers,
            "rows": rows, "first": first,
            "accuracy": student.accuracy if student and not student.error else None,
            "reference_accuracy": reference.accuracy, "threshold": data.thresholds[builder],
            "curves": training_curves(student, reference, t(TITLES[builder]), t),
        })
    return {"lang": t.lang, "_": t, "submission": result.submission, "score": result.score,
            "max_score": result.max_score, "groups": groups, "failures": failures,
            "problems": [render(p, t) for p in result.problems], "notes": [render(n, t) for n in result.notes],
            "protections": protections_text(result.isolation, t).splitlines() if result.isolation else [],
            "models": models, **_predictions(data, t),
            "accuracies": accuracy_comparison(list(BUILDERS), {b: t(TITLES[b]) for b in BUILDERS},
                                              {m["builder"]: m["accuracy"] for m in models},
                                              {m["builder"]: m["reference_accuracy"] for m in models}, t)}


def _predictions(data: ReportData, t: Translator) -> dict:
    if data.best_model is None or data.grid is None or data.misclassified is None:
        return {"best": None, "grid": None, "misclassified": None}
    grid, wrong = data.grid, data.misclassified
    return {"best": t(TITLES[data.best_model]),
            "grid": prediction_grid(grid.images, grid.labels, grid.probabilities, t),
            "misclassified": misclassified_strip(wrong.images, wrong.labels, wrong.probabilities, t,
                                                 count=MISCLASSIFIED_DIGITS)}


def render_report(result: GradeResult, translator: Translator, show_hidden: bool = False) -> str:
    """The report of ``result`` as one HTML document; the result carries its report data
    (``report.report_data.attach_report_data``), so no grader is needed."""
    return _environment().get_template("report.html.j2").render(**report_context(result, translator, show_hidden))


def write_report(path: Path | str, result: GradeResult, translator: Translator, show_hidden: bool = False) -> Path:
    """Write the report to ``path`` (UTF-8) and return the path."""
    return write_atomically(path, render_report(result, translator, show_hidden=show_hidden))


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("autograder.report", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["score"] = lambda x: f"{x:g}" if float(x).is_integer() else f"{x:.2f}"
    env.filters["accuracy"] = lambda x: "—" if x is None or not np.isfinite(x) else f"{x:.4f}"
    return env
