"""What one training run under the grading protocol gave, as the accuracy check and the grade see it.

A ``TrainingOutcome`` is a run's result (``autograder.engine.training.train_and_evaluate`` makes it), and a
``ProtocolTraining`` that result with the bar it must reach, which a ``Call`` hands the accuracy check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from autograder.messages.i18n import Message

# Which prepared input each builder's model takes (the reference pipeline's choice, not the student's).
INPUT_KIND = {"build_mlp": "mlp", "build_cnn": "cnn", "build_deep_cnn": "cnn"}
BUILDERS = tuple(INPUT_KIND)


@dataclass
class TrainingOutcome:
    """One training run under the protocol."""

    builder: str
    seed: int
    accuracy: float | None = None
    loss: float | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    # Predicted probability of 'odd' for each test image (float32), for the report's prediction grid.
    test_probabilities: np.ndarray | None = field(default=None, repr=False)
    # The trained weights (``model.get_weights()``), kept only when asked: the notebook's training cells show
    # the graded run's model under nbgrader (``autograder.notebook.train_as_graded``).
    weights: list[np.ndarray] | None = field(default=None, repr=False)
    # What the training depends on, of the model (``check_session.training_key``): under it the class's training
    # cache files the outcome. None when the model's config cannot be read (it then trains every time).
    key: str | None = field(default=None, repr=False)
    # Not trained for this submission: an earlier training of the same model (``key``), for another submission,
    # by this model process or from the class's training cache (grade-all); ``seconds`` is that training's.
    reused: bool = False

    def to_dict(self) -> dict:
        """Plain JSON data of what a grade records of the run: builder, seed, accuracy, loss, curves, seconds,
        error. The test predictions and the weights are the report's and the notebook's, not the grade's."""
        number = lambda v: None if v is None else float(v)  # noqa: E731 (numpy scalars are not JSON)
        return {"builder": self.builder, "seed": int(self.seed), "accuracy": number(self.accuracy),
                "loss": number(self.loss), "history": {k: [float(x) for x in v] for k, v in self.history.items()},
                "seconds": float(self.seconds), "error": self.error}

    @classmethod
    def from_dict(cls, data) -> "TrainingOutcome":
        """A run from ``to_dict``'s data; ValueError for anything else (a record may have been edited)."""
        if not isinstance(data, dict) or not isinstance(data.get("builder"), str):
            raise ValueError("a training run must be a mapping that names its builder")
        history = data.get("history") or {}
        if not isinstance(history, dict) or not all(isinstance(k, str) and isinstance(v, list)
                                                    and all(_is_number(x) for x in v) for k, v in history.items()):
            raise ValueError("a training history must map names to lists of numbers")
        numbers = {k: data.get(k) for k in ("accuracy", "loss", "seconds")}
        if not all(v is None or _is_number(v) for v in numbers.values()) or type(data.get("seed")) is not int:
            raise ValueError("a training run's seed must be a whole number and its accuracy, loss and seconds numbers")
        if data.get("error") is not None and not isinstance(data["error"], str):
            raise ValueError("a training run's error must be text")
        return cls(data["builder"], data["seed"], numbers["accuracy"], numbers["loss"], history,
                   numbers["seconds"] or 0.0, data.get("error"))

    def to_full_dict(self) -> dict:
        """Plain JSON data of everything but the weights: ``to_dict``'s fields, the test predictions (6 places),
        the key and whether it was reused. What the model process answers the grader with, and what the class's
        training cache files (``autograder.grader.training_cache``); ``from_full_dict`` reads it back."""
        probabilities = self.test_probabilities
        return {"builder": self.builder, "seed": self.seed, "accuracy": self.accuracy, "loss": self.loss,
                "history": self.history, "seconds": self.seconds, "error": self.error,
                "test_probabilities": None if probabilities is None else [round(float(p), 6) for p in probabilities],
                "key": self.key, "reused": self.reused}

    @classmethod
    def from_full_dict(cls, data) -> "TrainingOutcome":
        """A run from ``to_full_dict``'s data, every field checked (it comes from a jailed process or a file, so it
        is read, not trusted); ValueError or TypeError for anything else."""
        if not isinstance(data, dict) or data.get("builder") not in BUILDERS:
            raise ValueError("a training run must name one of the exercise's builders")
        history = data.get("history") or {}
        if not isinstance(history, dict) or not all(isinstance(k, str) and isinstance(v, list)
                                                    for k, v in history.items()):
            raise TypeError("a training history must map names to lists")
        outcome = cls(data["builder"], int(_number(data.get("seed"), False)), _number(data.get("accuracy")),
                      _number(data.get("loss")), {k: [_number(x, False) for x in v] for k, v in history.items()},
                      _number(data.get("seconds"), False) or 0.0)
        error = data.get("error")
        if error is not None and not isinstance(error, str):
            raise TypeError("a training error must be text")
        outcome.error = error
        if data.get("key") is not None and not isinstance(data["key"], str):
            raise TypeError("a training key must be text")
        outcome.key, outcome.reused = data.get("key"), data.get("reused") is True
        if data.get("test_probabilities") is not None:
            outcome.test_probabilities = np.asarray([_number(p, False) for p in data["test_probabilities"]],
                                                    dtype=np.float32)
        return outcome


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value, allow_none: bool = True) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


class ProtocolTraining(NamedTuple):
    """A returned model's training under the protocol and the bar it must reach: what the accuracy check judges."""

    outcome: TrainingOutcome | None  # None: the call returned no model to train
    threshold: float
    # The reference's figures behind the threshold, as the check quotes them.
    reference_summary: Message | str
