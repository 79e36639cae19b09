"""Example submissions for the demo and the round-trip tests, made from the release notebook.

Each example fills the release's answer cells with the reference code, except for the functions
it replaces with a known bug; so the examples never drift from the assignment.
"""

from __future__ import annotations

import copy
import inspect

import nbformat

from autograder.grader import reference

_RELABEL_INVERTED = '''def relabel_odd_even(y):
    return 1 - y % 2  # bug: odd and even swapped
'''


def reference_source(name: str) -> str:
    """The reference function's source without nbgrader's solution markers (what a student writes)."""
    lines = inspect.getsource(getattr(reference, name)).splitlines()
    return "\n".join(line for line in lines if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def _cnn_with_softmax_output() -> str:
    source = reference_source("build_cnn")
    last = 'layers.Dense(1, activation="sigmoid"),'
    if last not in source:
        raise RuntimeError("reference.build_cnn no longer ends in Dense(1, sigmoid): update this example")
    return source.replace(last, 'layers.Dense(1, activation="softmax"),  # bug: softmax over one unit is always 1.0')


# A correct submission written the way the lecture's code is: Sequential().add(...) with
# input_dim=/input_shape= on the first layer (Keras warns about it), string optimizer, x.shape[0].
LECTURE_STYLE: dict[str, str] = {
    "relabel_odd_even": """def relabel_odd_even(y):
    return np.where(y % 2 == 1, 1, 0)""",
    "split_train_val": """def split_train_val(x, y, n_val=10000):
    x_train, x_val = x[:-n_val], x[-n_val:]
    y_train, y_val = y[:-n_val], y[-n_val:]
    return x_train, y_train, x_val, y_val""",
    "prepare_mlp_input": """def prepare_mlp_input(x):
    return x.reshape(x.shape[0], 784).astype('float32') / 255""",
    "prepare_cnn_input": """def prepare_cnn_input(x):
    return x.reshape(x.shape[0], 28, 28, 1).astype('float32') / 255""",
    "build_mlp": """from keras.models import Sequential
from keras.layers import Dense, Conv2D, MaxPooling2D, Flatten, Dropout


def build_mlp():
    model = Sequential()
    model.add(Dense(256, input_dim=784, activation='relu'))
    model.add(Dense(256, activation='relu'))
    model.add(Dense(256, activation='relu'))
    model.add(Dense(1, activation='sigmoid'))
    return model""",
    "build_cnn": """def build_cnn():
    model = Sequential()
    model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(32, (3, 3), activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(256, activation='relu'))
    model.add(Dense(1, activation='sigmoid'))
    return model""",
    "build_deep_cnn": """def build_deep_cnn():
    model = Sequential()
    model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(Conv2D(32, (3, 3), activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Conv2D(64, (3, 3), activation='relu'))
    model.add(Conv2D(64, (3, 3), activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(256, activation='relu'))
    model.add(Dropout(0.5))
    model.add(Dense(1, activation='sigmoid'))
    return model""",
    "compile_model": """def compile_model(model):
    model.compile(loss='binary_crossentropy', optimizer='sgd', metrics=['accuracy'])
    return model""",
}

# student name -> {function name: replacement source}; None = the untouched release (all stubs).
EXAMPLES: dict[str, dict[str, str] | None] = {
    "ada_complete": {},
    "ben_relabel_inverted": {"relabel_odd_even": _RELABEL_INVERTED},
    "cleo_cnn_softmax": {"build_cnn": _cnn_with_softmax_output()},
    "dan_untouched_stubs": None,
    "eli_lecture_style": LECTURE_STYLE,
}


def filled_release(release: nbformat.NotebookNode, replacements: dict[str, str] | None) -> nbformat.NotebookNode:
    """A copy of the release with every answer cell filled in (reference code or a replacement)."""
    nb = copy.deepcopy(release)
    if replacements is None:
        return nb
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in reference.FUNCTION_NAMES:
            name = meta["grade_id"]
            cell.source = replacements.get(name, reference_source(name)).rstrip()
    return nb
