"""A graded result as a Gradescope-style dict (or its JSON text): totals, then one entry per check.

What ``grade --json`` writes, what the class ledger keeps of each submission (``grade-all``), and what a
Gradescope upload's child hands back; ``autograder.gradescope.results_json.from_graded`` turns it into
Gradescope's own results.json.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from autograder.messages.i18n import ENGLISH, Translator, render
from autograder.report.protections import protections_text

if TYPE_CHECKING:
    from autograder.engine.results import GradeResult


def gradescope_results(result: GradeResult, translator: Translator = ENGLISH) -> dict:
    """Gradescope's results.json layout: totals plus one entry per check, text in the translator's language.

    ``extra_data.isolation`` is the protections record as it is (``GradeResult.isolation``); ``output``
    says it in words.
    """
    t = translator
    tests = []
    for g in result.groups:
        for c in g.checks:
            output = c.message_text(t) if not c.passed else f"passed: {c.rule_text(t)}"
            tests.append({"name": f"{g.name}: {c.name}", "group": g.name, "score": round(g.check_score(c), 4),
                          "max_score": round(g.check_max_score(c), 4),
                          "status": "passed" if c.passed else "failed", "output": output,
                          "visibility": "hidden" if c.hidden else "visible"})
    output = [render(text, t) for text in result.problems + result.notes]
    if result.isolation:
        output.append(protections_text(result.isolation, t))
    return {"score": round(result.score, 4), "max_score": round(result.max_score, 4),
            "execution_time": round(result.execution_time, 2), "output": "\n".join(output),
            "tests": tests,
            "extra_data": {"timings": {k: round(v, 3) for k, v in result.timings.items()},
                           "accuracies": {b: o.accuracy for b, o in result.trainings.items()},
                           "isolation": result.isolation}}


def gradescope_json(result: GradeResult, translator: Translator = ENGLISH) -> str:
    """``gradescope_results`` as the JSON text ``grade --json`` writes."""
    return json.dumps(gradescope_results(result, translator), indent=2, ensure_ascii=False)
