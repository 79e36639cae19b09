"""autograder.notebook, as the release notebook uses it: check cells without MNIST, and the environment check.

The check cells load the data set only for the checks that use it (the accuracy checks): relabel, split,
prepare, the builders and compile pass with no MNIST_PATH, no Keras cache and no download, as
``pytest autograder`` does. The accuracy cells then train on the sample data and say so (outside nbgrader).
"""

import re

import numpy as np
import pytest
import yaml

import autograder.notebook as nb
from autograder.support import mnist
from autograder.grader import reference
from repo_paths import ROOT


def _forget_the_course():
    """Drop what the notebook module cached of the course (its config and check sessions)."""
    for cached in (nb.course_config, nb._session, nb._sample_session):
        cached.cache_clear()


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """A course on full MNIST where MNIST cannot be had: no MNIST_PATH, an empty Keras cache, no download."""
    course = tmp_path / "course.yml"
    course.write_text((ROOT / "course.yml").read_text())
    assert "source: mnist" in course.read_text()
    monkeypatch.setenv("COURSE_CONFIG", str(course))
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    import keras

    def no_download(*args, **kwargs):
        raise Exception("no network in this test")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_download)
    _forget_the_course()
    mnist.clear_cache()
    with pytest.raises(mnist.MnistUnavailableError, match="set MNIST_PATH to an .npz in Keras layout"):
        mnist.load_dataset("mnist")
    yield
    _forget_the_course()


CHECK_CELLS = [
    ("relabel", {"relabel_odd_even": reference.relabel_odd_even}),
    ("split", {"split_train_val": reference.split_train_val}),
    ("prepare", {"prepare_mlp_input": reference.prepare_mlp_input, "prepare_cnn_input": reference.prepare_cnn_input}),
    ("mlp", {"build_mlp": reference.build_mlp}),
    ("cnn", {"build_cnn": reference.build_cnn}),
    ("deep_cnn", {"build_deep_cnn": reference.build_deep_cnn}),
    ("compile", {"compile_model": reference.compile_model}),
]


@pytest.mark.parametrize("group, functions", CHECK_CELLS, ids=[g for g, _ in CHECK_CELLS])
def test_check_cells_that_use_no_data_pass_without_mnist(no_mnist, group, functions, capsys):
    nb.check_group(group, **functions)
    out = capsys.readouterr().out
    assert f"{group}: all" in out and "checks passed" in out
    assert "full MNIST is not available" not in out
    assert "dataset" not in nb._session().__dict__  # the data set was never loaded


def test_accuracy_cell_without_mnist_trains_on_the_sample_and_says_so(no_mnist, capsys):
    nb.check_group("accuracy", build_mlp=reference.build_mlp, compile_model=reference.compile_model)
    out = capsys.readouterr().out
    assert "full MNIST is not available here" in out and "sample data" in out and "MNIST_PATH" in out
    assert "accuracy: all 1 checks passed." in out
    assert "Traceback" not in out


def test_accuracy_cell_under_nbgrader_keeps_the_course_data(no_mnist, monkeypatch):
    # Under nbgrader autograde the course's data is there; missing, it is an error, never the sample.
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(mnist.MnistUnavailableError, match="set MNIST_PATH to an .npz in Keras layout"):
        nb.check_group("accuracy", build_mlp=reference.build_mlp, compile_model=reference.compile_model)


# ---------------------------------------------------------------- the training cells under nbgrader


@pytest.fixture
def graded_course(tmp_path, monkeypatch):
    """The course on the sample data, its notebook run by nbgrader (NBGRADER_EXECUTION set)."""
    def use(**training):
        raw = yaml.safe_load((ROOT / "course.yml").read_text())
        raw["data"]["source"] = "sample"
        raw["training"].update(training)
        (tmp_path / "course.yml").write_text(yaml.safe_dump(raw))
        _forget_the_course()

    monkeypatch.setenv("COURSE_CONFIG", str(tmp_path / "course.yml"))
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    use()
    yield use
    _forget_the_course()


