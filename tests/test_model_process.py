"""The grader's bounded process for the students' models (autograder/isolation/model_process_client.py).

What it sends back is read, not trusted: each field is checked. A model that exhausts its memory
costs that model's checks, and the same grader grades the next submission normally.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.checks import VISIBLE_CHECKS
from autograder.support.config import load_config
from autograder.course.examples import reference_source
from autograder.grader.grading import Grader
from autograder.isolation import model_process_client, model_process_server, recording
from autograder.isolation.model_process_client import _own_check, needs_models
from autograder.report.text import result_text
from autograder.engine.results import CheckResult
from autograder.evidence.layer_rows import LayerRow
from autograder.evidence.training_outcome import TrainingOutcome
from conftest import cgroup_writable
from repo_paths import ROOT

SOLUTION = ROOT / "solutions" / "binary_mnist" / "binary_mnist.ipynb"


def test_only_checks_on_returned_models_go_to_the_model_process():
    sent = {c.group for c in VISIBLE_CHECKS if needs_models(c)}
    kept = {c.group for c in VISIBLE_CHECKS if not needs_models(c)}
    assert sent == {"mlp", "cnn", "deep_cnn", "compile", "accuracy"}
    assert kept == {"relabel", "split", "prepare"}


def test_a_training_run_is_read_back_field_by_field():
    outcome = TrainingOutcome.from_full_dict({"builder": "build_mlp", "seed": 0, "accuracy": 0.9, "loss": 0.3,
                                  "history": {"loss": [0.5, 0.3]}, "seconds": 2.5, "error": None,
                                  "test_probabilities": [0.1, 0.9]})
    assert (outcome.builder, outcome.accuracy, outcome.history, outcome.test_probabilities.dtype.name) == (
        "build_mlp", 0.9, {"loss": [0.5, 0.3]}, "float32")


@pytest.mark.parametrize("forged", [
    {"builder": "build_everything", "seed": 0, "seconds": 1},
    {"builder": "build_mlp", "seed": 0, "seconds": 1, "accuracy": "1.0"},
    {"builder": "build_mlp", "seed": 0, "seconds": 1, "accuracy": True},
    {"builder": "build_mlp", "seed": 0, "seconds": 1, "history": {"loss": "low"}},
    {"builder": "build_mlp", "seed": 0, "seconds": 1, "error": {"not": "text"}},
    {"builder": "build_mlp", "seed": 0, "seconds": 1, "test_probabilities": ["0.5"]},
    ["build_mlp"],
], ids=["unknown_builder", "accuracy_as_text", "accuracy_as_bool", "history_not_lists", "error_not_text",
        "probabilities_as_text", "not_a_mapping"])
def test_a_forged_training_run_is_refused(forged):
    with pytest.raises((ValueError, TypeError), match=r"must name one of the exercise's builders|is not a number|"
                                                       r"history must map names to lists|error must be text"):
        TrainingOutcome.from_full_dict(forged)


def test_layer_tables_are_read_back_as_rows_and_malformed_ones_refused():
    rows = LayerRow.tables_from_dict({"build_mlp": [["Dense", [64], 50240, "units=64"]]})
    assert rows["build_mlp"][0].cells() == ("Dense", "(64,)", "50,240", "units=64")
    with pytest.raises(TypeError, match="must be a mapping"):
        LayerRow.tables_from_dict([["Dense"]])
    with pytest.raises(TypeError, match="parameter count as a whole number"):
        LayerRow.tables_from_dict({"build_mlp": [["Dense", [64], "many", "units=64"]]})
    with pytest.raises(ValueError, match=r"must be rows of \[kind, shape, params, settings\]"):
        LayerRow.tables_from_dict({"build_mlp": [["Dense", [64]]]})


def test_an_answer_for_another_check_is_refused():
    asked = next(c for c in VISIBLE_CHECKS if c.group == "mlp")
    other = next(c for c in VISIBLE_CHECKS if c.group == "cnn")
    with pytest.raises(ValueError, match=re.escape(f"its answer for {asked.name} names another check")):
        _own_check(CheckResult.of(other, True), asked)
    # The same check on another probe is another check too.
    on_another_probe = next(c for c in VISIBLE_CHECKS if c.func is asked.func and c.probe_name != asked.probe_name)
    with pytest.raises(ValueError, match=re.escape(f"its answer for {asked.name} names another check")):
        _own_check(CheckResult.of(on_another_probe, True), asked)
    assert _own_check(CheckResult.of(asked, True), asked).passed


def _notebook(path: Path, *cells: str) -> Path:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)
    return path


@pytest.mark.slow
def test_the_grader_process_never_loads_a_students_model(monkeypatch):
    """Every model check passes although loading a model in the grader's own process would raise."""

    def refuse(*args, **kwargs):
        raise AssertionError("the grader's own process loaded a student's model")

    monkeypatch.setattr(recording, "load_model_safely", refuse)
    grader = Grader(load_config(ROOT / "course.yml", data={"source": "sample"}), log=lambda m: None)
    try:
        result = grader.grade_notebook(SOLUTION, groups=("mlp", "compile"))
    finally:
        grader.model_process.close()
    assert {g.name: g.score for g in result.groups} == {"mlp": 2.0, "compile": 1.0}, result_text(result)
    assert result.isolation["models"]["memory_limit_mb"] == 2048


@pytest.mark.slow
@pytest.mark.skipif(not cgroup_writable("memory"), reason="no writable memory cgroup: only the address space bounds "
                                                          "the model process here, far above this test's 768 MB")
