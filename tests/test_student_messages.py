"""What students read of their own errors: no grading-machine paths, and hints for Keras 2's API (issue 11.5, 11.7)."""

import sys

import nbformat
import pytest

from autograder.course.examples import filled_release
from autograder.engine.notebook_runner import CellOutcome, cell_problem
from autograder.messages.error_text import describe_exception
from autograder.report.text import result_text
from repo_paths import RELEASE


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
    outcome = CellOutcome(3, "raised", 0.1, dict(_raised("from keras.utils import np_utils"), line=2))
    problem = str(cell_problem(outcome, 30))
    assert problem.startswith("cell 3 raised ImportError at line 2: cannot import name 'np_utils' from 'keras.utils'; "
                              "what it defined before the error was kept. Hint: ")
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
def test_np_utils_in_a_notebook_costs_what_it_costs_in_jupyter_and_says_why(sample_grader, tmp_path):
    # In a kernel the failed import stops the cell before its def: the check cell fails there, and so here.
    nb = filled_release(nbformat.read(RELEASE, as_version=4),
                        {"relabel_odd_even": "from keras.utils import np_utils\n\ndef relabel_odd_even(y):\n    return y % 2"})
    path = tmp_path / "np_utils.ipynb"
    nbformat.write(nb, path)
    result = sample_grader.grade_notebook(path, groups=("relabel",), include_hidden=False)
    assert result.score == 0, result_text(result)
    [problem] = [str(p) for p in result.problems if "np_utils" in str(p)]
    assert problem.startswith("cell 4 raised ImportError at line 1: cannot import name 'np_utils' from 'keras.utils'")
    assert "Keras 2's API" in problem and "does not need it" in problem and "it now lives in keras.utils" in problem
    assert sys.prefix not in problem and "site-packages" not in problem and "/" not in problem.split("Hint")[0]
    message = str(result.groups[0].checks[0].message)
    assert message.startswith("relabel_odd_even is defined in cell 4 at line 3, but the cell raised ImportError at "
                              "line 1 (cannot import name 'np_utils' from 'keras.utils'), before it reached the "
                              "definition. Hint: keras.utils.np_utils is Keras 2's API"), message
