"""What the lecture's answers look like, as data: the student wing's expected values.

The checks compare a student's answers with these values instead of running the reference
solution, so the student wing can ship without it. The JSON files next to this module are written
from the reference by ``python -m autograder build-source`` (``autograder.course.expected_values``);
a test fails when they differ from a fresh generation. Never edit them by hand.

- ``models.json``: per builder, the lecture model's input shape, parameter count, layer table
  (type, output shape, parameters, settings) and, for the MLP, its Keras config (compile_model is
  called on that model);
- ``inputs.json``: the shape of one prepared image, per prepare function;
- ``thresholds.json``: the calibrated accuracy thresholds, per calibrated data set and protocol.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


class ExpectedValuesMissing(RuntimeError):
    """A file of expected values is missing or has no entry for what was asked."""


@lru_cache(maxsize=None)
def read(name: str) -> dict:
    """One file of expected values, parsed."""
    path = FOLDER / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExpectedValuesMissing(f"{path} is missing: run `python -m autograder build-source`") from None


def lecture_model(builder: str) -> dict:
    """The lecture model of ``builder``: {'input_shape', 'params', 'layers': [{type, output_shape, params, settings}]}."""
    try:
        return read("models.json")[builder]
    except KeyError:
        raise ExpectedValuesMissing(f"models.json has no model for {builder!r}") from None


def prepared_image_shape(function: str) -> tuple:
    """The shape of one image after ``function`` (a prepare function): (784,) or (28, 28, 1)."""
    return tuple(read("inputs.json")[function])


def compile_probe_model_config() -> dict:
    """The Keras config of the model compile_model is called on (the lecture's MLP)."""
    return read("models.json")["build_mlp"]["keras_config"]


def calibrated_thresholds() -> list[dict]:
    """Every calibration the grader ships, as {data_source, data_fingerprint, protocol, n_val, models}."""
    return read("thresholds.json")["calibrations"]
