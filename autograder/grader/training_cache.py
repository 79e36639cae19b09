"""The class's training cache: each distinct model trains once per class under ``grade-all``.

A training under the grading protocol is exact: the model is rebuilt from its config with seeded fresh weights,
under op determinism, on the grader's data. So two submissions whose models have the same config (names aside)
train to the same outcome, bit for bit, and most of a class builds the lecture's three models. The cache files
each outcome under everything that decides it:

* the model: its config without names and its builder's input kind (``check_session.training_key``);
* the run: the grading protocol (seed and determinism setting included), the grading data's bytes, the threads
  TensorFlow may use, the versions of TensorFlow, Keras and NumPy, the kit's version and its training code,
  and the machine (CPU model and flags, GPUs in sight), since op determinism holds on one machine only.

It lies beside the ledger (``grades/<assignment>.training-cache/``, a path no sandbox sees). Only the grader's
own processes read and write it: the jailed model process asks the grader (``model_process``) and sends back what
it trained; the grader writes each entry atomically (a temp file beside it, fsync, ``os.replace``). An entry that
cannot be read, does not match its key or fails the same checks as a model process's answer is ignored, and the
fresh training then overwrites it. It is a memo, not a setting: neither the grading key nor the ledger knows it.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import platform
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import autograder

FORMAT = 1
# An entry holds a training history and one probability per test image: far under this.
MAX_ENTRY_BYTES = 16 * 2**20
# Environment variables that change what TensorFlow computes.
NUMERICS_ENV = ("TF_ENABLE_ONEDNN_OPTS", "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC", "CUDA_VISIBLE_DEVICES",
                "KERAS_BACKEND")


def cache_folder(course_root: Path | str, assignment: str) -> Path:
    """``grades/<assignment>.training-cache/``: beside the class's ledger (``batch.ledger.ledger_path``), in the
    course's ``grades/`` folder, which no sandbox sees."""
    return Path(course_root) / "grades" / f"{assignment}.training-cache"


def training_context(config, data) -> dict:
    """Everything a training's outcome depends on besides the model itself."""
    from autograder.isolation.model_process_server import grading_arrays

    return {"format": FORMAT, "protocol": config.grading.model_dump(mode="json"),
            "cpu_threads": config.limits.cpu_threads, "data": data_fingerprint(grading_arrays(data)),
            "libraries": library_versions(), "kit": autograder.__version__, "training_code": _training_code_digest(),
            "machine": machine_fingerprint(), "env": {name: os.environ.get(name) for name in NUMERICS_ENV}}


