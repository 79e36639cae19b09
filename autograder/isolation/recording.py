"""The recording of calls across the process boundary: the child writes plain data, the grader reads it back.

``call_and_record`` runs in the submission's process (the jailed child, or nbgrader's kernel for the
hidden test cells) and writes only JSON, ``.npz`` arrays (no pickles) and ``.keras`` model files.
``load_call`` reads that folder back in the grader, every file bounded before it is read
(``untrusted_files``), and loads models with Keras' safe mode after checking their config against
an allowlist, so that no student code comes along.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from autograder.engine.calling import call_for_probe
from autograder.support import model_allowlist
from autograder.isolation import untrusted_files
from autograder.support.model_allowlist import ModelNotRebuildable
from autograder.evidence.call_record import Call
from autograder.evidence.probes import Probe


def probe_to_data(probe: Probe) -> dict:
    """What the submission's process needs of a probe to make its call: every field but how its inputs are made
    (the grader makes them; the hidden probes' module is not in the sandbox)."""
    return {f.name: getattr(probe, f.name) for f in dataclasses.fields(probe) if f.name != "make_inputs"}


def probe_from_data(data: dict) -> Probe:
    def tuples(value):  # JSON made the probe's tuples lists
        return tuple(tuples(v) for v in value) if isinstance(value, list) else value

    return Probe(**{name: tuples(value) for name, value in data.items()}, make_inputs=None)


def call_and_record(func: Callable | None, probe: Probe, inputs: dict[str, np.ndarray], kwargs: dict,
                    outdir: Path, seed: int = 0) -> None:
    """Call ``func`` as ``probe`` describes and write the outcome into ``outdir`` as plain data.

    The call itself is ``autograder.engine.calling.call_for_probe``, the same body as the students'
    self-check; here its outcome becomes ``<probe>.json`` (status, error, what was returned),
    ``<probe>.npz`` (``returned_i``, ``input_after_i``) and ``<probe>.keras`` (a returned model).
    """
    outdir = Path(outdir)
    outcome = call_for_probe(func, probe, inputs, kwargs, seed, model_path=outdir / f"{probe.name}.keras")
    record: dict[str, Any] = {"probe": probe.name, "function": probe.function, "status": outcome.status}
    if outcome.error is not None:
        record["error"] = outcome.error
    if outcome.returned:
        record["returned"] = outcome.returned
    if outcome.compiled is not None:
        record["compiled"] = outcome.compiled
    arrays = {f"input_after_{i}": a for i, a in enumerate(outcome.inputs_after)}
    arrays.update({f"returned_{i}": a for i, a in enumerate(outcome.values)})
    if arrays:
        np.savez(outdir / f"{probe.name}.npz", **arrays)
    (outdir / f"{probe.name}.json").write_text(json.dumps(record, default=str))


def call_through_files(func: Callable | None, probe: Probe, inputs: dict[str, np.ndarray], kwargs: dict,
                       seed: int = 0) -> Call:
    """Call ``func`` in this process through the same files and safe loading as the jailed child: how the grader
    calls functions living in its own process (nbgrader's hidden test cells, in the student's kernel)."""
    # Named for its owner as ``jail.owned_prefix`` names them (the submission's runner has no jail.py), so that
    # the next grader sweeps it if this process is killed.
    with tempfile.TemporaryDirectory(prefix=f"autograder-work-{os.getpid()}-") as work:
        call_and_record(func, probe, inputs, kwargs, Path(work), seed=seed)
        return load_call(probe, inputs, kwargs, Path(work))


def load_call(probe: Probe, inputs: dict[str, np.ndarray], kwargs: dict, outdir: Path,
              load_model: bool = True) -> Call:
    """Read the outcome that ``call_and_record`` wrote for ``probe`` (never unpickling anything).

    The files come from the submission's process, so each is bounded before it is read
    (``untrusted_files``): a file larger than a correct answer could be costs this call only. With
    ``load_model=False`` a saved model is left unread (the grader's bounded model process loads it).
    """
    outdir = Path(outdir)
    record_path = outdir / f"{probe.name}.json"
    if not os.path.lexists(record_path):
        return Call(probe, inputs, kwargs, "crashed", {"message": "no result was written"})
    try:
        record = untrusted_files.read_json(record_path)
        if not isinstance(record, dict):
            raise TypeError("the record is not a JSON object")
        error, returned = record.get("error"), record.get("returned") or {}
        if error is not None and not isinstance(error, dict) or not isinstance(returned, dict):
            raise TypeError("the record's error or returned entry is not a JSON object")
        call = Call(probe, inputs, kwargs, str(record["status"]), error, returned)
        npz = outdir / f"{probe.name}.npz"
        if os.path.lexists(npz):
            data = untrusted_files.read_npz(npz, untrusted_files.npz_member_limit(inputs))
            n_ret = len([k for k in data if k.startswith("returned_")])
            n_in = len([k for k in data if k.startswith("input_after_")])
            call.values = tuple(data[f"returned_{i}"] for i in range(n_ret))
            call.inputs_after = tuple(data[f"input_after_{i}"] for i in range(n_in))
        model_path = outdir / f"{probe.name}.keras"
        if call.status == "ok" and os.path.lexists(model_path) and load_model:
            keras_file = untrusted_files.read_keras(model_path)
            call.compile_config = read_compile_config(keras_file)
            call.model = load_model_safely(keras_file, model_input=probe.model_input)
    except ModelNotRebuildable as exc:
        call.status, call.error = "unreadable", {"message": str(exc)}
    except untrusted_files.UntrustedFileError as exc:
        return Call(probe, inputs, kwargs, "unreadable", {"message": exc.message})
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        return Call(probe, inputs, kwargs, "unreadable", {"message": f"{type(exc).__name__}: {exc}"})
    return call


def validate_model_config(model: Path | untrusted_files.KerasFile) -> None:
    """Refuse a saved model whose config names anything but Keras' own models and plain layers."""
    model_allowlist.validate_model_config(_keras_file(model).config)


def _keras_file(model: Path | untrusted_files.KerasFile) -> untrusted_files.KerasFile:
    return model if isinstance(model, untrusted_files.KerasFile) else untrusted_files.read_keras(Path(model))


def read_compile_config(model: Path | untrusted_files.KerasFile) -> dict | None:
    """The ``compile_config`` entry of a ``.keras`` file, read as JSON without building anything."""
    compile_config = _keras_file(model).config.get("compile_config")
    return compile_config if isinstance(compile_config, dict) else None


def load_model_safely(model: Path | untrusted_files.KerasFile, model_input: tuple[int, ...] | None = None):
    """Load a ``.keras`` file with safe mode and without its compile state, after validating its config.

    The file is read once, bounded (``untrusted_files.read_keras``); its classes are checked against
    the allowlist, its size is counted from the config without allocating a weight and its weights
    file checked against that count, and Keras then loads the very bytes that were checked.
    """
    import keras

    keras_file = _keras_file(model)
    validate_model_config(keras_file)
    try:
        size = untrusted_files.model_size(keras_file.config, model_input)
    except untrusted_files.UntrustedFileError:
        raise
    except Exception as exc:  # Keras cannot build this config: it could not load it either
        raise ModelNotRebuildable(
            f"Keras could not rebuild the model from its saved config ({type(exc).__name__}: "
            f"{str(exc)[:300]}). Hint: use only standard keras layers (no custom classes or Lambda layers)."
        ) from None
    untrusted_files.refuse_oversized_weights(keras_file, size)
    try:
        # From the grader's own copy of the checked bytes, not the submission's file (which may change).
        with tempfile.TemporaryDirectory(prefix="autograder-model-") as private:
            copy = Path(private) / "model.keras"
            copy.write_bytes(keras_file.data)
            return keras.models.load_model(copy, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types here: TypeError, ValueError, AttributeError...
        raise ModelNotRebuildable(
            f"Keras could not rebuild the model from its saved config ({type(exc).__name__}: "
            f"{str(exc)[:300]}). Hint: use only standard keras layers (no custom classes or Lambda layers)."
        ) from None
