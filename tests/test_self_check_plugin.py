"""`pytest autograder`: the students' self-check, run as students run it (a pytest subprocess)."""

import os
import re
import subprocess
import sys

import nbformat
import pytest
import yaml

from autograder.checks import visible_checks
from autograder.course.examples import filled_release
from repo_paths import RELEASE, ROOT

pytestmark = pytest.mark.slow  # each test runs `pytest autograder` in a subprocess, some training three models

N_VISIBLE = len(visible_checks())


@pytest.fixture(scope="module")
def sample_course_yml(tmp_path_factory):
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    raw["data"]["source"] = "sample"
    raw["calibration"]["directory"] = str(ROOT / raw["calibration"]["directory"])
    path = tmp_path_factory.mktemp("course") / "course.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


def self_check(notebook, course_yml, *extra):
    cmd = [sys.executable, "-m", "pytest", "autograder", "--notebook", str(notebook), "-p", "no:cacheprovider", *extra]
    env = dict(os.environ, COURSE_CONFIG=str(course_yml))
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)


def test_release_notebook_fails_every_visible_check_with_readable_messages(sample_course_yml):
    proc = self_check(RELEASE, sample_course_yml)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert f"{N_VISIBLE} failed" in proc.stdout.splitlines()[-1]
    assert "relabel_odd_even is still the stub: replace `raise NotImplementedError()` with your code." in proc.stdout
    assert "Traceback" not in proc.stdout  # pytrace=False: the grader's message, not the plugin's internals
    # Issue 19.4: the summary says of each stub that there was no model, and shows no figure for it.
    fit = proc.stdout.split("will this fit the grader?", 1)[1]
    for builder in ("build_mlp", "build_cnn", "build_deep_cnn"):
        row = next(line for line in fit.splitlines() if line.startswith(builder))
        assert f"no model: {builder}() raised NotImplementedError" in row, row


def test_completed_notebook_passes_every_visible_check(sample_course_yml, tmp_path):
    notebook = tmp_path / "done.ipynb"
    nbformat.write(filled_release(nbformat.read(RELEASE, as_version=4), {}), notebook)
    proc = self_check(notebook, sample_course_yml)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"{N_VISIBLE} passed" in proc.stdout.splitlines()[-1]
    # Issue 19.4: each model against the grader's limits, measured in this run (the lecture's parameter counts).
    fit = proc.stdout.split("will this fit the grader?", 1)[1]
    assert re.search(r"grader's limit +3,328,010 +65,536 +500,000 +60 s +120 s +2,048 MB", fit), fit
    for builder, params in (("build_mlp", "332,801"), ("build_cnn", "214,881"), ("build_deep_cnn", "327,649")):
        row = next(line for line in fit.splitlines() if line.startswith(builder))
        assert params in row and " s" in row and " MB" in row and "–" not in row, row  # every figure measured
    assert "memory: how much this process's memory grew" in fit and "≈" not in fit  # the course's own data


def test_a_single_broken_function_fails_only_its_checks(sample_course_yml, tmp_path):
    notebook = tmp_path / "inverted.ipynb"
    nb = filled_release(nbformat.read(RELEASE, as_version=4), {"relabel_odd_even": "def relabel_odd_even(y):\n    return 1 - y % 2"})
    nbformat.write(nb, notebook)
    proc = self_check(notebook, sample_course_yml, "-k", "relabel or split")
    assert proc.returncode == 1
    assert "1 failed" in proc.stdout.splitlines()[-1]
    assert "has the classes inverted" in proc.stdout


def test_without_full_mnist_only_the_accuracy_checks_change_data_and_say_so(tmp_path):
    # Issue 11.3: no MNIST_PATH, an empty Keras cache and no download: the relabel, split, prepare,
    # architecture and compile checks need no data set; the accuracy checks fall back to the sample.
    raw = yaml.safe_load((ROOT / "course.yml").read_text())
    assert raw["data"]["source"] == "mnist"
    raw["calibration"]["directory"] = str(ROOT / raw["calibration"]["directory"])
    course_yml = tmp_path / "course.yml"
    course_yml.write_text(yaml.safe_dump(raw))
    notebook = tmp_path / "done.ipynb"
    nbformat.write(filled_release(nbformat.read(RELEASE, as_version=4), {}), notebook)
    env = {k: v for k, v in os.environ.items() if k != "MNIST_PATH"}
    env.update(COURSE_CONFIG=str(course_yml), KERAS_HOME=str(tmp_path / "keras"),
               https_proxy="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    cmd = [sys.executable, "-m", "pytest", "autograder", "--notebook", str(notebook), "-p", "no:cacheprovider",
           "-k", "relabel_digits or split_n_val_2000 or prepare_cnn or check_model_input_shape or reaches_reference_accuracy"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "full MNIST not available" not in proc.stdout
    summary = proc.stdout.split("autograder note", 1)[1]
    assert "full MNIST is not available here" in summary and "sample calibration's thresholds (MLP 0." in summary
    assert "calibration/sample-" in summary and "not the course's configured data (mnist)" in summary
    # Issue 19.4: trained on the sample's fewer images, the training time is scaled to grading's and says so.
    assert "≈: full MNIST is not available here, so the accuracy checks trained on the sample data's" in summary
    assert "in proportion to the 5,000 that grading trains on" in summary
