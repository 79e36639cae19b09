"""``warm-training-cache``: the lecture's models trained once by the trusted grader's process, and what grade-all
and ``grade`` then read is what the jailed model process would have trained (sample data).

The kernel's side (its read-only view, a hit against the same training in the kernel) is in
tests/test_training_cache_kernel.py."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import numpy as np
import pytest
import yaml

from autograder.course.examples import LECTURE_STYLE, filled_release
from autograder.grader.grading import Grader
from autograder.support.config import load_config
from repo_paths import ROOT
from test_training_cache_class import RELEASE, TRAINING_FIELDS, comparable


@pytest.mark.slow
def test_a_lecture_submission_graded_on_the_warmed_cache_is_the_fresh_grade_field_by_field(tmp_path):
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / "calibration")
    (tmp_path / "course.yml").write_text(yaml.safe_dump(raw))
    warm = subprocess.run([sys.executable, "-m", "autograder", "warm-training-cache"], cwd=tmp_path, text=True,
                          capture_output=True, timeout=600, env={**os.environ, "COURSE_CONFIG": str(tmp_path / "course.yml"),
                                                                 "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert warm.stdout.count("trained in") == 3, warm.stdout
    cache = tmp_path / "grades" / "binary_mnist.training-cache"
    assert len(list(cache.glob("*.json"))) == 3 and len(list((cache / "lecture").glob("*.weights.npz"))) == 3
    notebook = tmp_path / "lecture.ipynb"
    nbformat.write(filled_release(nbformat.read(RELEASE, as_version=4), LECTURE_STYLE), notebook)

    results = {}
    for name, folder in (("fresh", None), ("warmed", cache)):
        grader = Grader(load_config(tmp_path / "course.yml"), log=lambda m: None, training_cache_dir=folder)
        try:
            results[name] = grader.grade_notebook(notebook)
        finally:
            grader.model_process.close()

    fresh, warmed = results["fresh"], results["warmed"]
    assert {b for b, o in warmed.trainings.items() if o.reused} == {"build_mlp", "build_cnn", "build_deep_cnn"}
    assert not any(o.reused for o in fresh.trainings.values())
    assert comparable(warmed) == comparable(fresh)
    for builder, outcome in fresh.trainings.items():
        for name in TRAINING_FIELDS:
            assert getattr(warmed.trainings[builder], name) == getattr(outcome, name), (builder, name)
        assert np.array_equal(warmed.trainings[builder].test_probabilities, outcome.test_probabilities), builder
    assert fresh.score == fresh.max_score