@pytest.fixture
def trainings(monkeypatch):
    """The builders of every training under the grading protocol made from here on, in order."""
    from autograder.engine import check_session

    made, train = [], check_session.train_and_evaluate

    def counted(model, builder, *args, **kwargs):
        made.append(builder)
        return train(model, builder, *args, **kwargs)

    monkeypatch.setattr(check_session, "train_and_evaluate", counted)
    return made


def test_a_training_cell_under_nbgrader_trains_as_graded_and_the_accuracy_check_grades_that_run(
        graded_course, trainings, capsys):
    model = reference.compile_model(reference.build_mlp())
    history = nb.train_as_graded(model, "build_mlp")
    said = re.search(r"build_mlp: trained as the grader trains it in [\d.]+ s; accuracy (0\.\d{4}) on the "
                     r"grader's ([\d,]+) test images", capsys.readouterr().out)
    assert said, "the cell says what it trained and how well"
    # The cell's model holds the graded run's weights: on the grader's test images it scores what was said.
    grading = nb._session().data
    assert len(grading.y_test) == int(said[2].replace(",", ""))
    predicted = np.asarray(model(grading.x_test["mlp"], training=False)).reshape(-1) > 0.5
    assert np.mean(predicted == (grading.y_test > 0.5)) == pytest.approx(float(said[1]), abs=1e-4)
    # Curves by training step, as plot_history draws them for a one-epoch run.
    assert len(history.history["step"]) == len(history.history["loss"]) == len(history.history["accuracy"]) > 10

    nb.check_group("accuracy", build_mlp=reference.build_mlp, compile_model=reference.compile_model)
    assert "accuracy: all 1 checks passed." in capsys.readouterr().out
    assert trainings == ["build_mlp"], "the accuracy check trained the model again instead of grading the cell's run"


def test_a_model_changed_below_the_training_cell_is_trained_again_for_its_check(graded_course, trainings):
    import keras

    nb.train_as_graded(reference.compile_model(reference.build_mlp()), "build_mlp")

    def build_mlp():  # redefined below the training cell: narrower layers
        return keras.Sequential([keras.Input((784,)), keras.layers.Dense(64, activation="relu"),
                                 keras.layers.Dense(1, activation="sigmoid")])

    try:
        nb.check_group("accuracy", build_mlp=build_mlp, compile_model=reference.compile_model)
    except AssertionError:  # whether it reaches the bar is not this test's concern
        pass
    assert trainings == ["build_mlp", "build_mlp"]


def test_a_model_the_grader_cannot_train_stops_the_training_cell_with_what_to_read(graded_course, trainings):
    import keras

    wrong_input = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1, activation="sigmoid")])
    with pytest.raises(RuntimeError, match=r"build_mlp\(\) could not be trained as the grader trains it: .+\. "
                                           r"Its accuracy check below says what to fix"):
        nb.train_as_graded(wrong_input, "build_mlp")


def test_weights_that_cannot_be_loaded_leave_the_cell_its_curves_and_say_so(graded_course, monkeypatch, capsys):
    model = reference.compile_model(reference.build_mlp())

    def refuse(weights):
        raise ValueError("layer count differs")

    monkeypatch.setattr(model, "set_weights", refuse)
    history = nb.train_as_graded(model, "build_mlp")
    out = capsys.readouterr().out
    assert "note: the trained weights could not be loaded into this model (ValueError: layer count differs), so " \
           "the digit grid below shows it untrained." in out and "build_mlp: trained as the grader trains it" in out
    assert len(history.history["loss"]) > 10


def test_the_training_cells_train_as_graded_only_under_nbgrader_and_when_the_course_says_so(graded_course,
                                                                                            monkeypatch):
    assert nb.graded_training() and "trains as the grader trains it" in nb.training_plan(2000, 2000, 2000)
    graded_course(nbgrader_training="short_lecture", nbgrader_epochs=2)
    assert not nb.graded_training() and nb.training_epochs() == 2
    assert nb.training_plan(2000, 2000, 2000) == "training for 2 epoch(s), batch 32, on 2,000 images (validation " \
                                                 "2,000, test 2,000)"
    monkeypatch.delenv("NBGRADER_EXECUTION")
    graded_course()
    assert not nb.graded_training() and nb.training_epochs() == 30


