"""The grading protocol: train a model on the trusted data pipeline and measure its test accuracy.

The student's model is rebuilt from its config with fresh, seeded weights (``clone_model``), so
the same submission and seed give the same training run. Data always goes through the grader's
own pipeline (the lecture's relabelling, split and scaling, written here and tested equal to the
reference's), never the student's, so a wrong ``relabel``/``split``/``prepare`` costs only its own
group. Part of the student wing: the visible accuracy checks train under this protocol too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from autograder.expected import prepared_image_shape
from autograder.support.config import GradingProtocol
from autograder.evidence.training_outcome import INPUT_KIND, TrainingOutcome


@dataclass(frozen=True)
class GradingData:
    """The reference pipeline's arrays for grading: a training subset and the full test set."""

    x_train: dict[str, np.ndarray]
    y_train: np.ndarray
    x_test: dict[str, np.ndarray]
    y_test: np.ndarray

    @property
    def chance_accuracy(self) -> float:
        """Accuracy of always predicting the more common class of the test set."""
        odd = float(np.mean(self.y_test))
        return max(odd, 1 - odd)


def _odd_labels(y: np.ndarray) -> np.ndarray:
    # The binary task's labels: 1 for an odd digit, 0 for an even one.
    return np.remainder(np.asarray(y), 2)


def _scaled_input(x: np.ndarray, kind: str) -> np.ndarray:
    # The models' input: pixels / 255 as float32, shaped as the lecture's models take them.
    function = "prepare_mlp_input" if kind == "mlp" else "prepare_cnn_input"
    return (np.asarray(x).reshape((len(x), *prepared_image_shape(function))) / 255).astype("float32")


def grading_data(dataset, protocol: GradingProtocol, n_val: int) -> GradingData:
    """Relabel, split and prepare the data set with the trusted pipeline (the first ``n_train`` training images)."""
    # The training split is the first len - n_val images; grading trains on its first n_train.
    n_train = min(protocol.n_train, len(dataset.x_train) - n_val)
    x_train, y_train = dataset.x_train[:n_train], _odd_labels(dataset.y_train[:n_train])
    # An evenly spaced subset keeps every part of the test set (its writers differ from start to end).
    picked = np.linspace(0, len(dataset.x_test) - 1, min(protocol.n_test or len(dataset.x_test), len(dataset.x_test)))
    picked = np.unique(picked.round().astype(int))
    x_test, y_test = dataset.x_test[picked], dataset.y_test[picked]
    return GradingData(
        x_train={kind: _scaled_input(x_train, kind) for kind in ("mlp", "cnn")},
        y_train=y_train.astype("float32"),
        x_test={kind: _scaled_input(x_test, kind) for kind in ("mlp", "cnn")},
        y_test=_odd_labels(y_test).astype("float32"),
    )


def make_optimizer(protocol: GradingProtocol, steps: int):
    """The protocol's optimizer; with the cosine schedule its learning rate reaches 0 at the last step."""
    import keras

    rate = protocol.learning_rate
    if protocol.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(protocol.learning_rate, decay_steps=max(1, steps))
    if protocol.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=rate)
    return keras.optimizers.SGD(learning_rate=rate, momentum=protocol.momentum)


def apply_determinism(protocol: GradingProtocol) -> None:
    """Turn on TensorFlow's op determinism when the protocol asks for it (a process-wide switch)."""
    if protocol.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def train_and_evaluate(model, builder: str, data: GradingData, protocol: GradingProtocol, seed: int,
                       loss: str = "binary_crossentropy", train: bool = True,
                       timeout_s: float | None = None, keep_weights: bool = False) -> TrainingOutcome:
    """Train a fresh, seeded copy of ``model`` under the protocol and evaluate it on the test set.

    It is always compiled the reference way (binary cross-entropy, the protocol's optimizer,
    accuracy): compile_model is graded by its own group, and the protocol fixes the optimizer so
    that the calibrated thresholds apply. ``loss`` and ``train=False`` exist to measure broken
    variants (autograder.dev.broken), never to grade.
    """
    import keras

    outcome = TrainingOutcome(builder, seed)
    started = time.perf_counter()
    kind = INPUT_KIND[builder]
    try:
        apply_determinism(protocol)
        keras.utils.set_random_seed(seed)
        fresh = keras.models.clone_model(model)
        if not fresh.built:
            # A model without an input shape (Keras would build it on its first batch) is built for the
            # lecture's input here, so that its weights are seeded like any other model's.
            fresh.build((None, *data.x_train[kind].shape[1:]))
        steps = protocol.epochs * -(-len(data.y_train) // protocol.batch_size)
        fresh.compile(loss=loss, optimizer=make_optimizer(protocol, steps), metrics=["accuracy"])
        curve = _batch_curve(every=max(1, steps // 50), timeout_s=timeout_s)
        history = fresh.fit(data.x_train[kind], data.y_train, epochs=protocol.epochs if train else 0,
                            batch_size=protocol.batch_size, shuffle=True, verbose=0, callbacks=[curve])
        if curve.timed_out:
            outcome.error = (f"training ran past the time limit of {timeout_s:g} s (limits.training_timeout_s) "
                             f"after {curve.step} of {steps} steps")
            outcome.seconds = time.perf_counter() - started
            return outcome
        # One pass over the test images gives the accuracy, the loss and the report's predictions.
        outputs = _test_probabilities(fresh, data.x_test[kind])
        if outputs is None:
            raise ValueError("the trained model cannot predict the test images")
        y = data.y_test[:, None]
        clipped = np.clip(outputs, 1e-7, 1 - 1e-7)
        # As Keras' binary accuracy and cross-entropy: every output unit against the 0/1 label.
        outcome.accuracy = float(np.mean((outputs > 0.5) == (y > 0.5)))
        outcome.loss = float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))
        outcome.test_probabilities = outputs[:, 0]
        if keep_weights:
            outcome.weights = fresh.get_weights()
        outcome.history = {k: [float(v) for v in vs] for k, vs in history.history.items()}
        outcome.history.update(curve.points)
        if not np.isfinite(outcome.accuracy):
            outcome.error = "the test accuracy is not a number (did the loss diverge to NaN?)"
    except Exception as exc:  # a student model that cannot train is a grading outcome, not a crash
        outcome.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:400] if str(exc).strip() else ''}"
    outcome.seconds = time.perf_counter() - started
    return outcome


def _test_probabilities(model, x_test: np.ndarray) -> np.ndarray | None:
    """The model's outputs for the test images, one row per image (None when it cannot predict)."""
    try:
        return np.asarray(model.predict(x_test, batch_size=1000, verbose=0), dtype=np.float32).reshape(len(x_test), -1)
    except Exception:
        return None


def _batch_curve(every: int, timeout_s: float | None = None):
    """A callback recording the running loss and accuracy every ``every`` steps (one epoch still draws
    a curve), and stopping the training once it runs past ``timeout_s``."""
    import keras

    class BatchCurve(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.step, self.timed_out = 0, False
            self.started = time.perf_counter()
            self.points: dict[str, list[float]] = {"step": [], "step_loss": [], "step_accuracy": []}

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if timeout_s is not None and time.perf_counter() - self.started > timeout_s:
                self.timed_out = True
                self.model.stop_training = True
            if self.step % every == 0 and logs:
                self.points["step"].append(self.step)
                self.points["step_loss"].append(float(logs.get("loss", np.nan)))
                self.points["step_accuracy"].append(float(logs.get("accuracy", np.nan)))

    return BatchCurve()
