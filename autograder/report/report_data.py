"""What the report needs from the grader, attached to the result once, so that the report renders a
result alone: ``attach_report_data(grader, result)``, then ``write_report(path, result, translator)``.

The grader knows the reference models' runs, the calibrated thresholds and the grading test set; the
result carries a small copy of what the report draws from them (``results.ReportData``), never the
grader, the data set or the reference models' predictions.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from autograder.checks.architecture import expected_layers
from autograder.engine.results import Digits, GradeResult, ReportData
from autograder.evidence.training_outcome import BUILDERS

# Test digits the report draws: a 5×5 grid, and a strip of misclassified ones.
GRID_DIGITS = 25
MISCLASSIFIED_DIGITS = 10


def report_data(grader, result: GradeResult) -> ReportData:
    """The report's data for ``result`` from ``grader`` (the reference models train once per grader)."""
    references = {b: dataclasses.replace(o, test_probabilities=None) for b, o in grader.reference_trainings.items()}
    data = ReportData(references=references,
                      thresholds={b: float(grader.calibration.models[b].threshold) for b in BUILDERS},
                      expected_layers={b: list(expected_layers(b)) for b in BUILDERS})
    trained = {b: o for b, o in result.trainings.items() if o.test_probabilities is not None and not o.error}
    if trained:
        best = max(trained, key=lambda b: trained[b].accuracy)
        # The grading test set, in the order the probabilities were predicted (an evenly spaced subset of
        # the data set's test images, not its first ones), as the images the model saw.
        labels = grader.data.y_test
        images = grader.data.x_test["cnn"].reshape(len(labels), 28, 28)
        probabilities = trained[best].test_probabilities
        wrong = np.flatnonzero((probabilities > 0.5).astype(int) != labels.astype(int))[:MISCLASSIFIED_DIGITS]
        data.best_model = best
        data.grid = Digits(images[:GRID_DIGITS].copy(), labels[:GRID_DIGITS].copy(), probabilities[:GRID_DIGITS].copy())
        data.misclassified = Digits(images[wrong], labels[wrong], probabilities[wrong])
    return data


def attach_report_data(grader, result: GradeResult) -> GradeResult:
    """Attach the report's data to ``result`` (once: a result that has it keeps it) and return the result."""
    if result.report_data is None:
        result.report_data = report_data(grader, result)
    return result
