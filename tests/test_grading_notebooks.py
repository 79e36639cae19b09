"""Grading whole notebooks through the child process: complete, broken and malformed submissions.

Every submission gets a complete result: a score for every group, with the reason for each 0.
"""

import json
import subprocess
import sys

import nbformat
import pytest

from autograder.support.config import GROUPS
from autograder.course.examples import EXAMPLES, filled_release
from autograder.report.text import result_text
from repo_paths import RELEASE, ROOT

NOT_ACCURACY = tuple(g for g in GROUPS if g != "accuracy")


@pytest.fixture(scope="module")
def release():
    return nbformat.read(RELEASE, as_version=4)


def write(tmp_path, nb, name="submission.ipynb"):
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def answer_cell(nb, name):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == name)


def scores(result):
    return {g.name: g.score for g in result.groups}


@pytest.mark.slow  # grades a whole notebook in a child process (15-40 s)
def test_complete_notebook_gets_full_marks(sample_grader, release, tmp_path):
    result = sample_grader.grade_notebook(write(tmp_path, filled_release(release, {})))
    assert scores(result) == {g: float(sample_grader.config.points[g]) for g in GROUPS}, result_text(result)
    assert result.score == result.max_score == sample_grader.config.max_score
    assert "sample" in result.notes[-1]


@pytest.mark.slow  # grades a whole notebook in a child process (15-40 s)
def test_one_broken_function_costs_only_its_group(sample_grader, release, tmp_path):
    nb = filled_release(release, EXAMPLES["ben_relabel_inverted"])
    result = sample_grader.grade_notebook(write(tmp_path, nb))
    expected = {g: float(sample_grader.config.points[g]) for g in GROUPS}
    expected["relabel"] = 0.0
    assert scores(result) == expected, result_text(result)
    assert "has the classes inverted" in result.group("relabel").first_failure.message


@pytest.mark.slow  # grades a whole notebook in a child process (15-40 s)
def test_untouched_release_scores_zero_with_a_reason_for_every_group(sample_grader):
    result = sample_grader.grade_notebook(RELEASE)
    assert [g.name for g in result.groups] == list(GROUPS)
    assert result.score == 0
    for group in result.groups:
        assert group.checks and not any(c.passed for c in group.checks), group.name
        assert "still the stub" in group.first_failure.message or "raised NotImplementedError" in group.first_failure.message


@pytest.mark.slow  # grades a whole notebook in a child process (15-40 s)
def test_missing_function_costs_only_its_group(sample_grader, release, tmp_path):
    nb = filled_release(release, {})
    nb.cells.remove(answer_cell(nb, "relabel_odd_even"))
    result = sample_grader.grade_notebook(write(tmp_path, nb), groups=NOT_ACCURACY)
    assert scores(result)["relabel"] == 0
    assert "relabel_odd_even is not defined in the notebook" in result.group("relabel").first_failure.message
    assert all(scores(result)[g] == sample_grader.config.points[g] for g in NOT_ACCURACY if g != "relabel")


@pytest.mark.slow  # grades a whole notebook in a child process (15-40 s)
def test_syntax_error_cell_is_reported_and_the_rest_graded(sample_grader, release, tmp_path):
    nb = filled_release(release, {"split_train_val": "def split_train_val(x, y, n_val=10000):\n    return x[:-n_val"})
    result = sample_grader.grade_notebook(write(tmp_path, nb), groups=NOT_ACCURACY)
    assert scores(result)["split"] == 0
    assert any("has a syntax error" in p for p in result.problems), result.problems
    assert all(scores(result)[g] == sample_grader.config.points[g] for g in NOT_ACCURACY if g != "split")


@pytest.mark.slow  # grades a whole notebook in a child process (15-40 s)
def test_exception_inside_a_builder_is_reported_with_the_students_line(sample_grader, release, tmp_path):
    nb = filled_release(release, {"build_mlp": "def build_mlp():\n    raise ValueError('boom')"})
    result = sample_grader.grade_notebook(write(tmp_path, nb), groups=("mlp", "cnn"))
    message = result.group("mlp").first_failure.message
    assert "build_mlp() raised ValueError: boom" in message and "in build_mlp: raise ValueError('boom')" in message
    assert scores(result) == {"mlp": 0, "cnn": sample_grader.config.points["cnn"]}


