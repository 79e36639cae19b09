"""The grading key: what must be equal for an old grade to still count (config, calibration, kit version).

Computed without loading the data or TensorFlow, so that the coordinator stays light: the calibration
is identified by the bytes of every calibration file for the configured data source, since which one
applies depends on the data's fingerprint, which only a worker loads. Changing any of them regrades
(a safe over-approximation); each ledger line also records the calibration key the worker actually used.
"""

from __future__ import annotations

import hashlib
import json

import autograder
from autograder.support.config import CourseConfig

GRADE_NEUTRAL = {"similarity": True, "limits": {"notebook_size_limit_mb"}}


def calibration_files_digest(config: CourseConfig) -> dict[str, str]:
    """sha256 of each calibration file that may apply to this config's data source, by file name."""
    folder = config.calibration_dir
    if not folder.is_dir():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob(f"{config.data.source}-*.json")) if p.is_file()}


def grading_key(config: CourseConfig) -> str:
    """Short hash of the whole course config, the calibration files and the kit's version."""
    # The similarity report's settings and the cap on a submitted notebook's size change no grade (a notebook
    # over the cap is refused, not graded): changing them must not regrade the class.
    blob = json.dumps({"config": config.model_dump(mode="json", exclude=GRADE_NEUTRAL), "calibration": calibration_files_digest(config),
                       "kit": autograder.__version__}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
