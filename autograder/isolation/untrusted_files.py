"""Reading what the submission's process wrote: every file is bounded before it is read.

The student's code runs in the same process that writes the results (JSON records, ``.npz``
arrays, ``.keras`` models), so it can replace any of them: with a symlink, a FIFO, a zip of
thousands of members, or a member that inflates a few MB into gigabytes. Each function here
reads one kind of file and refuses, with a student-facing message, anything larger than a
correct answer of this exercise could be. Nothing is trusted from a header that was not also
checked against the bytes actually read: members are streamed and reading stops at the cap.

Bounds (the lecture's models, measured with Keras 3.15: MLP 332,801 parameters in 4 layers,
CNN 214,881 in 7, deep CNN 327,649 in 12; ``config.json`` at most 8,139 bytes; the weights
file 17-35 KB above 4 bytes per parameter):

- ``config.json``: 1 MiB (about 125 times the deep CNN's) and at most 64 layers (5 times its 12);
- parameters: 10 times the largest lecture model's (3,328,010), counted by Keras from the config
  without allocating a weight (``keras.StatelessScope``), before any model is built;
- activations per image: 65,536 values in one layer's output (3 times the lecture's largest,
  26x26x32) and 500,000 over all layers (8 times the deep CNN's 63,361), so that training at
  batch 64 and predicting at batch 1,000 stay within a few hundred MB (these two caps and their
  counting live in ``autograder.support.model_caps``, which the students' self-check shows them against);
- ``model.weights.h5``: 4 bytes per counted parameter plus 64 KiB plus 16 KiB per layer;
- ``.npz``: at most 16 members, each at most 8 bytes per value of the probe's inputs plus 1 MiB
  (a float64 copy of every input, the widest a correct answer returns), all together 4 times that;
- JSON records: 256 KiB; small status files (current probe): 4 KiB;
- symlinks, FIFOs and devices in place of a result are refused (``O_NOFOLLOW``, regular files only).
"""

from __future__ import annotations

import errno
import io
import json
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograder.messages.i18n import Message, _
# The caps on parameters and activations, and how they are counted: one definition, shared with the
# students' self-check (its "will this fit the grader?" summary).
from autograder.support.model_caps import MAX_LAYER_VALUES, MAX_PARAMS, MAX_TOTAL_VALUES, built_size as _built_size

KiB, MiB = 2**10, 2**20

MAX_LAYERS = 64
MAX_CONFIG_BYTES = 1 * MiB
MAX_METADATA_BYTES = 64 * KiB
WEIGHTS_OVERHEAD_BYTES = 64 * KiB
WEIGHTS_OVERHEAD_PER_LAYER = 16 * KiB
# The widest weight Keras stores: float64 is a correct model's too (``Dense(..., dtype='float64')``).
BYTES_PER_WEIGHT = 8
MAX_KERAS_FILE_BYTES = MAX_CONFIG_BYTES + MAX_METADATA_BYTES + BYTES_PER_WEIGHT * MAX_PARAMS + WEIGHTS_OVERHEAD_BYTES \
    + MAX_LAYERS * WEIGHTS_OVERHEAD_PER_LAYER + 64 * KiB
KERAS_MEMBERS = ("metadata.json", "config.json", "model.weights.h5")
MAX_KERAS_ENTRIES = 16
MAX_NPZ_MEMBERS = 16
MAX_RECORD_BYTES = 256 * KiB
MAX_STATUS_BYTES = 4 * KiB
# The input shapes this exercise's models are built for (engine/training.py builds an unbuilt model so).
INPUT_SHAPES = ((784,), (28, 28, 1))


