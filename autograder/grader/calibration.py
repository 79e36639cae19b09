"""Accuracy thresholds calibrated on the reference solution.

The reference models are trained under the grading protocol over several seeds (20 by default).
A model's threshold is the reference's worst seed minus ``max(margin, 3 × std)``:

* the worst seed, not the mean, so the reference passes on every calibration seed;
* minus three standard deviations (at least ``margin``), so a correct model that differs from the
  reference only in ways the protocol's seed cannot reproduce (another machine, another
  TensorFlow build) still passes;
* and no lower: broken models score near chance or far below the reference (see
  autograder/dev/broken.py and the benchmark's discrimination table), and a threshold that would come
  within 0.1 of chance is refused, because then the protocol could not tell them apart.

Calibration files are keyed by the data's fingerprint and the protocol settings; when none
matches the data and protocol in use, the grader says which file differs and how, calibrates on
the fly and caches the result. A file made with another TensorFlow/Keras version is used with a
warning (the margin is meant to absorb that; run ``calibrate`` again to be sure).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import platform
import re
import statistics
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from autograder.support.atomic_files import write_atomically
from autograder.support.config import CourseConfig
from autograder.engine.training import GradingData, grading_data, train_and_evaluate
from autograder.evidence.training_outcome import BUILDERS

RULE = "threshold = min(reference accuracies) - max(margin, 3 * std)"
FORMAT_VERSION = 1


class CalibrationError(RuntimeError):
    """The reference cannot be told apart from a broken model under the protocol."""


@dataclass
class ModelCalibration:
    accuracies: list[float]
    threshold: float
    margin: float

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracies)

    @property
    def min(self) -> float:
        return min(self.accuracies)

    @property
    def std(self) -> float:
        return statistics.pstdev(self.accuracies)

    def to_dict(self) -> dict:
        return {"accuracies": self.accuracies, "mean": self.mean, "min": self.min, "std": self.std,
                "threshold": self.threshold, "margin": self.margin, "rule": RULE}


@dataclass
class Calibration:
    key: str
    data_source: str
    data_fingerprint: str
    protocol: dict
    n_val: int
    seeds: list[int]
    models: dict[str, ModelCalibration]
    versions: dict = field(default_factory=dict)
    created: str = ""

    def to_dict(self) -> dict:
        return {"format": FORMAT_VERSION, "key": self.key, "data_source": self.data_source,
                "data_fingerprint": self.data_fingerprint, "protocol": self.protocol, "n_val": self.n_val,
                "seeds": self.seeds, "versions": self.versions, "created": self.created,
                "models": {name: m.to_dict() for name, m in self.models.items()}}

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        models = {name: ModelCalibration(m["accuracies"], m["threshold"], m["margin"]) for name, m in d["models"].items()}
        return cls(d["key"], d["data_source"], d["data_fingerprint"], d["protocol"], d["n_val"], d["seeds"],
                   models, d.get("versions", {}), d.get("created", ""))


def calibration_key(dataset, config: CourseConfig, n_val: int) -> str:
    """Short hash of everything that changes the reference's accuracy: data, protocol, split."""
    blob = json.dumps({"data": dataset.fingerprint, "protocol": config.grading.model_dump(), "n_val": n_val,
                       "margin": config.calibration.margin}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def calibration_path(config: CourseConfig, dataset, n_val: int) -> Path:
    return config.calibration_dir / f"{dataset.source}-{calibration_key(dataset, config, n_val)}.json"


def threshold_for(accuracies: list[float], margin: float) -> float:
    """The rule (see the module docstring) applied to one model's reference accuracies."""
    return min(accuracies) - max(margin, 3 * statistics.pstdev(accuracies))


def calibrate(dataset, config: CourseConfig, n_val: int, seeds: int | None = None,
              data: GradingData | None = None, log: Callable[[str], None] = print) -> Calibration:
    """Train the reference models over ``seeds`` seeds and derive each model's threshold."""
    from autograder.grader import reference

    seeds = seeds or config.calibration.seeds
    seed_list = [config.grading.seed + i for i in range(seeds)]
    data = data or grading_data(dataset, config.grading, n_val)
    models: dict[str, ModelCalibration] = {}
    for builder in BUILDERS:
        accuracies = []
        for seed in seed_list:
            outcome = train_and_evaluate(getattr(reference, builder)(), builder, data, config.grading, seed)
            if outcome.error:
                raise CalibrationError(f"the reference {builder} failed to train: {outcome.error}")
            accuracies.append(outcome.accuracy)
            log(f"  calibrate {builder:<15} seed {seed:>3}: test accuracy {outcome.accuracy:.4f} ({outcome.seconds:.1f} s)")
        threshold = threshold_for(accuracies, config.calibration.margin)
        floor = data.chance_accuracy + 0.1
        if threshold < floor:
            raise CalibrationError(
                f"under the grading protocol the reference {builder} reaches only {min(accuracies):.3f} "
                f"(threshold {threshold:.3f}), too close to chance ({data.chance_accuracy:.3f}) to tell a working "
                f"model from a broken one. Give grading more n_train or epochs in course.yml."
            )
        models[builder] = ModelCalibration(accuracies, threshold, config.calibration.margin)
    return Calibration(
        key=calibration_key(dataset, config, n_val), data_source=dataset.source, data_fingerprint=dataset.fingerprint,
        protocol=config.grading.model_dump(), n_val=n_val, seeds=seed_list, models=models,
        versions=current_versions(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


# The distributions that install each module (TensorFlow ships under several names).
DISTRIBUTIONS = {"tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel",
                                "tensorflow-macos", "tf-nightly", "tf-nightly-cpu"), "keras": ("keras", "keras-nightly")}


def module_version(module: str) -> str:
    """``module.__version__``, without importing it when it is not imported yet (TensorFlow's import takes
    seconds, and the grader itself needs neither library): a release's installed version is the same string."""
    if module in sys.modules:
        return sys.modules[module].__version__
    for name in DISTRIBUTIONS[module]:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if re.fullmatch(r"\d+(\.\d+)*", version):  # a pre-release may spell it otherwise than __version__
            return version
        break
    return importlib.import_module(module).__version__


def current_versions() -> dict[str, str]:
    """What the accuracies depend on besides data and protocol: library versions and the machine."""
    return {"tensorflow": module_version("tensorflow"), "keras": module_version("keras"),
            "python": sys.version.split()[0], "machine": platform.machine()}


def describe_mismatch(found: dict, dataset, config: CourseConfig, n_val: int) -> str:
    """How a calibration file's data and protocol differ from the ones in use (empty when they don't)."""
    differences = []
    if found.get("data_fingerprint") != dataset.fingerprint:
        differences.append(f"data fingerprint {found.get('data_fingerprint')} ≠ {dataset.fingerprint}")
    if found.get("n_val") != n_val:
        differences.append(f"n_val {found.get('n_val')} ≠ {n_val}")
    protocol = config.grading.model_dump()
    for key in sorted(set(protocol) | set(found.get("protocol", {}))):
        if found.get("protocol", {}).get(key) != protocol.get(key):
            differences.append(f"grading.{key} {found.get('protocol', {}).get(key)!r} ≠ {protocol.get(key)!r}")
    return ", ".join(differences)


def _versions_warning(calibration: Calibration) -> str | None:
    now = current_versions()
    changed = [f"{k} {calibration.versions.get(k)} → {now[k]}" for k in ("tensorflow", "keras")
               if calibration.versions.get(k) not in (None, now[k])]
    if not changed:
        return None
    return (f"warning: the calibration {calibration.key} was made with {', '.join(changed)}; its thresholds "
            f"keep a margin for this, but run `python -m autograder calibrate` to be sure")


def save_calibration(calibration: Calibration, path: Path) -> Path:
    return write_atomically(path, json.dumps(calibration.to_dict(), indent=2) + "\n")


def load_or_calibrate(dataset, config: CourseConfig, n_val: int, data: GradingData | None = None,
                      log: Callable[[str], None] = print) -> Calibration:
    """The calibration for this data and protocol; calibrate now (and cache it) when there is none."""
    path = calibration_path(config, dataset, n_val)
    if path.exists():
        try:
            calibration = Calibration.from_dict(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            log(f"warning: ignoring unreadable calibration {path} ({exc}); calibrating again")
        else:
            warning = _versions_warning(calibration)
            if warning:
                log(warning)
            return calibration
    log(f"warning: no calibration matches this data ({dataset.description}) and protocol "
        f"(key {calibration_key(dataset, config, n_val)}); calibrating the reference now over "
        f"{config.calibration.seeds} seeds")
    for other in sorted(config.calibration_dir.glob(f"{dataset.source}-*.json")):
        try:
            found = json.loads(other.read_text())
        except (OSError, ValueError):
            continue
        log(f"  {other.name} does not match: {describe_mismatch(found, dataset, config, n_val) or 'margin differs'}")
    calibration = calibrate(dataset, config, n_val, data=data, log=log)
    try:
        save_calibration(calibration, path)
        log(f"  cached the calibration in {path}")
    except OSError as exc:
        log(f"warning: could not cache the calibration in {path}: {exc.strerror}")
    return calibration


def calibration_summary(calibration: Calibration) -> str:
    lines = [f"calibration {calibration.key} ({calibration.data_source}, {len(calibration.seeds)} seeds; {RULE})"]
    for name, m in calibration.models.items():
        lines.append(f"  {name:<15} mean {m.mean:.4f}  min {m.min:.4f}  std {m.std:.4f}  threshold {m.threshold:.4f}")
    return "\n".join(lines)