@pytest.mark.slow  # grades a whole notebook in a child process (15-40 s)
def test_builder_that_hangs_is_stopped_and_the_rest_graded(sample_config, release, tmp_path):
    from autograder.grader.grading import Grader

    config = sample_config.model_copy(update={"limits": sample_config.limits.model_copy(update={"call_timeout_s": 3})})
    nb = filled_release(release, {"build_cnn": "def build_cnn():\n    while True:\n        pass"})
    result = Grader(config, log=lambda m: None).grade_notebook(write(tmp_path, nb), groups=("mlp", "cnn", "deep_cnn"))
    assert "did not finish within the time limit" in result.group("cnn").first_failure.message
    assert scores(result) == {"mlp": config.points["mlp"], "cnn": 0, "deep_cnn": config.points["deep_cnn"]}


@pytest.mark.slow  # grades a whole notebook in a child process (15-40 s)
def test_builder_that_kills_its_process_costs_only_its_group(sample_grader, release, tmp_path):
    nb = filled_release(release, {"build_cnn": "import os\ndef build_cnn():\n    os._exit(0)"})
    result = sample_grader.grade_notebook(write(tmp_path, nb), groups=("mlp", "cnn", "compile"))
    assert "the submission's process ended while running build_cnn()" in result.group("cnn").first_failure.message
    points = sample_grader.config.points
    assert scores(result) == {"mlp": points["mlp"], "cnn": 0, "compile": points["compile"]}


@pytest.mark.parametrize("content,reason", [
    (b"{not json", "is not valid JSON"),
    (b'{"cells": 3}', "is not a Jupyter notebook nbformat can read"),
    ("Ünïcode".encode("latin-1"), "is not UTF-8"),
])
def test_unreadable_notebook_gets_a_complete_zero_result(sample_grader, tmp_path, content, reason):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    result = sample_grader.grade_notebook(path)
    assert [g.name for g in result.groups] == list(GROUPS)
    assert result.score == 0
    assert all(reason in c.message for g in result.groups for c in g.checks)


@pytest.mark.slow  # grades a whole notebook in a child process (15-40 s)
def test_cli_writes_gradescope_json_and_exits_0(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "autograder", "--config", str(ROOT / "course.yml"), "grade",
                           str(RELEASE), "--data", "sample", "--json", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "total      0.00/13.00" in proc.stdout
    report = json.loads(out.read_text())
    assert report["score"] == 0 and report["max_score"] == 13
    assert {t["group"] for t in report["tests"]} == set(GROUPS)
    assert {"name", "group", "score", "max_score", "status", "output", "visibility"} <= set(report["tests"][0])
    assert {t["visibility"] for t in report["tests"]} == {"visible", "hidden"}


@pytest.fixture(scope="module")
def full_mnist_grader(sample_config):
    from autograder.grader.grading import Grader
    from conftest import require_full_mnist

    require_full_mnist()
    return Grader(sample_config.model_copy(update={"data": sample_config.data.model_copy(update={"source": "mnist"})}),
                  log=lambda m: None)


def test_complete_notebook_gets_full_marks_on_full_mnist_with_the_shipped_calibration(full_mnist_grader, release, tmp_path):
    from autograder.grader.calibration import calibration_path

    grader = full_mnist_grader
    assert calibration_path(grader.config, grader.dataset, grader.n_val).exists(), "ship a calibration for full MNIST"
    result = grader.grade_notebook(write(tmp_path, filled_release(release, {})))
    assert result.score == result.max_score, result_text(result)
    assert "full MNIST" in result.notes[-1]


@pytest.mark.slow  # grades a whole notebook in a child process (15-40 s)
def test_a_cell_that_kills_the_process_is_left_out_and_reported_with_its_output(sample_grader, release, tmp_path):
    nb = filled_release(release, {"relabel_odd_even": "import os\nclass Leave:\n    print('about to leave')\n    os._exit(3)"
                                                       "\n\ndef relabel_odd_even(y):\n    return y % 2"})
    result = sample_grader.grade_notebook(write(tmp_path, nb), groups=("relabel", "compile"))
    # As in a kernel that died there: that cell's work is lost, the rest of the notebook still counts.
    assert result.group("relabel").score == 0 and result.group("compile").score == 1, result_text(result)
    [problem] = [str(p) for p in result.problems if "ended the submission's process" in str(p)]
    assert problem.startswith("cell 4 ended the submission's process, so the grader ran the notebook again without "
                              "it: the process exited with code 3; its last output:")
    assert problem.splitlines()[-1] == "about to leave"
    assert "oneDNN" not in problem and "absl::InitializeLog" not in problem  # TensorFlow's banner is not its output
    assert str(result.group("relabel").first_failure.message) == (
        "relabel_odd_even is defined in cell 4, which ended the submission's process and was not run again. "
        "Hint: look for exit() or a crash in that cell.")
