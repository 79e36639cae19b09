"""What students read of their own errors: no grading-machine paths, and hints for Keras 2's API (issue 11.5, 11.7)."""

import sys

import nbformat
import pytest

from autograder.course.examples import filled_release
from autograder.probes import describe_exception, statement_problem
from conftest import RELEASE


def _raised(code: str) -> dict:
    try:
        exec(compile(code, "<cell 3>", "exec"), {})
    except Exception as exc:
        return describe_exception(exc)
    raise AssertionError("no exception")


def test_import_error_names_the_module_not_the_graders_installation():
    err = _raised("from keras.utils import np_utils")
    assert err["message"] == "cannot import name 'np_utils' from 'keras.utils'"
    assert sys.prefix not in str(err) and "site-packages" not in str(err)


def test_other_paths_lose_the_machines_folders():
    err = _raised(f"open({sys.prefix + '/lib/no_such_file.txt'!r})")
    assert "lib/no_such_file.txt" in err["message"] and sys.prefix not in err["message"]
    assert err["where"] == ["  <cell 3>, line 1, in <module>: "]


def test_np_utils_import_gets_the_keras_2_hint():
    problem = statement_problem({"cell": 3, "line": 2, "source": "\nfrom keras.utils import np_utils"},
                                _raised("from keras.utils import np_utils"))
    assert problem.startswith("cell 3, line 2 (`from keras.utils import np_utils`) raised ImportError: cannot import "
                              "name 'np_utils' from 'keras.utils'. The grader ran the rest of the cell without it.")
    assert "Keras 2's API" in problem and "does not need it" in problem
    assert "from keras.utils import to_categorical" in problem


def test_lr_keyword_gets_the_keras_2_hint(probe_call):
    import keras

    def compile_model(model):
        model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.SGD(lr=0.01), metrics=["accuracy"])
        return model

    message = str(probe_call(compile_model, "compile_reference_mlp").failure_reason())
    assert "Argument(s) not recognized: {'lr': 0.01}" in message
    assert "Keras 3 calls the learning rate learning_rate=" in message
    assert "read the error" not in message


@pytest.mark.slow  # grades a notebook in a child process
def test_np_utils_in_a_notebook_is_one_problem_with_the_hint_and_costs_nothing(grader, tmp_path):
    nb = filled_release(nbformat.read(RELEASE, as_version=4),
                        {"relabel_odd_even": "from keras.utils import np_utils\n\ndef relabel_odd_even(y):\n    return y % 2"})
    path = tmp_path / "np_utils.ipynb"
    nbformat.write(nb, path)
    result = grader.grade_notebook(path, groups=("relabel",), include_hidden=False)
    assert result.score == result.max_score, result.to_text()
    [problem] = [p for p in result.problems if "np_utils" in p]
    assert "Keras 2's API" in problem and "does not need it" in problem
    assert "it now lives in keras.utils" in problem
    assert sys.prefix not in problem and "site-packages" not in problem and "/" not in problem.split("Hint")[0]
