"""The notebook runner: cells run as a kernel runs them, each group's functions taken where its check cell runs."""

from __future__ import annotations

import re
import sys

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.engine.notebook_runner import (CHECK, PROVIDED, PROVIDED_NOT_RUN, STUDENT, CellOutcome, Wanted,
                                                call_checkpoints, cell_problem, outcomes_from_data, plan_notebook,
                                                run_notebook, why_missing)
from autograder.engine import data_cell
from repo_paths import RELEASE

MLP = [Wanted("build_mlp", "mlp", "build_mlp")]


def _meta(grade_id, **flags):
    meta = {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3, "solution": False, "task": False}
    meta.update(flags)
    return {"nbgrader": meta}


def _check_cell(group="mlp", names=("build_mlp",)):
    args = ", ".join(f"{n}={n}" for n in names)
    return new_code_cell(f'check_group("{group}", {args})', metadata=_meta(f"test_{group}", grade=True, points=1))


def _solution(source, grade_id="build_mlp"):
    return new_code_cell(source, metadata=_meta(grade_id, solution=True, locked=False))


def _nb(*cells):
    return new_notebook(cells=[new_code_cell(c) if isinstance(c, str) else c for c in cells])


def _run(nb, wanted=MLP, timeout=30.0, call=None):
    plan = plan_notebook(nb)
    return plan, run_notebook(plan, wanted, timeout, call=call)


# ---------------------------------------------------------------- the plan


def test_the_release_plan_runs_the_imports_helpers_and_answers_but_not_data_training_or_tests():
    release = nbformat.read(RELEASE, as_version=4)
    plan = plan_notebook(release, release)
    ids = {c.cell: release.cells[c.cell - 1].metadata.nbgrader.grade_id for c in plan}
    kinds = {ids[c.cell]: c.kind for c in plan}
    assert kinds["imports"] == kinds["plot_helpers"] == PROVIDED
    assert kinds["load_data"] == kinds["train_build_mlp"] == kinds["train_build_deep_cnn"] == PROVIDED_NOT_RUN
    assert kinds["build_mlp"] == kinds["compile_model"] == STUDENT
    assert kinds["test_mlp"] == kinds["test_accuracy_build_cnn"] == CHECK
    checks = {ids[c.cell]: c.checks for c in plan if c.kind == CHECK}
    assert checks["test_prepare"] == (("prepare", ("prepare_mlp_input", "prepare_cnn_input")),)
    assert checks["test_accuracy_build_cnn"] == (("accuracy", ("build_cnn", "compile_model")),)


def test_locked_cells_come_from_the_release_not_from_the_students_copy():
    release = nbformat.read(RELEASE, as_version=4)
    copy = nbformat.read(RELEASE, as_version=4)
    imports = next(c for c in copy.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "imports")
    imports.source += "\ncheck_group = lambda *args, **kwargs: None"
    plan = plan_notebook(copy, release)
    planned = next(c for c in plan if c.cell == copy.cells.index(imports) + 1)
    assert planned.kind == PROVIDED and "lambda" not in planned.source and "import keras" in planned.source


def test_a_provided_cell_pasted_without_metadata_is_still_not_run():
    release = nbformat.read(RELEASE, as_version=4)
    load = next(c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "load_data")
    pasted = _nb("import numpy as np", new_code_cell(load.source.replace("\n", "\r\n") + "\n"))
    assert [c.kind for c in plan_notebook(pasted, release)] == [STUDENT, PROVIDED_NOT_RUN]


def test_a_copy_of_a_check_cell_the_student_made_is_not_run():
    nb = _nb("def build_mlp():\n    return 1", 'check_group("mlp", build_mlp=build_mlp)')
    assert [c.kind for c in plan_notebook(nb)] == [STUDENT, CHECK]
    # ... and it does not say where the group is checked: only the course's own check cells do.
    assert call_checkpoints(plan_notebook(nb), MLP) == {"build_mlp": 0}


def test_a_cell_that_runs_the_self_check_is_not_run_inside_a_run_of_the_notebook():
    nb = _nb("!pytest autograder", "!python -m pytest --pyargs autograder --notebook nb.ipynb -q",
             "!pip list", "x = 1\n!pytest autograder")
    # The last one also assigns: it runs (and its !pytest with it), as a cell of the student's own.
    assert [c.kind for c in plan_notebook(nb)] == [CHECK, CHECK, STUDENT, STUDENT]


