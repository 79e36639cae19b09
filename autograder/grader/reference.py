"""The reference solution: the lecture's code, the single source of truth.

The solutions notebook's answer cells are generated from these functions (see
``autograder.course.source_notebook``), including the ``### BEGIN/END SOLUTION`` markers that nbgrader
replaces with stubs in the student release. The grader uses the same functions as its trusted
data pipeline and as the expected architectures.
"""

import numpy as np
import keras
from keras import layers


def relabel_odd_even(y):
    """Return an array shaped like y: 1 where the digit is odd, 0 where it is even (y unchanged)."""
    ### BEGIN SOLUTION
    return np.asarray(y) % 2
    ### END SOLUTION


def split_train_val(x, y, n_val=10000):
    """Return (x_train, y_train, x_val, y_val): the last n_val samples become validation, order kept."""
    ### BEGIN SOLUTION
    n_train = len(x) - n_val
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    ### END SOLUTION


def prepare_mlp_input(x):
    """Return x as float32 of shape (n, 784) with values in [0, 1], for any number of images n."""
    ### BEGIN SOLUTION
    return (np.asarray(x).reshape(len(x), 28 * 28) / 255).astype("float32")
    ### END SOLUTION


def prepare_cnn_input(x):
    """Return x as float32 of shape (n, 28, 28, 1) with values in [0, 1], for any number of images n."""
    ### BEGIN SOLUTION
    return (np.asarray(x).reshape(len(x), 28, 28, 1) / 255).astype("float32")
    ### END SOLUTION


def build_mlp():
    """Return the lecture's MLP (uncompiled): 784 → 256 → 256 → 256 → 1 (sigmoid)."""
    ### BEGIN SOLUTION
    return keras.Sequential([
        keras.Input(shape=(784,)),
        layers.Dense(256, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    ### END SOLUTION


def build_cnn():
    """Return the lecture's CNN (uncompiled): two Conv2D(32)+MaxPooling2D blocks, Dense(256), Dense(1, sigmoid)."""
    ### BEGIN SOLUTION
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(256, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    ### END SOLUTION


def build_deep_cnn():
    """Return the lecture's deep CNN with Dropout (uncompiled)."""
    ### BEGIN SOLUTION
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Dropout(0.25),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(1, activation="sigmoid"),
    ])
    ### END SOLUTION


def compile_model(model):
    """Compile model with binary cross-entropy, SGD and the accuracy metric; return it."""
    ### BEGIN SOLUTION
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])
    return model
    ### END SOLUTION


# The student API, in the order the notebook asks for it.
STUDENT_FUNCTIONS = (
    relabel_odd_even,
    split_train_val,
    prepare_mlp_input,
    prepare_cnn_input,
    build_mlp,
    build_cnn,
    build_deep_cnn,
    compile_model,
)
FUNCTION_NAMES = tuple(f.__name__ for f in STUDENT_FUNCTIONS)