def test_a_model_that_exhausts_the_model_memory_costs_its_checks_and_the_next_submission_is_graded_normally(tmp_path):
    wide_cnn = ("def build_cnn():\n    return keras.Sequential([keras.Input(shape=(28, 28, 1))]\n"
                "        + [layers.Conv2D(64, 3, padding='same', activation='relu') for _ in range(7)]\n"
                "        + [layers.Flatten(), layers.Dense(1, activation='sigmoid')])\n")
    hog = _notebook(tmp_path / "hog.ipynb", "import keras\nfrom keras import layers", reference_source("build_mlp"),
                    wide_cnn, reference_source("build_deep_cnn"))
    config = load_config(ROOT / "course.yml", data={"source": "sample"}, limits={"model_memory_limit_mb": 768})
    grader = Grader(config, log=lambda m: None)
    try:
        first = grader.grade_notebook(hog, groups=("accuracy",))
        failed = [c for c in first.group("accuracy").checks if not c.passed]
        assert [c.name for c in failed] == ["check_model_reaches_reference_accuracy[build_cnn_for_accuracy]"], result_text(first)
        assert "needed more memory than the grader allows for one submission's models (768 MB" in failed[0].message
        assert first.group("accuracy").score == pytest.approx(2.0)
        assert set(first.trainings) == {"build_mlp", "build_deep_cnn"}

        second = grader.grade_notebook(SOLUTION, groups=("cnn", "accuracy"))
        assert {g.name: g.score for g in second.groups} == {"cnn": 2.0, "accuracy": 3.0}, result_text(second)
        assert grader.model_process.starts == 2  # the one that ran out, and the fresh one after it
    finally:
        grader.model_process.close()
    assert not grader.model_process.root.exists()


def test_closing_the_model_process_before_it_started_removes_its_folder():
    config = load_config(ROOT / "course.yml", data={"source": "sample"})
    process = model_process_client.ModelProcess(config, data=None)
    assert process.root.is_dir()
    process.close()
    assert not process.root.exists()


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def test_nothing_the_model_process_needs_from_the_grader_lies_in_its_folder():
    """It is launched while the submission's code runs, and that code can read /tmp: its jail's spec, the
    course's settings and the grading data (the test labels included) reach it through its stdin only."""
    grader = Grader(load_config(ROOT / "course.yml", data={"source": "sample"}), log=lambda m: None)
    process = grader.model_process
    seen: dict[str, int] = {}
    try:
        process.launch()
        seen.update(_files(process.root))  # right after launch
        waiting = threading.Thread(target=process._wait_until_ready)
        waiting.start()
        while waiting.is_alive():  # and all through its start-up
            seen.update(_files(process.root))
            time.sleep(0.05)
        seen.update(_files(process.root))  # and once it is ready
        assert process._ready and process.starts == 1
        assert process.protections["memory_limit_mb"] == 2048
        labels = process.data.y_test.tobytes()
        for name in seen:
            assert not name.endswith((".npz", ".npy")) and Path(name).name not in ("jail.json", "settings.json"), seen
            content = (process.root / name).read_bytes() if (process.root / name).exists() else b""
            assert labels not in content and b"model_memory_limit_mb" not in content, name
    finally:
        process.close()
    assert not process.root.exists()


def test_the_grading_input_goes_through_a_pipe_as_plain_numbers():
    config = load_config(ROOT / "course.yml", data={"source": "sample"}).model_dump(mode="json")
    arrays = {"y_test": np.array([0, 1, 1], dtype=np.uint8), "x_test_mlp": np.arange(6, dtype=np.float32).reshape(3, 2)}
    pipe = io.BytesIO()
    model_process_server.send_grading_input(pipe, config, arrays)
    pipe.seek(0)
    settings, back = model_process_server.read_grading_input(io.BufferedReader(pipe))
    assert settings == config and list(back) == ["y_test", "x_test_mlp"]
    assert all(back[k].dtype == a.dtype and np.array_equal(back[k], a) for k, a in arrays.items())


@pytest.mark.parametrize("header, body, problem", [
    ({"arrays": [{"name": "y_test", "dtype": "|O", "shape": [3]}]}, b"", "is not plain numbers"),
    ({"arrays": [{"name": "y_test", "dtype": "<f4", "shape": [3.5]}]}, b"", "is not plain numbers"),
    ({"arrays": [{"name": "x", "dtype": "<f8", "shape": [2**30]}]}, b"", "more than this process may hold"),
    ({"arrays": [{"name": "y_test", "dtype": "|u1", "shape": [3]}]}, b"\x01", "ended early"),
], ids=["objects", "fractional_shape", "too_large", "truncated"])
def test_a_grading_input_that_is_not_plain_numbers_within_bounds_is_refused(header, body, problem):
    config = load_config(ROOT / "course.yml", data={"source": "sample"}).model_dump(mode="json")
    pipe = io.BufferedReader(io.BytesIO(json.dumps(dict(header, config=config)).encode() + b"\n" + body))
    with pytest.raises(ValueError, match=problem):
        model_process_server.read_grading_input(pipe)


def test_what_the_submissions_code_could_plant_in_the_model_process_folder_is_never_used():
    """The submission's code runs beside the model process and can write to /tmp: a module or a keras.json
    planted in its folder (its cwd, its KERAS_HOME) before it imports Keras must change nothing."""
    grader = Grader(load_config(ROOT / "course.yml", data={"source": "sample"}), log=lambda m: None)
    process = grader.model_process
    try:
        process.launch()
        work = process.root / "process-1"
        (work / "keras.py").write_text("raise SystemExit('the planted keras module was imported')\n")
        (work / "keras").mkdir(exist_ok=True)
        (work / "keras" / "keras.json").write_text(json.dumps({"backend": "jax", "floatx": "float16"}))
        process._wait_until_ready()
        assert process._ready and process.starts == 1
    finally:
        process.close()