# ---------------------------------------------------------------- the environment check (item: versions)


def _versions(monkeypatch, **found):
    """Pretend these distributions (name -> version, None: absent) are installed; the rest are absent."""
    monkeypatch.setattr(nb, "_installed_version", lambda name: found.get(name))
    monkeypatch.setattr(nb, "_provides_tensorflow", lambda name: name in found and name != "tensorflow-intel")
    monkeypatch.setattr(nb, "_tensorflow_importable", lambda: any(n.startswith("tensorflow") for n in found))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)


def test_this_environment_passes_the_check(capsys):
    problems, notes = nb.environment_problems()
    assert problems == [] and notes == []


def test_keras_2_is_refused_with_what_to_install(monkeypatch):
    _versions(monkeypatch, keras="2.15.0", **{"tensorflow": "2.15.1"})
    with pytest.raises(nb.UnsupportedEnvironment, match=r"this kit needs Keras 3 \(found Keras 2\.15\.0\)") as caught:
        nb.check_environment()
    message = str(caught.value)
    assert "this kit needs Keras 3 (found Keras 2.15.0)" in message
    assert 'pip install -e ".[tensorflow]"' in message
    assert "TensorFlow 2.16 or newer" in message and "found tensorflow 2.15.1" in message
    assert f"Tested with Python {nb.TESTED_WITH['Python']}" in message


def test_no_tensorflow_is_refused_with_the_install_command(monkeypatch):
    _versions(monkeypatch, keras="3.15.1")
    with pytest.raises(nb.UnsupportedEnvironment, match=r"TensorFlow is not installed .*\.\[tensorflow\]"):
        nb.check_environment()


def test_another_backend_is_refused(monkeypatch):
    _versions(monkeypatch, keras="3.15.1", tensorflow="2.21.0")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with pytest.raises(nb.UnsupportedEnvironment, match="KERAS_BACKEND is 'jax'"):
        nb.check_environment()


def test_untested_but_supported_versions_pass(monkeypatch, capsys):
    _versions(monkeypatch, keras="3.4.1", **{"tensorflow-macos": "2.16.2"})
    nb.check_environment()
    # A Windows `tensorflow` (a shim over tensorflow-intel) is one TensorFlow, not two.
    _versions(monkeypatch, keras="3.15.1", tensorflow="2.21.0", **{"tensorflow-intel": "2.21.0"})
    nb.check_environment()
    assert capsys.readouterr().out == ""


def test_two_tensorflow_builds_are_a_note_not_a_failure(monkeypatch, capsys):
    _versions(monkeypatch, keras="3.15.1", tensorflow="2.21.0", **{"tensorflow-cpu": "2.20.0"})
    nb.check_environment()
    out = capsys.readouterr().out
    assert "2 TensorFlow distributions are installed here (tensorflow 2.21.0, tensorflow-cpu 2.20.0)" in out
    assert "pip uninstall tensorflow-cpu" in out


def test_the_messages_are_in_the_course_language(monkeypatch, tmp_path):
    course = tmp_path / "course.yml"
    course.write_text((ROOT / "course.yml").read_text().replace("language: en", "language: ko", 1))
    monkeypatch.setenv("COURSE_CONFIG", str(course))
    nb.course_config.cache_clear()
    try:
        _versions(monkeypatch, keras="2.15.0", tensorflow="2.15.1")
        with pytest.raises(nb.UnsupportedEnvironment, match="Keras 3") as caught:
            nb.check_environment()
    finally:
        nb.course_config.cache_clear()
    assert "Keras 3" in str(caught.value) and "this kit needs" not in str(caught.value)