def data_fingerprint(arrays: dict) -> str:
    """sha256 of the grading arrays as the model process receives them: names, types, shapes and bytes."""
    import numpy as np

    digest = hashlib.sha256()
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        digest.update(json.dumps([name, array.dtype.str, list(array.shape)]).encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def library_versions() -> dict[str, str | None]:
    versions = {}
    for name in ("tensorflow", "keras", "numpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@lru_cache(maxsize=1)
def _training_code_digest() -> str:
    from autograder.engine import training

    return hashlib.sha256(Path(training.__file__).read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def machine_fingerprint() -> dict:
    """The machine's kind as far as numerics go: architecture, CPU model and flags, GPUs in sight."""
    cpu = {}
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            name, _, value = line.partition(":")
            if name.strip() in ("model name", "flags", "Features") and name.strip() not in cpu:
                cpu[name.strip()] = value.strip()
    except OSError:
        pass
    return {"arch": platform.machine(), "cpu": hashlib.sha256(json.dumps(cpu, sort_keys=True).encode()).hexdigest(),
            "gpus": sorted(glob.glob("/dev/nvidia[0-9]*"))}


class TrainingCache:
    """The class's earlier trainings under one context: ``lookup`` by the model's key, ``store`` a fresh one."""

    def __init__(self, folder: Path, context: dict):
        self.folder = Path(folder)
        self.context = context
        self._context_text = json.dumps(context, sort_keys=True)
        # Why the last entry could not be written (the cache is a memo: grading goes on without it).
        self.write_problem: str | None = None
        # More fields for the next entry stored (``store_with_weights``: its weights sidecar).
        self.extra_entry_fields: dict = {}

    def path_for(self, model_key: str) -> Path:
        name = hashlib.sha256(f"{self._context_text}\n{model_key}".encode()).hexdigest()[:40]
        return self.folder / f"{name}.json"

    def lookup(self, model_key) -> dict | None:
        """The stored training for ``model_key`` as the model process reads it, or None: no entry, or one that
        is damaged, unreadable or filed under another key (it is ignored, and overwritten by the fresh one)."""
        from autograder.evidence.training_outcome import TrainingOutcome

        if not isinstance(model_key, str):
            return None
        try:
            path = self.path_for(model_key)
            if path.stat().st_size > MAX_ENTRY_BYTES:
                return None
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry.get("format") != FORMAT or entry.get("context") != self.context or entry.get("model") != model_key:
                return None
            training = entry["training"]
            outcome = TrainingOutcome.from_full_dict(training)  # the same checks as a model process's answer
            if outcome.error is not None or outcome.accuracy is None or training.get("key") != model_key:
                return None
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        return training

    def store(self, outcome) -> bool:
        """File a fresh, complete training under its key; True when written. Trainings from the cache, cut
        short or without a key are not filed."""
        if outcome.reused or outcome.error is not None or outcome.key is None or outcome.accuracy is None:
            return False
        entry = {"format": FORMAT, "context": self.context, "model": outcome.key, "training": outcome.to_full_dict(),
                 **self.extra_entry_fields}
        target = self.path_for(outcome.key)
        temp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.folder, prefix=".writing-",
                                             suffix=".json", delete=False) as temp:
                json.dump(entry, temp)
                temp.flush()
                os.fsync(temp.fileno())
            if self.extra_entry_fields:  # the lecture folder: a kernel reads it as its own uid, read-only
                os.chmod(temp.name, 0o644)
            os.replace(temp.name, target)  # readers see the old entry or the new one, never half of one
        except OSError as exc:
            self.write_problem = f"could not write {target}: {exc.strerror or exc}"
            if temp is not None:
                Path(temp.name).unlink(missing_ok=True)
            return False
        return True


# ---------------------------------------------------------------- the lecture's models, trained by a trusted step

# Where the lecture's models' entries lie for nbgrader's kernels (read-only there): a folder of the cache that
# holds only what ``course.lecture_trainings`` trained from the kit's own lecture-style code, never a student's model.
LECTURE_FOLDER = "lecture"
# Where the kernel sees that folder, and the variable that names it there.
LECTURE_IN_SANDBOX = "/course-training-cache"
LECTURE_ENV = "AUTOGRADER_LECTURE_TRAININGS"


def lecture_folder(cache: Path) -> Path:
    return Path(cache) / LECTURE_FOLDER


def _weights_path(entry: Path) -> Path:
    return entry.with_name(entry.stem + ".weights.npz")


def store_with_weights(cache: TrainingCache, outcome) -> bool:
    """File a fresh training that kept its weights (``keep_weights=True``), the weights and the exact test
    probabilities in a sidecar ``.npz`` whose sha256 the entry names: what ``train_as_graded`` needs of a hit.
    Trusted callers only (``course.lecture_trainings``); files are world-readable, for the kernels' read-only view."""
    import io

    import numpy as np

    if outcome.weights is None or outcome.test_probabilities is None or outcome.key is None:
        return False
    target = _weights_path(cache.path_for(outcome.key))
    buffer = io.BytesIO()
    np.savez(buffer, probabilities=np.asarray(outcome.test_probabilities),
             **{f"w{i:03d}": np.asarray(w) for i, w in enumerate(outcome.weights)})
    data = buffer.getvalue()
    try:
        cache.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=cache.folder, prefix=".writing-", suffix=".npz", delete=False) as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp.name, 0o644)
        os.replace(temp.name, target)
    except OSError as exc:
        cache.write_problem = f"could not write {target}: {exc.strerror or exc}"
        return False
    cache.extra_entry_fields = {"weights": {"file": target.name, "sha256": hashlib.sha256(data).hexdigest(),
                                            "count": len(outcome.weights)}}
    try:
        return cache.store(outcome)
    finally:
        cache.extra_entry_fields = {}


def lookup_outcome(cache: TrainingCache, model_key: str, with_weights: bool = False):
    """The cached training of ``model_key`` as a TrainingOutcome (``reused``), or None; ``with_weights``: only an
    entry with its weights sidecar (checked against the sha256 its entry names) counts, and the outcome then
    carries the weights and the exact test probabilities, as a fresh ``keep_weights`` training does."""
    import io
    from dataclasses import replace

    import numpy as np

    from autograder.evidence.training_outcome import TrainingOutcome

    training = cache.lookup(model_key)
    if training is None:
        return None
    outcome = replace(TrainingOutcome.from_full_dict(training), reused=True)
    if not with_weights:
        return outcome
    try:
        path = cache.path_for(model_key)
        described = json.loads(path.read_text(encoding="utf-8")).get("weights") or {}
        data = _weights_path(path).read_bytes()
        if hashlib.sha256(data).hexdigest() != described.get("sha256"):
            return None
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            weights = [arrays[f"w{i:03d}"] for i in range(int(described["count"]))]
            probabilities = arrays["probabilities"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return replace(outcome, weights=weights, test_probabilities=probabilities)


def kernel_cache():
    """The lecture's trainings as nbgrader's kernel may read them (``$AUTOGRADER_LECTURE_TRAININGS``, bound
    read-only by ``course.sandboxed_kernel``), or None."""
    folder = os.environ.get(LECTURE_ENV)
    return Path(folder) if folder and Path(folder).is_dir() else None
