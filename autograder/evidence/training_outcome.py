"""What one training run under the grading protocol gave, as the accuracy check and the grade see it.

A ``TrainingOutcome`` is a run's result (``autograder.engine.training.train_and_evaluate`` makes it), and a
``ProtocolTraining`` that result with the bar it must reach, which a ``Call`` hands the accuracy check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from autograder.messages.i18n import Message


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


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class ProtocolTraining(NamedTuple):
    """A returned model's training under the protocol and the bar it must reach: what the accuracy check judges."""

    outcome: TrainingOutcome | None  # None: the call returned no model to train
    threshold: float
    # The reference's figures behind the threshold, as the check quotes them.
    reference_summary: Message | str