class UntrustedFileError(ValueError):
    """A file from the submission's process that the grader refuses to read; ``message`` says why, for the student."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.message = message


def write_fresh(path: Path, data: bytes) -> None:
    """Write a new file for the jailed process to read, in a folder it can write: whatever it left at ``path``
    (a symlink to a file of the machine's, say) is removed first, and the file is created, never followed."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, neither it nor its folder followed as a symlink."""
    path = Path(path)
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        folder = os.open(path.parent, flags | os.O_DIRECTORY)
    except OSError as exc:
        raise UntrustedFileError(_("the folder of {name} could not be opened ({error}); was it replaced?").format(
            name=path.name, error=type(exc).__name__)) from None
    try:
        # O_NONBLOCK: a FIFO put in place of a result must not hang the grader.
        fd = os.open(path.name, flags | os.O_NONBLOCK, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the name is a symlink
            raise UntrustedFileError(_("{name} is a symbolic link, not a file the submission wrote").format(
                name=path.name)) from None
        raise
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UntrustedFileError(_("{name} is not a regular file").format(name=path.name))
        if info.st_size > limit:
            raise UntrustedFileError(_("{name} is {size:,} bytes, more than the {limit:,} a correct answer "
                                       "could need").format(name=path.name, size=info.st_size, limit=limit))
        data = f.read(limit + 1)  # the file may grow after fstat; never read past the cap
    if len(data) > limit:
        raise UntrustedFileError(_("{name} is more than the {limit:,} bytes a correct answer could need").format(
            name=path.name, limit=limit))
    return data


def parse_json(data: bytes, name: str) -> Any:
    """JSON from bytes already bounded; too deep a nesting is refused like bad JSON."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise UntrustedFileError(_("{name} is not valid JSON").format(name=name)) from None


def read_json(path: Path, limit: int = MAX_RECORD_BYTES) -> Any:
    """A JSON file of at most ``limit`` bytes."""
    return parse_json(read_bytes(path, limit), Path(path).name)


def read_text(path: Path, limit: int) -> str:
    """At most ``limit`` bytes of a text file as text (the rest refused, not truncated)."""
    return read_bytes(path, limit).decode("utf-8", "replace")


# ---------------------------------------------------------------- zip archives (.npz and .keras)


def _zip_members(data: bytes, name: str, max_members: int) -> zipfile.ZipFile:
    """Open ``data`` as a zip after counting its entries in the end record, so a huge directory is never parsed."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if end < 0 or len(data) < end + 22:
        raise UntrustedFileError(_("{name} is not a complete zip archive (truncated or corrupt)").format(name=name))
    entries = int.from_bytes(data[end + 10:end + 12], "little")
    if entries > max_members:  # 0xFFFF (zip64) lands here too
        raise UntrustedFileError(_("{name} holds {n:,} files; a correct answer holds at most {limit}").format(
            name=name, n=entries, limit=max_members))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise UntrustedFileError(_("{name} is not a complete zip archive (truncated or corrupt)").format(
            name=name)) from None
    if len(zf.infolist()) > max_members:
        raise UntrustedFileError(_("{name} holds {n:,} files; a correct answer holds at most {limit}").format(
            name=name, n=len(zf.infolist()), limit=max_members))
    return zf


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, name: str) -> bytes:
    """A member's bytes, streamed and stopped at ``limit`` whatever its header declares."""
    if info.file_size > limit:
        raise UntrustedFileError(_("{member} in {name} is {size:,} bytes, more than the {limit:,} a correct answer "
                                   "could need").format(member=info.filename, name=name, size=info.file_size,
                                                        limit=limit))
    try:
        with zf.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise UntrustedFileError(_("{member} in {name} cannot be read ({error}: {detail})").format(
            member=info.filename, name=name, error=type(exc).__name__, detail=str(exc)[:200])) from None
    if len(data) > limit:
        raise UntrustedFileError(_("{member} in {name} inflates to more than the {limit:,} bytes a correct answer "
                                   "could need").format(member=info.filename, name=name, limit=limit))
    return data


def npz_member_limit(inputs: dict[str, np.ndarray]) -> int:
    """The largest array a probe's call may return: a float64 copy of every input value, plus 1 MiB."""
    return 8 * sum(int(np.size(a)) for a in inputs.values()) + MiB


def read_npz(path: Path, member_limit: int) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` (no pickles), each member at most ``member_limit`` bytes, all at most 4 times that."""
    name = Path(path).name
    total_limit = 4 * member_limit
    data = read_bytes(path, total_limit + 64 * KiB)
    arrays: dict[str, np.ndarray] = {}
    total = 0
    with _zip_members(data, name, MAX_NPZ_MEMBERS) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy") or "/" in info.filename or info.filename.startswith("."):
                raise UntrustedFileError(_("{name} holds an unexpected file {member!r}").format(
                    name=name, member=info.filename[:100]))
            raw = _read_member(zf, info, min(member_limit, total_limit - total), name)
            total += len(raw)
            try:
                # The header's shape must match the bytes read, so a lying header cannot allocate more.
                arrays[info.filename[:-4]] = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise UntrustedFileError(_("{member} in {name} is not a valid array ({error}: {detail})").format(
                    member=info.filename, name=name, error=type(exc).__name__, detail=str(exc)[:200])) from None
    return arrays


# ---------------------------------------------------------------- .keras models


@dataclass
class KerasFile:
    """A ``.keras`` archive read into memory with its parsed config; its weights are checked by ``check_size``."""

    name: str
    data: bytes
    config: dict


TOO_LARGE = _("the saved model is larger than any model of this exercise could be")


def read_keras(path: Path) -> KerasFile:
    """A ``.keras`` archive with only Keras' three members, bounded, and its ``config.json`` parsed."""
    name = Path(path).name
    data = read_bytes(path, MAX_KERAS_FILE_BYTES)
    # A few more entries than Keras writes may be listed, so that what is wrong with them can be named.
    with _zip_members(data, name, MAX_KERAS_ENTRIES) as zf:
        names = [i.filename for i in zf.infolist()]
        unexpected = [n for n in names if n not in KERAS_MEMBERS]
        if unexpected or len(set(names)) != len(names) or "config.json" not in names:
            raise UntrustedFileError(_("{name} is not a file saved by Keras: it holds {members}, not {expected}").format(
                name=name, members=", ".join(repr(n[:80]) for n in names), expected=", ".join(KERAS_MEMBERS)))
        raw = _read_member(zf, zf.getinfo("config.json"), MAX_CONFIG_BYTES, name)
        if "metadata.json" in names:
            _read_member(zf, zf.getinfo("metadata.json"), MAX_METADATA_BYTES, name)
    config = parse_json(raw, f"config.json in {name}")
    if not isinstance(config, dict):
        raise UntrustedFileError(_("config.json in {name} is not a model's config").format(name=name))
    return KerasFile(name, data, config)


def count_layers(config: Any, depth: int = 0) -> int:
    """Layers in a model config, nested models' included."""
    if depth > 8:
        raise UntrustedFileError(TOO_LARGE)
    inner = config.get("config") if isinstance(config, dict) else None
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        return 0
    return sum(1 + count_layers(layer, depth + 1) for layer in layers)


@dataclass(frozen=True)
class ModelSize:
    layers: int
    params: int
    largest_output: int  # values per image
    all_outputs: int  # values per image, summed over layers


def model_size(config: dict, model_input: tuple[int, ...] | None = None) -> ModelSize:
    """Layers, parameters and activations the config declares, counted by Keras without allocating any weight.

    Call only on a config whose classes were validated (Keras' own layers). Raises UntrustedFileError
    when it exceeds the bounds above, and lets Keras' own error through when it cannot build the config.
    """
    import keras
    from keras.src.backend.common import global_state

    n_layers = count_layers(config)
    if n_layers > MAX_LAYERS:
        raise UntrustedFileError(_("{too_large}: it has {n} layers (at most {limit})").format(
            too_large=TOO_LARGE, n=n_layers, limit=MAX_LAYERS))
    # Variables made in a stateless scope only record their shapes; they are dropped from Keras'
    # list of variables to initialise afterwards, so that nothing ever allocates them.
    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    # The compile state would build an optimizer, whose variables a stateless scope refuses; it holds no weights.
    config = {key: value for key, value in config.items() if key != "compile_config"}
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = keras.saving.deserialize_keras_object(config, safe_mode=True)
            sizes = [_built_size(model)] if model.built else []
            if not model.built:
                # Without an input shape it is sized on the input it will be trained on (or, unknown,
                # on the largest of the lecture's inputs it takes).
                for shape in [model_input] if model_input else INPUT_SHAPES:
                    try:
                        candidate = keras.saving.deserialize_keras_object(config, safe_mode=True)
                        candidate.build((None, *shape))
                        sizes.append(_built_size(candidate))
                    except Exception:  # not an input this model takes; training would fail the same way
                        continue
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)
    params = max((s[0] for s in sizes), default=0)
    largest = max((s[1] for s in sizes), default=0)
    total = max((s[2] for s in sizes), default=0)
    if params > MAX_PARAMS:
        raise UntrustedFileError(_("{too_large}: it has {n:,} parameters (at most {limit:,})").format(
            too_large=TOO_LARGE, n=params, limit=MAX_PARAMS))
    if largest > MAX_LAYER_VALUES or total > MAX_TOTAL_VALUES:
        raise UntrustedFileError(_("{too_large}: its layers output {largest:,} values per image in one layer and "
                                   "{total:,} in all (at most {limit_one:,} and {limit_all:,})").format(
            too_large=TOO_LARGE, largest=largest, total=total, limit_one=MAX_LAYER_VALUES, limit_all=MAX_TOTAL_VALUES))
    return ModelSize(n_layers, params, largest, total)


def refuse_oversized_weights(keras_file: KerasFile, size: ModelSize) -> None:
    """Refuse a weights member larger than the parameters the config declares allow: 8 bytes each (float64) plus
    HDF5's headers, read (bounded) to make sure."""
    limit = BYTES_PER_WEIGHT * size.params + WEIGHTS_OVERHEAD_BYTES + WEIGHTS_OVERHEAD_PER_LAYER * size.layers
    with _zip_members(keras_file.data, keras_file.name, MAX_KERAS_ENTRIES) as zf:
        if "model.weights.h5" in zf.namelist():
            _read_member(zf, zf.getinfo("model.weights.h5"), limit, keras_file.name)
