"""``python -m autograder reproduce``: the lecture's full training protocol for the three reference models.

SGD (Keras' default learning rate 0.01), batch 32, 30 epochs, 50,000 training / 10,000 validation /
10,000 test images, exactly as the reference notebook's training cells. It prints the test
accuracies next to the lecture's published ones, saves each model's curves on twin axes as PNG,
and reports the epoch of minimum validation loss (after which a model overfits). It uses the GPU
when the Keras backend sees one; it only needs Keras, so it runs on any Keras backend.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from autograder.grader import reference
from autograder.evidence.training_outcome import INPUT_KIND

# The lecture's published test accuracies after 30 epochs (lecture notebook, last cell of each model).
LECTURE_TEST_ACCURACY = {"build_mlp": 0.9866, "build_cnn": 0.9882, "build_deep_cnn": 0.9962}
MODEL_TITLES = {"build_mlp": "MLP", "build_cnn": "CNN", "build_deep_cnn": "deep CNN (Dropout)"}


@dataclass
class ReproducedModel:
    builder: str
    test_accuracy: float
    test_loss: float
    history: dict[str, list[float]]
    seconds: float
    curves_png: str = ""

    @property
    def lecture_accuracy(self) -> float:
        return LECTURE_TEST_ACCURACY[self.builder]

    @property
    def best_epoch(self) -> int:
        """The epoch (1-based) of minimum validation loss."""
        return int(np.argmin(self.history["val_loss"])) + 1

    @property
    def overfitting_note(self) -> str:
        epochs = len(self.history["val_loss"])
        best, last = min(self.history["val_loss"]), self.history["val_loss"][-1]
        if self.best_epoch == epochs:
            return f"no overfitting within {epochs} epochs (validation loss still falling)"
        return (f"overfits after epoch {self.best_epoch}: validation loss {best:.4f} there, "
                f"{last:.4f} at epoch {epochs} ({(last / best - 1) * 100:+.0f}%)")


@dataclass
class Reproduction:
    device: str
    backend: str
    epochs: int
    batch_size: int
    seed: int
    data: str
    models: list[ReproducedModel] = field(default_factory=list)

    def to_table(self) -> str:
        """A Markdown table: one row per model, the lecture's accuracy beside the reproduced one."""
        rows = ["| model | lecture test acc. | reproduced test acc. | difference | min val loss at epoch | "
                "training time |", "|---|---|---|---|---|---|"]
        for m in self.models:
            rows.append(f"| {MODEL_TITLES[m.builder]} | {m.lecture_accuracy:.4f} | {m.test_accuracy:.4f} | "
                        f"{m.test_accuracy - m.lecture_accuracy:+.4f} | {m.best_epoch} of {self.epochs} | "
                        f"{duration(m.seconds)} |")
        return "\n".join(rows)

    def to_dict(self) -> dict:
        out = asdict(self)
        for m, d in zip(self.models, out["models"]):
            d.update(lecture_accuracy=m.lecture_accuracy, best_epoch=m.best_epoch, overfitting=m.overfitting_note)
        return out


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def describe_device() -> str:
    """The accelerator the Keras backend will train on, or the CPU."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                return f"GPU ({details.get('device_name', gpus[0].name)})"
        elif backend == "jax":
            import jax

            gpus = [d for d in jax.devices() if d.platform == "gpu"]
            if gpus:
                return f"GPU ({gpus[0].device_kind})"
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return f"GPU ({torch.cuda.get_device_name(0)})"
    except Exception as exc:  # a broken driver setup means training falls back to the CPU
        return f"CPU (GPU query failed: {type(exc).__name__})"
    import os

    return f"CPU ({os.cpu_count()} cores)"


def _progress_callback(builder: str, epochs: int):
    """One progress bar per model, advancing per epoch and showing the epoch's metrics."""
    import keras

    class EpochBar(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            print(f"{MODEL_TITLES[builder]}:")
            self.bar = keras.utils.Progbar(epochs, stateful_metrics=["loss", "accuracy", "val_loss", "val_accuracy"],
                                           unit_name="epoch")

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            self.bar.update(epoch + 1, values=[(k, logs[k]) for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                                               if k in logs])

        def on_train_end(self, logs=None):
            print()

    return EpochBar()


def plot_curves(model: ReproducedModel, path: Path) -> Path:
    """The lecture's figure: loss (left axis) and accuracy (right axis), training and validation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    h = model.history
    epochs = range(1, len(h["loss"]) + 1)
    fig, ax_loss = plt.subplots(figsize=(7, 4))
    ax_acc = ax_loss.twinx()
    ax_loss.plot(epochs, h["loss"], "y", label="train loss")
    ax_loss.plot(epochs, h["val_loss"], "r", label="val loss")
    ax_acc.plot(epochs, h["accuracy"], "b", label="train acc")
    ax_acc.plot(epochs, h["val_accuracy"], "g", label="val acc")
    ax_loss.axvline(model.best_epoch, color="grey", linestyle=":", label=f"min val loss (epoch {model.best_epoch})")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    ax_acc.set_ylabel("accuracy")
    ax_loss.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles = ax_loss.get_legend_handles_labels()[0] + ax_acc.get_legend_handles_labels()[0]
    ax_loss.legend(handles, [hd.get_label() for hd in handles], loc="center right", fontsize=8)
    ax_loss.set_title(f"{MODEL_TITLES[model.builder]}: test accuracy {model.test_accuracy:.4f} "
                      f"(lecture {model.lecture_accuracy:.4f})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def reproduce(dataset, builders: tuple[str, ...], epochs: int, batch_size: int, seed: int, output: Path,
              n_val: int, log: Callable[[str], None] = print) -> Reproduction:
    """Train each reference model the lecture's way and evaluate it on the test set."""
    import keras

    output.mkdir(parents=True, exist_ok=True)
    y_all = reference.relabel_odd_even(dataset.y_train)
    x_train, y_train, x_val, y_val = reference.split_train_val(dataset.x_train, y_all, n_val=n_val)
    y_test = reference.relabel_odd_even(dataset.y_test)
    prepare = {"mlp": reference.prepare_mlp_input, "cnn": reference.prepare_cnn_input}
    result = Reproduction(describe_device(), keras.backend.backend(), epochs, batch_size, seed,
                          f"{dataset.description}: {len(y_train)} train / {len(y_val)} validation / {len(y_test)} test")
    log(f"reproducing the lecture on {result.device} (Keras backend {result.backend}); {result.data}")
    for builder in builders:
        kind = INPUT_KIND[builder]
        keras.utils.set_random_seed(seed)
        model = reference.compile_model(getattr(reference, builder)())
        started = time.perf_counter()
        history = model.fit(prepare[kind](x_train), y_train, epochs=epochs, batch_size=batch_size, verbose=0,
                            validation_data=(prepare[kind](x_val), y_val),
                            callbacks=[_progress_callback(builder, epochs)])
        seconds = time.perf_counter() - started
        test_loss, test_accuracy = model.evaluate(prepare[kind](dataset.x_test), y_test, batch_size=1000, verbose=0)
        done = ReproducedModel(builder, float(test_accuracy), float(test_loss),
                               {k: [float(v) for v in vs] for k, vs in history.history.items()}, seconds)
        done.curves_png = str(plot_curves(done, output / f"{builder}_curves.png"))
        log(f"  {MODEL_TITLES[builder]}: test accuracy {done.test_accuracy:.4f} (lecture {done.lecture_accuracy:.4f}), "
            f"{duration(seconds)}; {done.overfitting_note}; curves: {done.curves_png}")
        result.models.append(done)
    (output / "reproduce.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result
