"""autograder.notebook, as the release notebook uses it: check cells without MNIST, and the environment check.

The check cells load the data set only for the checks that use it (the accuracy checks): relabel, split,
prepare, the builders and compile pass with no MNIST_PATH, no Keras cache and no download, as
``pytest autograder`` does. The accuracy cells then train on the sample data and say so (outside nbgrader).
"""

import pytest

import autograder.notebook as nb
from autograder.support import data
from autograder.grader import reference
from repo_paths import ROOT


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
    for cached in (nb.course_config, nb._session, nb._sample_session):
        cached.cache_clear()
    data.clear_cache()
    with pytest.raises(data.MnistUnavailableError, match="set MNIST_PATH to an .npz in Keras layout"):
        data.load_dataset("mnist")
    yield
    for cached in (nb.course_config, nb._session, nb._sample_session):
        cached.cache_clear()


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
    with pytest.raises(data.MnistUnavailableError, match="set MNIST_PATH to an .npz in Keras layout"):
        nb.check_group("accuracy", build_mlp=reference.build_mlp, compile_model=reference.compile_model)


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