def test_a_notebook_without_nbgrader_metadata_is_taken_at_its_end():
    nb = _nb("def build_mlp():\n    return 1", "def build_mlp():\n    return 2")
    _, run = _run(nb)
    assert run.functions["build_mlp"]() == 2


# ---------------------------------------------------------------- running as a kernel does


@pytest.mark.parametrize("source", [
    "%%time\ndef build_mlp():\n    return 784",
    "%time x = 1\ndef build_mlp():\n    return 784",
    "import math\nN_PIXELS = int(math.prod((28, 28)))\ndef build_mlp():\n    return N_PIXELS",
    "import sys\nif sys.version_info >= (3,):\n    SIZE = 784\nelse:\n    SIZE = 0\ndef build_mlp():\n    return SIZE",
    "try:\n    import numpy as np\nexcept ImportError:\n    np = None\ndef build_mlp():\n    return 784",
    "sizes = []\nfor s in (784,):\n    sizes.append(s)\ndef build_mlp():\n    return sizes[0]",
    "!echo shell lines run too\ndef build_mlp():\n    return 784",
    "%matplotlib inline\ndef build_mlp():\n    return 784",
    "def build_mlp():\r\n    return 784\r\n",
    "def build_mlp():\n\treturn 784",
    "크기 = 784\ndef build_mlp():\n    \"\"\"한국어 설명\"\"\"\n    return 크기",
], ids=["cell-magic", "line-magic", "computed-constant", "top-level-if", "top-level-try", "top-level-for", "shell",
        "matplotlib-inline", "crlf", "tabs", "unicode"])
def test_every_cell_runs_as_a_kernel_runs_it(source):
    _, run = _run(_nb(source, _check_cell()))
    assert [o.status for o in run.outcomes] == ["ok"], run.outcomes
    assert run.functions["build_mlp"]() == 784


def test_a_helper_in_a_cell_of_its_own_and_an_answer_below_the_untouched_stub_count():
    nb = _nb("def width():\n    return 784",
             _solution("def build_mlp():\n    raise NotImplementedError()"),
             "def build_mlp():\n    return width()",
             _check_cell())
    _, run = _run(nb)
    assert run.functions["build_mlp"]() == 784


def test_a_cell_that_raises_keeps_what_it_defined_before_the_error():
    plan, run = _run(_nb("def build_mlp():\n    return 784\nundefined_name + 1\nLATER = 1", _check_cell()))
    (outcome,) = run.outcomes
    assert outcome.status == "raised" and outcome.error["type"] == "NameError" and outcome.error["line"] == 3
    assert run.functions["build_mlp"]() == 784 and "LATER" not in run.namespace
    assert "cell 1 raised NameError at line 3: name 'undefined_name' is not defined; what it defined before the " \
           "error was kept" == str(cell_problem(outcome, 30))


def test_a_cell_past_its_time_limit_is_stopped_and_keeps_what_it_defined_before():
    nb = _nb("def build_mlp():\n    return 784\nimport time\nwhile True:\n    time.sleep(0.01)", "AFTER = 1",
             _check_cell())
    _, run = _run(nb, timeout=0.5)
    assert [o.status for o in run.outcomes] == ["stopped", "ok"] and run.namespace["AFTER"] == 1
    assert run.functions["build_mlp"]() == 784
    assert str(cell_problem(run.outcomes[0], 0.5)).startswith("cell 1 was stopped after 1 s (limits.cell_timeout_s is 0.5 s)")


def test_a_cell_that_catches_exception_is_still_stopped():
    _, run = _run(_nb("import time\nwhile True:\n    try:\n        time.sleep(0.01)\n    except Exception:\n        pass"),
                  timeout=0.3)
    assert [o.status for o in run.outcomes] == ["stopped"]


def test_exit_in_a_cell_is_its_error_not_the_end_of_the_run():
    _, run = _run(_nb("import sys\nsys.exit(3)", "def build_mlp():\n    return 784", _check_cell()))
    assert [o.status for o in run.outcomes] == ["raised", "ok"] and run.outcomes[0].error["type"] == "SystemExit"
    assert run.functions["build_mlp"]() == 784


