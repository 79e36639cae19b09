"""The error text students read: an exception as plain data without the grading machine's paths, and hints.

``describe_exception`` turns what a student's code raised into data a ``Call``
(``autograder.evidence.call_record``) or a cell's outcome (``autograder.engine.notebook_runner``) carries; ``keras2_hint`` and ``hint_for_error`` say what to
change, in the student's language.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from autograder.messages.i18n import Message, _


def describe_exception(exc: BaseException, student_files: tuple[str, ...] = ("<cell",)) -> dict:
    """Type, message and the student's part of the traceback of an exception, as plain data.

    Only the student's frames (their cells and lines) are kept, and the grading machine's paths
    (its Python installation, the kit, its work folders) are taken out of the message.
    """
    frames = [
        f"  {fs.filename}, line {fs.lineno}, in {fs.name}: {(fs.line or '').strip()}"
        for fs in traceback.extract_tb(exc.__traceback__)
        if fs.filename.startswith(student_files)
    ]
    return {"type": type(exc).__name__, "message": without_machine_paths(str(exc))[:2000], "where": frames[-5:]}


def _machine_prefixes() -> list[str]:
    """Folders of the grading machine whose names mean nothing to a student, longest first."""
    import site
    import sysconfig
    import tempfile

    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, tempfile.gettempdir(), os.getcwd(),
             str(Path(__file__).resolve().parents[2]),  # the folder holding the autograder package
             os.path.expanduser("~")}
    found.update(sysconfig.get_paths().values())
    try:
        found.update(site.getsitepackages())
    except AttributeError:  # some virtual environments' site module lacks it
        pass
    found.update(p for p in sys.path if p and os.path.isabs(p))
    return sorted({str(p).rstrip("/") for p in found if p and len(str(p)) > 1}, key=len, reverse=True)


def without_machine_paths(text: str) -> str:
    """``text`` with the grading machine's folders taken out of any path in it.

    ``cannot import name 'np_utils' from 'keras.utils' (/usr/lib/.../keras/utils/__init__.py)`` becomes
    ``cannot import name 'np_utils' from 'keras.utils'``: the module is named already. Other paths keep
    only their part below the machine's folders (``keras/utils/__init__.py``).
    """
    import re

    text = re.sub(r"(cannot import name .*? from '[\w.]+') \((?:/[^()]*|unknown location)\)", r"\1", text)
    for prefix in _machine_prefixes():
        if prefix in text:
            text = re.sub(re.escape(prefix) + r"(?:/|\b)", "", text)
    return text


def keras2_hint(message: str) -> Message | None:
    """A hint for an error that comes from using Keras 2's API under Keras 3 (None for other errors)."""
    if "np_utils" in message:
        return _("keras.utils.np_utils is Keras 2's API and no longer exists in Keras 3. This exercise does not "
                 "need it (the labels stay 0/1 for one sigmoid output); delete the import. If you want "
                 "to_categorical elsewhere, it now lives in keras.utils: from keras.utils import to_categorical.")
    if "not recognized" in message and ("'lr'" in message or "'decay'" in message):
        return _("lr= and decay= are Keras 2's optimizer arguments; Keras 3 calls the learning rate "
                 "learning_rate= (e.g. keras.optimizers.SGD(learning_rate=0.01)) and has no decay=.")
    if "No module named 'keras." in message and any(f"keras.{m}" in message for m in
                                                      ("layers.core", "layers.convolutional", "engine", "wrappers")):
        return _("that module path is Keras 2's layout; in Keras 3 import the layers from keras.layers "
                 "(e.g. from keras import layers, then layers.Dense).")
    if "predict_classes" in message:
        return _("predict_classes is Keras 2's API; in Keras 3 use (model.predict(x) > 0.5).astype('int32') "
                 "for one sigmoid output.")
    return None


def hint_for_error(error_type: str, fn: str, message: str = "") -> Message:
    """The hint under an error a student's function raised: a Keras 2 habit, the stub, a name or shape error."""
    keras2 = keras2_hint(message)
    if keras2 is not None:
        return keras2
    if error_type == "NotImplementedError":
        return _("{fn} is still the stub: replace `raise NotImplementedError()` with your code.").format(fn=fn)
    if error_type == "NameError":
        return _("{fn} uses a name that is not defined where its check cell runs. The grader runs the notebook's "
                 "cells in order up to there, but not the provided cells that load data, train or plot: pass what "
                 "{fn} needs as an argument, or define it in a cell above.").format(fn=fn)
    if error_type == "ValueError" and fn.startswith("prepare"):
        return _("reshape with the number of images you were given (len(x) or -1), not a fixed 60000.")
    return _("run {fn} on a small input in the notebook and read the error.").format(fn=fn)
