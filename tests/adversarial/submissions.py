"""The adversarial submissions: each an exploit (or a malformed file) and the grade it must get.

Most submissions are the numpy-only reference answers for relabel/split/prepare with one exploit
added; an exploit is paired with a wrong answer wherever it would otherwise be invisible, so that
if it worked it would *gain* a point — the expected grade is what the same submission scores
without its exploit. Cases that need Keras grade the model groups instead.
"""

from __future__ import annotations

import json
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from autograder.dev.broken import VARIANTS_BY_NAME
from autograder.course.examples import filled_release, reference_source
from sandbox_attack import relabel_doing  # the cases use it; it lives beside the sandbox attack that uses it too

ARRAYS = ("relabel", "split", "prepare")
FULL = {"relabel": 1.0, "split": 1.0, "prepare": 1.0}
RELABEL_LOST = {"relabel": 0.0, "split": 1.0, "prepare": 1.0}
NOTHING = {"relabel": 0.0, "split": 0.0, "prepare": 0.0}

IMPORTS = "import numpy as np"
SPLIT = reference_source("split_train_val")
PREPARE = reference_source("prepare_mlp_input") + "\n\n" + reference_source("prepare_cnn_input")
RELABEL = reference_source("relabel_odd_even")
WRONG_RELABEL = "def relabel_odd_even(y):\n    return np.zeros_like(y)  # wrong: every digit even\n"


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    expected: dict[str, float]
    cells: tuple[str, ...] = ()
    # Writes the submission file itself (malformed cases); otherwise the cells make a notebook.
    write: Callable[[Path], None] | None = None
    groups: tuple[str, ...] = ARRAYS
    # Limits to tighten for this case (so that a timeout costs seconds, not minutes).
    limits: dict = field(default_factory=dict)
    # A protection the case depends on ("namespaces", "pids"): skipped, with a reason, where missing.
    requires: str | None = None
    # Graded in a fresh process whose peak memory (ru_maxrss) must stay below this many MB.
    max_grader_mb: int | None = None
    # Words the result must contain: the exploit is refused for the reason the case is about.
    reason: str | None = None


def notebook(*cells: str) -> tuple[str, ...]:
    return (IMPORTS, *cells)


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _release_edit(edit: Callable[[nbformat.NotebookNode], None], replacements: dict | None = None):
    def write(path: Path) -> None:
        from repo_paths import RELEASE

        nb = filled_release(nbformat.read(RELEASE, as_version=4), replacements or {})
        edit(nb)
        nbformat.write(nb, path)

    return write


def _drop_test_cells(nb):
    nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def _tests_to_markdown(nb):
    for c in nb.cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade"):
            c.cell_type = "markdown"
            c.pop("outputs", None)
            c.pop("execution_count", None)


def _tests_edited(nb):
    for c in nb.cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade"):
            c.source = "assert True  # all tests pass, promise"


def _old_nbformat(path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in notebook(RELABEL, SPLIT, PREPARE)])
    nbformat.write(nbformat.convert(nb, 3), path, version=3)


def _non_utf8(path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in notebook(RELABEL, SPLIT, PREPARE)])
    path.write_bytes(nbformat.writes(nb).replace("np.asarray", "np.asarray  # caf\u00e9").encode("latin-1", "replace")
                     .replace(b"caf?", b"caf\xe9"))


BAD_SPLIT_LEAK = ("def split_train_val(x, y, n_val=10000):\n"
                  "    return x, y, x[len(x) - n_val:], y[len(y) - n_val:]  # trains on the validation set too\n")
MODEL_GROUP = ("mlp",)
BIG_MLP = '''import keras
from keras import layers

def build_mlp():
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(512, activation="relu"),
                             layers.Dense(512, activation="relu"), layers.Dense(1, activation="sigmoid")])
'''

# ---------------------------------------------------------------- files the grader reads back (issue 10)
# A cell patches what the submission's own process uses to write its results (keras.Model.save,
# np.savez), so the grader finds a hostile file where a result should be.
MLP = reference_source("build_mlp")
KERAS_IMPORTS = "import keras\nfrom keras import layers"