def test_the_runner_leaves_this_process_as_it_found_it():
    main, hooks = sys.modules["__main__"], (sys.excepthook, sys.displayhook)
    _run(_nb("x = 1\nx"))
    assert sys.modules["__main__"] is main and (sys.excepthook, sys.displayhook) == hooks


# ---------------------------------------------------------------- where a group's functions are taken, and why one is missing


def test_a_definition_below_its_check_cell_does_not_count_and_the_reason_says_so():
    nb = _nb(_solution("def build_mlp():\n    raise NotImplementedError()"), _check_cell(), "def build_mlp():\n    return 784")
    plan, run = _run(nb)
    with pytest.raises(NotImplementedError, match="^$"):  # the stub (no message) is what the check cell sees
        run.functions["build_mlp"]()
    nb = _nb(_check_cell(), "def build_mlp():\n    return 784")
    plan, run = _run(nb)
    assert run.functions["build_mlp"] is None
    reason = str(why_missing("build_mlp", plan, run.outcomes, call_checkpoints(plan, MLP)["build_mlp"]))
    assert reason == ("build_mlp is defined only in cell 2, below its check cell (cell 1): in Jupyter and under nbgrader "
                      "the check cell runs before it. Hint: move the definition above the check cell.")


def test_the_reason_names_the_cell_that_raised_before_the_definition():
    plan, run = _run(_nb("import keras.utils.np_utils\ndef build_mlp():\n    return 784", _check_cell()))
    reason = str(why_missing("build_mlp", plan, run.outcomes, 2))
    assert reason.startswith("build_mlp is defined in cell 1 at line 2, but the cell raised ModuleNotFoundError at line 1")
    assert "syntax error" not in reason


def test_the_reason_names_a_syntax_error_only_when_there_is_one():
    plan, run = _run(_nb("def build_mlp(:\n    return 784", _check_cell()))
    reason = str(why_missing("build_mlp", plan, run.outcomes, 2))
    assert reason.startswith("build_mlp is defined in cell 1, which has a syntax error (line 1: ")
    plan, run = _run(_nb("x = 1", _check_cell()))
    assert str(why_missing("build_mlp", plan, run.outcomes, 2)) == (
        "build_mlp is not defined in the notebook. Hint: keep the function's name and arguments as the stub has them.")


def test_the_reason_names_a_cell_that_was_stopped_before_the_definition():
    plan, run = _run(_nb("import time\ntime.sleep(5)\ndef build_mlp():\n    return 784", _check_cell()), timeout=0.3)
    assert str(why_missing("build_mlp", plan, run.outcomes, 2)).startswith(
        "build_mlp is defined in cell 1, which was stopped after 0 s, before it reached the definition (line 3).")


def recording_into(results: dict):
    """A ``call`` for run_notebook that keeps what each probe's function returned, or its NameError's text."""

    def call(w, function):
        try:
            results[w.probe] = function()
        except NameError as exc:
            results[w.probe] = str(exc)

    return call


def test_each_group_calls_its_functions_where_its_own_check_cell_runs():
    # build_mlp is fixed below test_mlp, and its helper defined only then: nbgrader's test_mlp fails, its
    # accuracy cell at the end passes. The calls are made at each group's check cell, with the state there.
    nb = _nb(_solution("def build_mlp():\n    return width()"), _check_cell(),
             "def width():\n    return 784", _check_cell("accuracy", ("build_mlp", "compile_model")))
    wanted = [Wanted("build_mlp", "mlp", "build_mlp"), Wanted("build_mlp_for_accuracy", "accuracy", "build_mlp")]
    plan = plan_notebook(nb)
    assert call_checkpoints(plan, wanted) == {"build_mlp": 2, "build_mlp_for_accuracy": 4}
    results = {}
    call = recording_into(results)

    _run(nb, wanted, call=call)
    assert results == {"build_mlp": "name 'width' is not defined", "build_mlp_for_accuracy": 784}


