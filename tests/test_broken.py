"""Grading separates the reference from typical broken answers (autograder/dev/broken.py).

The benchmark (benchmarks/grading_benchmark.py) runs the full table on MNIST over 20 seeds; here
the same code runs on the sample with two seeds, on the MLP, so that the separation is tested in CI.
"""

from __future__ import annotations

import pytest

from autograder.grader import reference
from autograder.dev.broken import VARIANTS, discriminate
from autograder.hidden.every_check import checks_for
from autograder.support.config import GROUPS
from autograder.course.examples import reference_source
from autograder.report.text import result_text

pytestmark = pytest.mark.slow  # trains every broken variant over seeds and grades each

SEEDS = [1000, 1001]  # not calibration seeds: the threshold must hold beyond the seeds it was made from


@pytest.fixture(scope="module")
def discrimination(sample_grader):
    thresholds = {b: m.threshold for b, m in sample_grader.calibration.models.items()}
    rows = discriminate(sample_grader.data, sample_grader.config.grading, thresholds, SEEDS, ("build_mlp",),
                        log=lambda m: None)
    return {r.variant: r for r in rows}


def test_reference_passes_the_accuracy_check_on_every_seed(discrimination):
    row = discrimination["reference"]
    assert row.failed == [False, False], f"reference accuracies {row.accuracies} fell below the threshold"


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.fails_accuracy_check], ids=lambda v: v.name)
def test_broken_model_fails_the_accuracy_check_on_every_seed(discrimination, variant):
    row = discrimination[variant.name]
    assert all(row.failed), f"{variant.name}: accuracies {row.accuracies}, failed {row.failed}"


def _submission_functions(replacements: dict[str, str]) -> dict:
    namespace: dict = {}
    exec("import numpy as np\nimport keras\nfrom keras import layers\n", namespace)
    for name in reference.FUNCTION_NAMES:
        exec(replacements.get(name, reference_source(name)), namespace)
    return {name: namespace[name] for name in reference.FUNCTION_NAMES}


STRUCTURAL = tuple(g for g in GROUPS if g != "accuracy")


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.replacements], ids=lambda v: v.name)
def test_broken_submission_loses_exactly_its_groups(sample_grader, variant):
    result = sample_grader.grade_functions(_submission_functions(variant.replacements), checks_for(STRUCTURAL))
    lost = {g.name for g in result.groups if g.score < g.max_score}
    assert lost == set(variant.caught_by) - {"accuracy"}, result_text(result)


def test_the_complete_submission_loses_nothing(sample_grader):
    result = sample_grader.grade_functions(_submission_functions({}), checks_for(STRUCTURAL))
    assert result.score == result.max_score, result_text(result)
