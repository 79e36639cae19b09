"""The names the provided data cell defines, bound where that cell stands, since the runner does not run it.

In Jupyter and under nbgrader the cell that loads the data (``load_data``: ``x_train, y_train, x_val, ...,
x_train_mlp, x_train_cnn, EPOCHS``) runs before the accuracy check cells, so a builder that reads one of its names
(``keras.Input(shape=x_train_cnn.shape[1:])``) works there, and fails at its own check cell above the data cell.
``grade`` and the self-check do not run that cell (it loads MNIST and trains nothing the checks need); instead the
runner binds its names where it stands (``notebook_runner.run_notebook``'s ``stand_ins``), so every path sees the
same names at the same cells. The values are the first ``STAND_IN_IMAGES`` images of each part of the grader's own
data, relabelled, split and prepared by the trusted pipeline (``training``), in the dtypes and shapes the lecture's
functions give: enough for code that reads their shapes, and no MNIST in the submission's process (the grader sends
them in ``inputs.npz`` under ``INPUTS_KEY``). ``dataset`` (the data set object) is not bound.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from autograder.engine.training import _odd_labels, _scaled_input

# Images per part: code reads the arrays' shapes and dtypes, not their length, and the arrays travel to the
# submission's process in every grading (about 2 MB at 100).
STAND_IN_IMAGES = 100
# Their name in the inputs the grader sends the submission's process: ``provided_data_cell__x_train_cnn``.
INPUTS_KEY = "provided_data_cell"
# The names the release's data cell defines (course/source_notebook.py's _LOAD), ``dataset`` aside.
NAMES = ("x_train_all", "y_train_all", "x_test", "y_test", "x_train", "y_train", "x_val", "y_val",
         "x_train_mlp", "x_val_mlp", "x_test_mlp", "x_train_cnn", "x_val_cnn", "x_test_cnn",
         "EPOCHS", "BATCH_SIZE", "VERBOSE")


def assigned_names(source: str) -> set[str]:
    """The names a cell assigns at its top level (``a, (b, c) = ...`` included)."""
    from autograder.engine.notebook_runner import as_python

    tree = as_python(source)
    names: set[str] = set()

    def take(target) -> None:
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                take(element)
        elif isinstance(target, ast.Starred):
            take(target.value)

    for node in tree.body if tree is not None else ():
        for target in node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, (ast.AnnAssign, ast.AugAssign)) else []:
            take(target)
    return names


def stand_in_arrays(dataset, n_val: int, training) -> dict[str, np.ndarray]:
    """The data cell's names as arrays (constants as 0-d arrays), made from ``dataset`` as the cell makes them
    outside nbgrader, the first ``STAND_IN_IMAGES`` of each part. ``training``: course.yml's ``training``."""
    k = STAND_IN_IMAGES
    cut = len(dataset.x_train) - n_val
    raw = {"train_all": (dataset.x_train[:k], dataset.y_train[:k]),
           "train": (dataset.x_train[:min(k, cut)], dataset.y_train[:min(k, cut)]),
           "val": (dataset.x_train[cut:cut + k], dataset.y_train[cut:cut + k]),
           "test": (dataset.x_test[:k], dataset.y_test[:k])}
    arrays = {}
    for part, (x, y) in raw.items():
        arrays[f"x_{part}"], arrays[f"y_{part}"] = np.array(x), _odd_labels(y)
        if part != "train_all":
            for kind in ("mlp", "cnn"):
                arrays[f"x_{part}_{kind}"] = _scaled_input(x, kind)
    # The cell's training_epochs(), training_batch_size() and training_verbosity() outside nbgrader.
    arrays.update(EPOCHS=np.asarray(training.epochs), BATCH_SIZE=np.asarray(training.batch_size),
                  VERBOSE=np.asarray("auto"))
    return {name: arrays[name] for name in NAMES}


def as_inputs(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The stand-ins as an entry of the inputs the grader sends the submission's process."""
    return {INPUTS_KEY: dict(arrays)}


def from_inputs(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    """The values to bind, from the submission's process's inputs (``inputs.npz``'s ``provided_data_cell__NAME``)."""
    prefix = f"{INPUTS_KEY}__"
    return bindable({key[len(prefix):]: value for key, value in inputs.items() if key.startswith(prefix)})


def bindable(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The values to bind: arrays as they are, a constant (a 0-d array) as the Python value the cell gives it."""
    return {name: value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value
            for name, value in arrays.items() if name in NAMES}


def needed(plan, wanted) -> bool:
    """Whether a wanted call is made below a provided cell that the runner does not run and that defines some of
    these names (the data cell): only then is the data set loaded for them."""
    from autograder.engine.notebook_runner import PROVIDED_NOT_RUN, call_checkpoints

    cells = [c.cell for c in plan if c.kind == PROVIDED_NOT_RUN and assigned_names(c.source) & set(NAMES)]
    at = call_checkpoints(plan, wanted).values()
    return any(where == 0 or where > cell for cell in cells for where in at)