def test_the_data_cells_names_are_bound_where_it_stands_so_the_accuracy_cells_see_them_as_in_jupyter():
    # Issue 28.2: build_cnn reads x_train_cnn, which the provided data cell (not run) defines below test_cnn.
    nb = _nb(_solution("def build_cnn():\n    return x_train_cnn.shape[1:], EPOCHS", "build_cnn"),
             _check_cell("cnn", ("build_cnn",)),
             new_code_cell("x_train_cnn, x_val_cnn = (prepare_cnn_input(x) for x in (x_train, x_val))\n"
                           "EPOCHS = training_epochs()", metadata=_meta("load_data")),
             _check_cell("accuracy", ("build_cnn", "compile_model")))
    wanted = [Wanted("build_cnn", "cnn", "build_cnn"), Wanted("build_cnn_for_accuracy", "accuracy", "build_cnn")]
    plan = plan_notebook(nb)
    assert [c.kind for c in plan] == [STUDENT, CHECK, PROVIDED_NOT_RUN, CHECK]
    assert data_cell.needed(plan, wanted) and not data_cell.needed(plan, wanted[:1])
    results = {}
    call = recording_into(results)

    stand_ins = {"x_train_cnn": np.zeros((3, 28, 28, 1), np.float32), "EPOCHS": 30, "x_train": np.zeros((3, 28, 28))}
    run = run_notebook(plan, wanted, 30.0, call=call, stand_ins=stand_ins)
    assert results == {"build_cnn": "name 'x_train_cnn' is not defined", "build_cnn_for_accuracy": ((28, 28, 1), 30)}
    assert "x_train" not in run.namespace  # only what that cell assigns


def test_the_stand_ins_are_the_release_data_cells_names_made_as_it_makes_them(sample_config):
    from autograder.support.mnist import load_dataset

    release = nbformat.read(RELEASE, as_version=4)
    source = next(c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "load_data")
    assert data_cell.assigned_names(source) - {"dataset"} == set(data_cell.NAMES)
    dataset = load_dataset("sample")
    arrays = data_cell.stand_in_arrays(dataset, dataset.n_val, sample_config.training)
    values = data_cell.from_inputs({f"{data_cell.INPUTS_KEY}__{k}": v for k, v in arrays.items()} | {"p__x": 0})
    assert set(values) == set(data_cell.NAMES)
    n = data_cell.STAND_IN_IMAGES
    assert values["x_train_cnn"].shape == values["x_val_cnn"].shape == (n, 28, 28, 1)
    assert values["x_test_mlp"].shape == (n, 784) and values["x_train_mlp"].dtype == np.float32
    assert values["x_train"].dtype == dataset.x_train.dtype and values["y_val"].tolist() == (
        dataset.y_train[len(dataset.x_train) - dataset.n_val:][:n] % 2).tolist()
    assert (values["EPOCHS"], values["BATCH_SIZE"], values["VERBOSE"]) == (
        sample_config.training.epochs, sample_config.training.batch_size, "auto")


# ---------------------------------------------------------------- what comes back from the submission's process


def test_outcomes_read_back_are_checked_field_by_field():
    kinds = {1: STUDENT, 2: CHECK}
    good = {"outcomes": [CellOutcome(1, "raised", 0.5, {"type": "E", "message": "m", "where": [], "line": 2}).to_data()]}
    assert outcomes_from_data(good, kinds)[0].error["line"] == 2
    not_written = "a cell outcome is not one the grader wrote"
    not_a_list = "notebook.json is not a list of cell outcomes"
    for forged, refusal in (({"outcomes": [{"cell": 2, "status": "ok", "seconds": 0}]}, not_written),  # not run
                            ({"outcomes": [{"cell": 1, "status": "passed", "seconds": 0}]}, not_written),
                            ({"outcomes": [{"cell": "1", "status": "ok", "seconds": 0}]}, not_written),
                            ({"outcomes": [{"cell": 1, "status": "ok", "seconds": 0, "error": "x"}]},
                             "a cell's error is not a mapping"),
                            ({"outcomes": "all fine"}, not_a_list), ([1], not_a_list)):
        with pytest.raises(ValueError, match=f"^{re.escape(refusal)}$"):
            outcomes_from_data(forged, kinds)
