"""A small class (sample data) graded with and without the class's training cache: every result the same, field by
field; a model that differs in anything trains anew (a damaged entry: test_training_cache.py). grade-all's own
wiring (--no-training-cache, the folder beside the ledger) is checked on the CLI's settings."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

from autograder.course.examples import filled_release, reference_source
from autograder.grader.grading import Grader
from autograder.report.gradescope_style import gradescope_results
from autograder.support.config import load_config
from repo_paths import ROOT

RELEASE = ROOT / "assignments" / "binary_mnist" / "binary_mnist.ipynb"
TRAINING_FIELDS = ("builder", "seed", "accuracy", "loss", "history", "error", "key")


def named(function: str, name: str) -> str:
    """The reference model under a name of its own: the same config, names aside."""
    return reference_source(function).replace("keras.Sequential([", f"keras.Sequential(name={name!r}, layers=[")


def first_dense_with(setting: str) -> str:
    source = reference_source("build_mlp")
    return source.replace('layers.Dense(256, activation="relu"),', f'layers.Dense(256, activation="relu", {setting}),', 1)


CLASS = {
    "ada": {},  # the reference: every model trains (a miss)
    "bo": {f: named(f, f"bo_{f}") for f in ("build_mlp", "build_cnn", "build_deep_cnn")},  # all three hits
    "cy": {"build_mlp": first_dense_with('kernel_regularizer="l2"')},  # the MLP trains anew
}


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    release = nbformat.read(RELEASE, as_version=4)
    for student, answers in CLASS.items():
        nbformat.write(filled_release(release, answers), folder / f"{student}.ipynb")
    return {student: folder / f"{student}.ipynb" for student in CLASS}


def grade(notebooks, cache_dir=None) -> dict:
    """Each notebook graded by a fresh model process, as by another worker: nothing its model process trained for
    an earlier submission is in its memory, so what is not trained comes from the class's cache alone."""
    grader = Grader(load_config(ROOT / "course.yml", data={"source": "sample"}), log=lambda m: None,
                    training_cache_dir=cache_dir)
    results = {}
    try:
        for student, path in notebooks.items():
            results[student] = grader.grade_notebook(path)
            grader.model_process.stop()
    finally:
        grader.model_process.close()
    return results


def comparable(result) -> dict:
    """A results.json without what differs from run to run: seconds, and the models' process's peak memory."""
    out = gradescope_results(result)
    del out["execution_time"], out["extra_data"]["timings"]
    out["extra_data"]["isolation"]["models"].pop("peak_mb", None)
    return out


@pytest.fixture(scope="module")
def graded(notebooks, tmp_path_factory):
    cache = tmp_path_factory.mktemp("grades") / "binary_mnist.training-cache"
    return grade(notebooks), grade(notebooks, cache), cache


@pytest.mark.slow
def test_with_the_cache_every_result_is_the_fresh_trainings_field_by_field(graded):
    fresh, cached, _ = graded
    for student in CLASS:
        assert comparable(cached[student]) == comparable(fresh[student]), student
        assert sorted(cached[student].trainings) == ["build_cnn", "build_deep_cnn", "build_mlp"], student
        for builder, outcome in fresh[student].trainings.items():
            again = cached[student].trainings[builder]
            for name in TRAINING_FIELDS:
                assert getattr(again, name) == getattr(outcome, name), (student, builder, name)
            assert np.array_equal(again.test_probabilities, outcome.test_probabilities), (student, builder)
    assert fresh["ada"].score == fresh["ada"].max_score  # the reference passes: the accuracy checks' verdict compared


@pytest.mark.slow
def test_each_distinct_model_trains_once_and_one_that_differs_in_anything_trains_anew(graded):
    _, cached, cache = graded
    reused = {s: {b for b, o in r.trainings.items() if o.reused} for s, r in cached.items()}
    assert reused == {"ada": set(), "bo": {"build_mlp", "build_cnn", "build_deep_cnn"}, "cy": {"build_cnn", "build_deep_cnn"}}
    assert len(list(cache.glob("*.json"))) == 4  # the reference's three, and the other MLP
    assert "train build_mlp under the grading protocol: reused (trained before for the same model)" in cached["bo"].timings
    assert "train build_mlp under the grading protocol" in cached["ada"].timings


def test_grade_all_keeps_the_cache_beside_the_ledger_unless_told_not_to(tmp_path):
    import argparse

    from autograder.batch.cli import _settings

    (tmp_path / "course.yml").write_text("assignment: binary_mnist\n", encoding="utf-8")
    config = load_config(tmp_path / "course.yml")
    args = argparse.Namespace(no_training_cache=False, html_dir=None, data=None, lang=None)
    assert _settings(args, config).training_cache == str(tmp_path.resolve() / "grades" / "binary_mnist.training-cache")
    args.no_training_cache = True
    assert _settings(args, config).training_cache is None