def saves_model_as(body: str) -> str:
    """A cell that makes keras.Model.save write ``body``'s file instead (``path``: where, ``real``: a genuine save)."""
    return textwrap.dedent("""
        import keras, os, tempfile, zipfile

        def _real_save(model):
            real = tempfile.mkdtemp() + "/real.keras"
            _original_save(model, real)
            return real

        def _hostile_save(self, path, *args, **kwargs):
            real = _real_save(self)
        {body}

        _original_save = keras.Model.save
        keras.Model.save = _hostile_save
        """).format(body=textwrap.indent(textwrap.dedent(body).strip(), "    "))


def savez_for_relabel_as(body: str) -> str:
    """A cell that makes np.savez write ``body``'s file for relabel_digits (``file``: where, ``arrays``: the real ones)."""
    return textwrap.dedent("""
        import zipfile, os

        _original_savez = np.savez

        def _hostile_savez(file, **arrays):
            if not str(file).endswith("relabel_digits.npz"):
                return _original_savez(file, **arrays)
        {body}

        np.savez = _hostile_savez
        """).format(body=textwrap.indent(textwrap.dedent(body).strip(), "    "))


CONFIG_BOMB = saves_model_as("""
    with zipfile.ZipFile(real) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        zout.writestr("metadata.json", zin.read("metadata.json"))
        zout.writestr("model.weights.h5", zin.read("model.weights.h5"))
        with zout.open("config.json", "w", force_zip64=True) as out:
            out.write(zin.read("config.json")[:-1])
            for _ in range(1024):  # 1 GiB of spaces, written 1 MiB at a time
                out.write(b" " * 2**20)
            out.write(b"}")
    """)
WEIGHTS_BOMB = saves_model_as("""
    with zipfile.ZipFile(real) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        zout.writestr("metadata.json", zin.read("metadata.json"))
        zout.writestr("config.json", zin.read("config.json"))
        with zout.open("model.weights.h5", "w", force_zip64=True) as out:
            out.write(zin.read("model.weights.h5"))
            for _ in range(1024):  # 1 GiB of spaces, written 1 MiB at a time
                out.write(b" " * 2**20)
    """)
THOUSANDS_OF_MEMBERS = saves_model_as("""
    with zipfile.ZipFile(real) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        for i in range(20000):
            zout.writestr(f"assets/{i}.txt", b"")
    """)
PATH_TRAVERSAL = saves_model_as("""
    with zipfile.ZipFile(real) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        zout.writestr("../../../escaped.txt", b"written outside the work folder")
    """)
TRUNCATED_MODEL = saves_model_as("""
    data = open(real, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    """)
SYMLINKED_MODEL = saves_model_as("""
    os.symlink("/dev/zero", path)
    """)
HUGE_DECLARED_MODEL = saves_model_as("""
    import json
    with zipfile.ZipFile(real) as zin, zipfile.ZipFile(path, "w") as zout:
        config = json.loads(zin.read("config.json"))
        for layer in config["config"]["layers"]:
            layer.pop("build_config", None)
        dense = [layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense"]
        dense[0]["config"]["units"] = 10**6  # 1.04 billion parameters: 4 GB of weights if built
        zout.writestr("metadata.json", zin.read("metadata.json"))
        zout.writestr("config.json", json.dumps(config))
        zout.writestr("model.weights.h5", zin.read("model.weights.h5"))
    """)
NPZ_BOMB = savez_for_relabel_as("""
    import io
    header = io.BytesIO()
    np.lib.format.write_array(header, np.zeros(20, np.int64))
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as zout:
        with zout.open("returned_0.npy", "w", force_zip64=True) as out:
            out.write(header.getvalue())
            for _ in range(1024):  # 1 GiB of spaces, written 1 MiB at a time
                out.write(b" " * 2**20)
    """)
