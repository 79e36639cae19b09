"""Write the student wing's expected values (autograder/expected/*.json) from the reference and the calibration.

Run by ``python -m autograder build-source``, beside the source notebook, so the two never drift
from the reference. What is written is what a student may see anyway: the layer tables the
architecture checks print, the prepared input shapes, and the accuracy thresholds.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.evidence.layer_rows import describe_layers
from autograder.support.config import CourseConfig
from autograder.expected import FOLDER
from autograder.grader import reference
from autograder.grader.calibration import Calibration
from autograder.evidence.training_outcome import BUILDERS


def model_values() -> dict:
    models = {}
    for builder in BUILDERS:
        model = getattr(reference, builder)()
        models[builder] = {
            "input_shape": list(model.inputs[0].shape[1:]),
            "params": model.count_params(),
            "layers": [{"type": r.type, "output_shape": list(r.output_shape), "params": r.params, "settings": r.settings}
                       for r in describe_layers(model)],
        }
    models["build_mlp"]["keras_config"] = _named_by_position(json.loads(reference.build_mlp().to_json()))
    return models


def _named_by_position(config: dict) -> dict:
    """The model's config with names that do not depend on how many models this process built before
    (Keras numbers them: dense_8, sequential_3), so that the file is the same from every run."""
    config["config"]["name"] = "lecture_mlp"
    for i, layer in enumerate(config["config"]["layers"]):
        layer["config"]["name"] = f"{layer['class_name'].lower()}_{i}"
    return config


def input_values() -> dict:
    import numpy as np

    one = np.zeros((1, 28, 28), dtype=np.uint8)
    return {name: list(getattr(reference, name)(one).shape[1:]) for name in ("prepare_mlp_input", "prepare_cnn_input")}


def threshold_values(config: CourseConfig) -> dict:
    """The shipped calibrations, without their per-seed accuracies (the thresholds and what they mean)."""
    folder = config.root / config.calibration.directory
    calibrations = []
    for path in sorted(folder.glob("*.json")):
        calib = Calibration.from_dict(json.loads(path.read_text(encoding="utf-8")))
        calibrations.append({
            "data_source": calib.data_source, "data_fingerprint": calib.data_fingerprint, "protocol": calib.protocol,
            "n_val": calib.n_val, "file": path.name,
            "models": {b: {"threshold": m.threshold, "mean": m.mean, "worst": m.min, "seeds": len(m.accuracies)}
                       for b, m in calib.models.items()},
        })
    return {"calibrations": calibrations}


def expected_values(config: CourseConfig) -> dict[str, str]:
    """Each file's text, by name."""
    values = {"models.json": model_values(), "inputs.json": input_values(), "thresholds.json": threshold_values(config)}
    return {name: json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n" for name, value in values.items()}


def write_expected_values(config: CourseConfig, folder: Path = FOLDER) -> list[Path]:
    written = []
    Path(folder).mkdir(parents=True, exist_ok=True)
    for name, text in expected_values(config).items():
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