TRUNCATED_NPZ = savez_for_relabel_as("""
    _original_savez(file, **arrays)
    data = open(file, "rb").read()
    open(file, "wb").write(data[: len(data) // 2])
    """)
SYMLINKED_RECORD = savez_for_relabel_as("""
    _original_savez(file, **arrays)
    os.symlink("/dev/zero", str(file)[:-4] + ".json")
    """)
FIFO_RECORD = savez_for_relabel_as("""
    _original_savez(file, **arrays)
    os.mkfifo(str(file)[:-4] + ".json")
    """)
# A model within every bound on its saved file that still needs much memory to train: seven unpooled
# 64-filter convolutions (about 0.9 GB in the model process on the sample data, against 768 MB allowed here).
WIDE_CNN = """def build_cnn():
    return keras.Sequential([keras.Input(shape=(28, 28, 1))]
                            + [layers.Conv2D(64, 3, padding="same", activation="relu") for _ in range(7)]
                            + [layers.Flatten(), layers.Dense(1, activation="sigmoid")])
"""
# What the grader may hold while it grades one of these: it measured about 1.3 GB for a plain submission.
GRADER_MB = 2500
BOMB = {"max_grader_mb": GRADER_MB}

CASES: tuple[Case, ...] = (
    # ---------------------------------------------------------------- malformed
    Case("invalid_json", "malformed", NOTHING, write=_bytes(b'{"cells": [ this is not json')),
    Case("old_nbformat_v3", "malformed", FULL, write=_old_nbformat),
    Case("non_utf8_bytes", "malformed", NOTHING, write=_non_utf8),
    Case("json_list_not_notebook", "malformed", NOTHING, write=_bytes(b"[1, 2, 3]")),
    Case("empty_notebook", "malformed", NOTHING, write=lambda p: nbformat.write(nbformat.v4.new_notebook(), p)),
    Case("relabel_deleted", "malformed", RELABEL_LOST, notebook(SPLIT, PREPARE)),
    Case("relabel_renamed", "malformed", RELABEL_LOST, notebook(RELABEL.replace("def relabel_odd_even", "def relabel"),
                                                                SPLIT, PREPARE)),
    Case("syntax_error_in_relabel_cell", "malformed", RELABEL_LOST, notebook(RELABEL + "\n    return (", SPLIT, PREPARE)),
    Case("model_member_escapes_its_folder", "malformed", {"mlp": 0.0}, (PATH_TRAVERSAL, KERAS_IMPORTS, MLP),
         groups=MODEL_GROUP, reason="'../../../escaped.txt', not metadata.json", **BOMB),
    Case("truncated_model_zip", "malformed", {"mlp": 0.0}, (TRUNCATED_MODEL, KERAS_IMPORTS, MLP), groups=MODEL_GROUP,
         reason="build_mlp.keras is not a complete zip archive", **BOMB),
    Case("truncated_npz", "malformed", RELABEL_LOST, notebook(TRUNCATED_NPZ, RELABEL, SPLIT, PREPARE),
         reason="relabel_digits.npz is not a complete zip archive", **BOMB),
    Case("symlink_for_the_model", "malformed", {"mlp": 0.0}, (SYMLINKED_MODEL, KERAS_IMPORTS, MLP), groups=MODEL_GROUP,
         reason="build_mlp.keras is a symbolic link", **BOMB),
    Case("symlink_for_the_record", "malformed", RELABEL_LOST, notebook(SYMLINKED_RECORD, RELABEL, SPLIT, PREPARE),
         reason="relabel_digits.json is a symbolic link", **BOMB),
    Case("fifo_for_the_record", "malformed", RELABEL_LOST, notebook(FIFO_RECORD, RELABEL, SPLIT, PREPARE),
         limits={"call_timeout_s": 5}, reason="relabel_digits.json is not a regular file", **BOMB),
    Case("test_cells_deleted", "malformed", FULL, write=_release_edit(_drop_test_cells)),
    Case("test_cells_turned_markdown", "malformed", FULL, write=_release_edit(_tests_to_markdown)),
    # ---------------------------------------------------------------- test tampering
    Case("test_cells_edited", "tampering", RELABEL_LOST,
         write=_release_edit(_tests_edited, {"relabel_odd_even": WRONG_RELABEL})),
    Case("patched_numpy_testing", "tampering", RELABEL_LOST, notebook(
        "np.testing.assert_array_equal = np.testing.assert_equal = (lambda *a, **k: None)", WRONG_RELABEL, SPLIT, PREPARE)),
    Case("patched_numpy_array_equal", "tampering", RELABEL_LOST, notebook(
        "np.array_equal = (lambda *a, **k: True)\nnp.all = (lambda *a, **k: True)", WRONG_RELABEL, SPLIT, PREPARE)),
    Case("patched_builtins", "tampering", RELABEL_LOST, notebook(
        "import builtins\nbuiltins.isinstance = (lambda *a: True)\nbuiltins.len = (lambda *a: 20)",
        WRONG_RELABEL, SPLIT, PREPARE)),
    Case("patched_excepthook", "tampering", RELABEL_LOST, notebook(
        "import sys\nsys.excepthook = (lambda *a: None)",
        "def relabel_odd_even(y):\n    raise RuntimeError('hidden by the hook?')", SPLIT, PREPARE)),
    Case("patched_showtraceback", "tampering", RELABEL_LOST, notebook(
        "from IPython.core.interactiveshell import InteractiveShell\nInteractiveShell.showtraceback = (lambda *a, **k: None)",
        WRONG_RELABEL, SPLIT, PREPARE)),
    Case("patched_autograder_checks", "tampering", RELABEL_LOST, notebook(
        "import autograder.checks.relabel as r\nfor n in dir(r):\n    pass\n"
        "r.check_relabel_maps_odd_to_1_and_even_to_0 = (lambda call: None)", WRONG_RELABEL, SPLIT, PREPARE)),
    Case("overwrites_the_grader_on_disk", "tampering", RELABEL_LOST, notebook(relabel_doing("""
        import autograder.checks.relabel as r
        try:
            open(r.__file__, "a").write("\\n# tampered\\n")
            ok = True
        except OSError:
            pass
        """), SPLIT, PREPARE), requires="namespaces"),
    Case("patched_keras_count_params", "tampering", {"mlp": 0.0}, (
        "import keras\nkeras.Model.count_params = (lambda self: 335873)", BIG_MLP), groups=MODEL_GROUP),
    Case("patched_keras_evaluate", "tampering", {"accuracy": 0.0}, (
        "import keras\nfrom keras import layers\nkeras.Model.evaluate = (lambda *a, **k: [0.0, 1.0])\n"
        "keras.Model.fit = (lambda *a, **k: None)",
        *VARIANTS_BY_NAME["constant_output"].replacements.values()), groups=("accuracy",)),
    # ---------------------------------------------------------------- spoofed comparisons
    Case("eq_always_true", "spoofing", RELABEL_LOST, notebook(
        "class Yes:\n    def __eq__(self, other):\n        return True\n    __array_priority__ = 1000\n",
        "def relabel_odd_even(y):\n    return Yes()", SPLIT, PREPARE)),
    Case("eq_raises", "spoofing", RELABEL_LOST, notebook(
        "class Boom:\n    def __eq__(self, other):\n        raise RuntimeError('no comparing')\n",
        "def relabel_odd_even(y):\n    return Boom()", SPLIT, PREPARE)),
    Case("bool_raises", "spoofing", RELABEL_LOST, notebook(
        "class Boom(np.ndarray):\n    def __bool__(self):\n        raise RuntimeError('no truth')\n",
        "def relabel_odd_even(y):\n    return np.zeros_like(y).view(Boom)", SPLIT, PREPARE)),
    Case("len_raises", "spoofing", RELABEL_LOST, notebook(
        "class Boom(np.ndarray):\n    def __len__(self):\n        raise RuntimeError('no length')\n",
        "def relabel_odd_even(y):\n    return np.zeros_like(y).view(Boom)", SPLIT, PREPARE)),
    Case("lying_ndarray_subclass", "spoofing", RELABEL_LOST, notebook(
        "class Liar(np.ndarray):\n    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n"
        "    def all(self, *a, **k):\n        return True\n    def tolist(self):\n        return [int(v) % 2 for v in np.asarray(self)]\n",
        "def relabel_odd_even(y):\n    return np.zeros_like(y).view(Liar)", SPLIT, PREPARE)),
    Case("nan_pixels", "spoofing", {"relabel": 1.0, "split": 1.0, "prepare": 0.0}, notebook(
        RELABEL, SPLIT, "def prepare_mlp_input(x):\n    return np.full((len(x), 784), np.nan, 'float32')",
        reference_source("prepare_cnn_input"))),
    Case("model_subclass_faking_its_layers", "spoofing", {"mlp": 0.0}, (
        "import keras\nfrom keras import layers\n\n@keras.saving.register_keras_serializable()\n"
        "class Fake(keras.Sequential):\n    @property\n    def layers(self):\n        return []\n",
        "def build_mlp():\n    return Fake([keras.Input(shape=(784,)), layers.Dense(1, activation='sigmoid')])"),
         groups=MODEL_GROUP),
    Case("model_with_a_lying_summary", "spoofing", {"mlp": 0.0}, (
        BIG_MLP.replace("def build_mlp():", "def _real():")
        + "\ndef build_mlp():\n    m = _real()\n    m.summary = (lambda *a, **k: print('dense 256 256 256 1'))\n    return m\n",),
         groups=MODEL_GROUP),
    # ---------------------------------------------------------------- killing the process
    Case("sys_exit_in_relabel", "process", RELABEL_LOST, notebook(
        "import sys\ndef relabel_odd_even(y):\n    sys.exit(0)", SPLIT, PREPARE)),
    Case("os_exit_in_relabel", "process", RELABEL_LOST, notebook(
        "import os\ndef relabel_odd_even(y):\n    os._exit(0)", SPLIT, PREPARE)),
    Case("atexit_os_exit", "process", RELABEL_LOST, notebook(
        "import atexit, os\natexit.register(os._exit, 0)", WRONG_RELABEL, SPLIT, PREPARE)),
    Case("sigkill_self", "process", RELABEL_LOST, notebook(
        "import os, signal\ndef relabel_odd_even(y):\n    os.kill(os.getpid(), signal.SIGKILL)", SPLIT, PREPARE)),
    Case("base_exception", "process", RELABEL_LOST, notebook(
        "def relabel_odd_even(y):\n    raise BaseException('not an Exception')", SPLIT, PREPARE)),
    Case("keyboard_interrupt", "process", RELABEL_LOST, notebook(
        "def relabel_odd_even(y):\n    raise KeyboardInterrupt", SPLIT, PREPARE)),
    # IPython (and so nbgrader) catches SystemExit raised in a cell and runs the next cells; the grader
    # does the same, reporting it as that cell's problem, so the correct functions after it count.
    Case("sys_exit_while_defining", "process", FULL, notebook(
        "import sys\nclass Stop:\n    sys.exit(0)", RELABEL, SPLIT, PREPARE)),
    # ---------------------------------------------------------------- resources
    # As in a kernel, a cell that never ends is interrupted (here after limits.cell_timeout_s) and the next
    # cells run; a cell that ignores the interrupt, or kills the process, is left out of a new run.
    Case("endless_loop_while_defining", "resources", FULL, notebook(
        "def trap(x=[i for i in iter(int, 1)]):\n    pass", RELABEL, SPLIT, PREPARE),
         limits={"cell_timeout_s": 2}, reason="was stopped after"),
    Case("cell_ignores_its_interrupt", "resources", FULL, notebook(
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass", RELABEL, SPLIT, PREPARE),
         limits={"cell_timeout_s": 2}, reason="ended the submission's process"),
    Case("cell_kills_the_process", "process", FULL, notebook(
        "import os\nos._exit(1)", RELABEL, SPLIT, PREPARE), reason="ended the submission's process"),
    Case("endless_loop_in_relabel", "resources", RELABEL_LOST, notebook(
        "def relabel_odd_even(y):\n    while True:\n        pass", SPLIT, PREPARE), limits={"call_timeout_s": 4}),
    Case("huge_allocation", "resources", RELABEL_LOST, notebook(
        "def relabel_odd_even(y):\n    big = np.ones((10**6, 10**6))\n    return np.asarray(y) % 2", SPLIT, PREPARE)),
    Case("fork_bomb", "resources", RELABEL_LOST, notebook(
        "import os\ndef relabel_odd_even(y):\n    while True:\n        os.fork()", SPLIT, PREPARE),
         limits={"call_timeout_s": 10}, requires="pids"),
    Case("fills_the_disk", "resources", RELABEL_LOST, notebook(relabel_doing("""
        import tempfile
        with open(tempfile.gettempdir() + "/fill", "wb") as f:
            for _ in range(200):
                f.write(b"x" * 2**20)
        ok = True
        """), SPLIT, PREPARE), limits={"file_size_limit_mb": 64}),
    Case("config_json_bomb", "resources", {"mlp": 0.0}, (CONFIG_BOMB, KERAS_IMPORTS, MLP), groups=MODEL_GROUP,
         reason="config.json in build_mlp.keras is 1,07", **BOMB),
    Case("weights_file_bomb", "resources", {"mlp": 0.0}, (WEIGHTS_BOMB, KERAS_IMPORTS, MLP), groups=MODEL_GROUP,
         reason="model.weights.h5 in build_mlp.keras is 1,07", **BOMB),
    Case("config_declares_a_huge_model", "resources", {"mlp": 0.0}, (HUGE_DECLARED_MODEL, KERAS_IMPORTS, MLP),
         groups=MODEL_GROUP, reason="the saved model is larger than any model of this exercise could be: it has "
                                    "1,041,", **BOMB),
    Case("zip_of_thousands_of_members", "resources", {"mlp": 0.0}, (THOUSANDS_OF_MEMBERS, KERAS_IMPORTS, MLP),
         groups=MODEL_GROUP, reason="build_mlp.keras holds 20,003 files", **BOMB),
    Case("model_exhausts_the_graders_model_memory", "resources", {"accuracy": 2.0},
         (KERAS_IMPORTS, MLP, WIDE_CNN, reference_source("build_deep_cnn")), groups=("accuracy",),
         limits={"model_memory_limit_mb": 768}, requires="memory",
         reason="needed more memory than the grader allows for one submission's models (768 MB", **BOMB),
    Case("npz_member_beyond_its_shape", "resources", RELABEL_LOST, notebook(NPZ_BOMB, RELABEL, SPLIT, PREPARE),
         reason="returned_0.npy in relabel_digits.npz is 1,07", **BOMB),
    Case("prints_100_mb", "resources", FULL, notebook(
        "import sys\ndef relabel_odd_even(y):\n    for _ in range(100):\n        sys.stdout.write('x' * 2**20)\n"
        "    return np.asarray(y) % 2", SPLIT, PREPARE)),
    # ---------------------------------------------------------------- leakage
    Case("reads_the_solutions", "leakage", RELABEL_LOST, notebook(relabel_doing("""
        import glob
        for path in glob.glob(COURSE + "/solutions/**/*.ipynb", recursive=True):
            ok = "BEGIN SOLUTION" in open(path).read()
        """), SPLIT, PREPARE), requires="namespaces"),
    Case("imports_the_reference", "leakage", RELABEL_LOST, notebook(relabel_doing("""
        try:
            from autograder.grader import reference
            ok = reference.relabel_odd_even is not None
        except Exception:
            pass
        """), SPLIT, PREPARE), requires="namespaces"),
    Case("reads_another_submission", "leakage", RELABEL_LOST, notebook(relabel_doing("""
        try:
            ok = "relabel" in open(COURSE + "/submitted/other_student/binary_mnist/binary_mnist.ipynb").read()
        except OSError:
            pass
        """), SPLIT, PREPARE), requires="namespaces"),
    # grade-all grades several submissions at once, each in a work folder in the shared temp folder (the
    # course fixture plants one there): none may read another's notebook or outputs, nor the grader's own folders.
    Case("reads_another_gradings_work_folder", "leakage", RELABEL_LOST, notebook(relabel_doing("""
        import glob, os
        mine = os.path.realpath(os.getcwd())
        for path in glob.glob(os.path.join(TEMP, "autograder-*", "**"), recursive=True):
            if os.path.isfile(path) and not os.path.realpath(path).startswith(mine):
                try:
                    ok = ok or len(open(path, "rb").read(64)) > 0
                except OSError:
                    pass
        """), SPLIT, PREPARE), requires="namespaces"),
    Case("reads_the_gradebook", "leakage", RELABEL_LOST, notebook(relabel_doing("""
        try:
            ok = len(open(COURSE + "/gradebook.db", "rb").read()) > 0
        except OSError:
            pass
        """), SPLIT, PREPARE), requires="namespaces"),
    Case("fetches_from_the_network", "leakage", RELABEL_LOST, notebook(relabel_doing("""
        import socket
        try:
            socket.create_connection(("pypi.org", 443), timeout=3).close()
            ok = True
        except OSError:
            pass
        """), SPLIT, PREPARE), requires="namespaces"),
    Case("reads_mnist_from_the_environment", "leakage", RELABEL_LOST, notebook(relabel_doing("""
        import os
        ok = bool(os.environ.get("MNIST_PATH") or os.environ.get("COURSE_CONFIG"))
        """), SPLIT, PREPARE)),
    # ---------------------------------------------------------------- forging results
    Case("prints_passed", "forgery", RELABEL_LOST, notebook(
        "print('PASSED relabel 1/1\\nTotal: 13/13')", WRONG_RELABEL.replace("    return", "    print('PASSED')\n    return"),
        SPLIT, PREPARE)),
    Case("writes_a_results_file", "forgery", RELABEL_LOST, notebook(relabel_doing("""
        import json, os
        fake = {"score": 13, "max_score": 13, "tests": []}
        for folder in (os.getcwd(), os.path.dirname(os.getcwd()), "/tmp", COURSE):
            try:
                open(os.path.join(folder, "results.json"), "w").write(json.dumps(fake))
            except OSError:
                pass
        """), SPLIT, PREPARE)),
    Case("writes_the_gradebook", "forgery", RELABEL_LOST, notebook(relabel_doing("""
        try:
            with open(COURSE + "/gradebook.db", "ab") as f:
                f.write(b"UPDATE grade SET score = 13")
            ok = b"UPDATE grade" in open(COURSE + "/gradebook.db", "rb").read()
        except OSError:
            pass
        """), SPLIT, PREPARE), requires="namespaces"),
    # ---------------------------------------------------------------- ML-specific
    Case("right_accuracy_wrong_architecture", "ml", {"mlp": 0.0}, (BIG_MLP,), groups=MODEL_GROUP),
    Case("constant_predictor", "ml", {"accuracy": 0.0}, tuple(VARIANTS_BY_NAME["constant_output"].replacements.values())
         + ("import keras\nfrom keras import layers",), groups=("accuracy",)),
    Case("validation_leaked_into_training", "ml", {"relabel": 1.0, "split": 0.0, "prepare": 1.0},
         notebook(RELABEL, BAD_SPLIT_LEAK, PREPARE)),
)


def write_submission(case: Case, path: Path, course_root: Path) -> Path:
    """Write the case's submission to ``path`` (the course root is baked into leakage cases as COURSE)."""
    if case.write:
        case.write(path)
        return path
    cells = [f"COURSE = {json.dumps(str(course_root))}\nTEMP = {json.dumps(tempfile.gettempdir())}", *case.cells]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, path)
    return path
