"""Correct notebooks written in the ordinary ways students write them, and one-group defects of them.

Issue 18, item 6. Each corpus entry (``CORPUS``) is the release notebook with every answer cell
filled in with the reference code, then changed by a few small, named edits into one *spelling*
a real student could use: a ``%%time`` cell, shell lines, a top-level ``if``/``try``/``for``/
``with``, constants computed with calls, helpers in cells of their own, an answer in a new cell
below the untouched stub, Unicode names, CRLF line endings, tabs, Keras aliases, prints, a small
training cell, a leftover cell at the end that raises... Every corpus notebook runs top to bottom
in Jupyter with every check cell passing, so every grading path must give it full marks.

Each defect (``DEFECTS``) takes one corpus spelling and puts one bug into it (or moves one cell
below its check cell); it records exactly which groups it loses, and, for the partial-credit
accuracy group, which models' accuracy checks fail.

Edits keep an answer cell's nbgrader metadata (its grade_id), so nbgrader still recognises it;
added cells have no nbgrader metadata, as Jupyter makes them. Every edit raises when the text or
cell it targets is missing, so none is silently a no-op; each entry also names a ``marker``, text
that must be in the notebook it builds.

Used by tests/test_spellings.py (every grading path: ``grade``, the self-check, nbgrader).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import nbformat

from autograder.course.examples import filled_release, reference_source
from autograder.engine.results import split_check_name
from autograder.hidden.every_probe import function_called_by

Edit = Callable[[nbformat.NotebookNode], None]
BUILDERS = ("build_mlp", "build_cnn", "build_deep_cnn")


# ---------------------------------------------------------------- cells and edits


def cell_of(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    """The cell with nbgrader grade_id ``grade_id`` (answer cells are named for their function)."""
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise LookupError(f"the notebook has no cell with grade_id {grade_id!r}")


def _index_of(nb: nbformat.NotebookNode, grade_id: str) -> int:
    return nb.cells.index(cell_of(nb, grade_id))


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _student_cell(nb: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """A new code cell as Jupyter makes one: no nbgrader metadata, an id unique in ``nb``."""
    taken = {c.get("id") for c in nb.cells}
    number = next(n for n in range(1, 10**6) if f"student-{n}" not in taken)
    cell = nbformat.v4.new_code_cell(source)
    cell.id = f"student-{number}"
    return cell


def replace(grade_id: str, old: str, new: str, count: int = -1) -> Edit:
    """Replace ``old`` by ``new`` in the cell ``grade_id`` (all occurrences unless ``count``)."""

    def edit(nb):
        cell = cell_of(nb, grade_id)
        text = _source(cell)
        if old not in text:
            raise LookupError(f"cell {grade_id!r} does not contain {old!r}")
        cell.source = text.replace(old, new, count)

    edit.__name__ = f"replace_in_{grade_id}"
    return edit


def answer(grade_id: str, source: str) -> Edit:
    """Make ``source`` the whole answer cell ``grade_id``."""

    def edit(nb):
        cell_of(nb, grade_id).source = source.strip("\n")

    edit.__name__ = f"answer_{grade_id}"
    return edit


def prepend(grade_id: str, text: str) -> Edit:
    """Put ``text`` at the top of the cell ``grade_id``."""

    def edit(nb):
        cell = cell_of(nb, grade_id)
        cell.source = text + _source(cell)

    edit.__name__ = f"prepend_to_{grade_id}"
    return edit


def append(grade_id: str, text: str) -> Edit:
    """Put ``text`` at the bottom of the cell ``grade_id``."""

    def edit(nb):
        cell = cell_of(nb, grade_id)
        cell.source = _source(cell).rstrip("\n") + text

    edit.__name__ = f"append_to_{grade_id}"
    return edit


def insert_after(grade_id: str, source: str) -> Edit:
    """A new student cell (no nbgrader metadata) right below the cell ``grade_id``."""

    def edit(nb):
        nb.cells.insert(_index_of(nb, grade_id) + 1, _student_cell(nb, source.strip("\n")))

    edit.__name__ = f"insert_after_{grade_id}"
    return edit


def insert_before(grade_id: str, source: str) -> Edit:
    """A new student cell (no nbgrader metadata) right above the cell ``grade_id``."""

    def edit(nb):
        nb.cells.insert(_index_of(nb, grade_id), _student_cell(nb, source.strip("\n")))

    edit.__name__ = f"insert_before_{grade_id}"
    return edit


def at_end(source: str) -> Edit:
    """A new student cell at the very end of the notebook."""

    def edit(nb):
        nb.cells.append(_student_cell(nb, source.strip("\n")))

    edit.__name__ = "append_cell_at_end"
    return edit


def move_below(contains: str, grade_id: str) -> Edit:
    """Move the student cell holding ``contains`` to right below the cell ``grade_id``."""

    def edit(nb):
        found = [c for c in nb.cells if c.cell_type == "code" and not c.get("metadata", {}).get("nbgrader")
                 and contains in _source(c)]
        if len(found) != 1:
            raise LookupError(f"{len(found)} student cells contain {contains!r}, expected one")
        nb.cells.remove(found[0])
        nb.cells.insert(_index_of(nb, grade_id) + 1, found[0])

    edit.__name__ = f"move_below_{grade_id}"
    return edit


def crlf(*grade_ids: str) -> Edit:
    """Windows line endings (``\\r\\n``) inside the sources of the cells ``grade_ids``."""

    def edit(nb):
        for grade_id in grade_ids:
            cell = cell_of(nb, grade_id)
            cell.source = _source(cell).replace("\r\n", "\n").replace("\n", "\r\n")

    edit.__name__ = "crlf"
    return edit


def tabs(*grade_ids: str) -> Edit:
    """Indentation with tabs (each leading run of four spaces becomes a tab) in the cells ``grade_ids``."""

    def edit(nb):
        for grade_id in grade_ids:
            cell = cell_of(nb, grade_id)
            lines = []
            for line in _source(cell).split("\n"):
                stripped = line.lstrip(" ")
                depth = (len(line) - len(stripped)) // 4
                lines.append("\t" * depth + line[depth * 4:])
            cell.source = "\n".join(lines)

    edit.__name__ = "tabs"
    return edit


# ---------------------------------------------------------------- entries


def model_of(check_name: str) -> str | None:
    """The builder a check's probe calls: ``rule[build_cnn_for_accuracy]`` → build_cnn (None: no builder)."""
    function = function_called_by(split_check_name(check_name)[1])
    return function if function in BUILDERS else None


@dataclass(frozen=True)
class Spelling:
    """One correct way of writing the notebook: the release, filled with the reference, then ``edits``."""

    name: str
    description: str
    edits: tuple[Edit, ...]
    # Text the built notebook holds in its code cells (guards against a no-op edit); a pack has several.
    marker: str | tuple[str, ...]
    # Answer cells left as the release's stub before the edits run (their answer goes elsewhere).
    stubs: tuple[str, ...] = ()

    @property
    def markers(self) -> tuple[str, ...]:
        return (self.marker,) if isinstance(self.marker, str) else self.marker

    def build(self, release: nbformat.NotebookNode) -> nbformat.NotebookNode:
        """release notebook → this spelling's notebook (a new one; ``release`` is not changed)."""
        nb = filled_release(release, {})
        for name in self.stubs:
            cell_of(nb, name).source = _source(cell_of(release, name))
        for edit in self.edits:
            edit(nb)
        return nb

    __call__ = build


@dataclass(frozen=True)
class Defect:
    """A corpus spelling with one bug: it loses exactly ``groups`` and the accuracy of ``accuracy_of``."""

    name: str
    description: str
    spelling: str | Spelling  # the CORPUS entry it starts from (a pack's combined spelling for a pack)
    edits: tuple[Edit, ...]
    marker: str | tuple[str, ...]
    groups: tuple[str, ...]  # groups that score 0 (all-or-nothing groups)
    accuracy_of: tuple[str, ...] = ()  # builders whose accuracy check fails (1 accuracy point each)

    @property
    def markers(self) -> tuple[str, ...]:
        return (self.marker,) if isinstance(self.marker, str) else self.marker

    @property
    def base(self) -> Spelling:
        """The correct notebook this defect starts from."""
        return self.spelling if isinstance(self.spelling, Spelling) else SPELLINGS_BY_NAME[self.spelling]

    @property
    def lost(self) -> frozenset[str]:
        """Every group below full marks."""
        return frozenset(self.groups) | ({"accuracy"} if self.accuracy_of else set())

    def expected_scores(self, points: dict[str, float]) -> dict[str, float]:
        """Group → the score every grading path must give (``points``: course.yml's points per group)."""
        per_model = points["accuracy"] / len(BUILDERS)
        return {g: 0.0 if g in self.groups else
                float(points[g]) - per_model * len(self.accuracy_of) if g == "accuracy" else float(points[g])
                for g in points}

    def fails_check(self, group: str, check_name: str) -> bool:
        """Whether the visible check ``check_name`` (``rule[probe]``, e.g. ``check_...[build_mlp_for_accuracy]``)
        of ``group`` fails."""
        if group == "accuracy":
            return model_of(check_name) in self.accuracy_of
        return group in self.groups

    def build(self, release: nbformat.NotebookNode) -> nbformat.NotebookNode:
        nb = self.base.build(release)
        for edit in self.edits:
            edit(nb)
        return nb

    __call__ = build


def _ref(name: str) -> str:
    return reference_source(name)


def _edited(name: str, *pairs: tuple[str, str]) -> str:
    """The reference source of ``name`` with each (old, new) replacement (each must be found)."""
    source = _ref(name)
    for old, new in pairs:
        if old not in source:
            raise LookupError(f"reference.{name} no longer contains {old!r}: update tests/spellings.py")
        source = source.replace(old, new)
    return source


_CNN_INPUT = "keras.Input(shape=(28, 28, 1)),"
_SIGMOID = 'layers.Dense(1, activation="sigmoid")'
_SOLUTIONS = ("relabel_odd_even", "split_train_val", "prepare_mlp_input", "prepare_cnn_input",
              "build_mlp", "build_cnn", "build_deep_cnn", "compile_model")

_CHANNELS = '''from keras import backend as K

img_rows, img_cols = 28, 28
if K.image_data_format() == 'channels_first':
    input_shape = (1, img_rows, img_cols)
else:
    input_shape = (img_rows, img_cols, 1)


'''

_FOR_MLP = '''HIDDEN_UNITS = []
for _ in range(3):
    HIDDEN_UNITS.append(256)


def build_mlp():
    """Return the lecture's MLP (uncompiled): 784 → 256 → 256 → 256 → 1 (sigmoid)."""
    model = keras.Sequential([keras.Input(shape=(784,))])
    for units in HIDDEN_UNITS:
        model.add(layers.Dense(units, activation="relu"))
    model.add(layers.Dense(1, activation="sigmoid"))
    return model'''

_RANGE_DEEP_CNN = '''FILTERS = list(range(32, 65, 32))  # [32, 64]


def build_deep_cnn():
    """Return the lecture's deep CNN with Dropout (uncompiled)."""
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    for filters in FILTERS:
        model.add(layers.Conv2D(filters, (3, 3), activation="relu"))
        model.add(layers.Conv2D(filters, (3, 3), activation="relu"))
        model.add(layers.MaxPooling2D((2, 2)))
        model.add(layers.Dropout(0.25))
    model.add(layers.Flatten())
    model.add(layers.Dense(256, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(1, activation="sigmoid"))
    return model'''

_HELPER_CONSTANT = '''def flat_size(shape):
    size = 1
    for d in shape:
        size *= d
    return size


MLP_INPUTS = flat_size((28, 28))


'''

_UNICODE_MLP = '''크기 = 256  # 은닉층의 유닛 수
größe = 1


def build_mlp():
    """784 → 256 → 256 → 256 → 1 (sigmoid)인 MLP를 돌려준다 (컴파일하지 않음)."""
    return keras.Sequential([
        keras.Input(shape=(784,)),
        layers.Dense(크기, activation="relu"),
        layers.Dense(크기, activation="relu"),
        layers.Dense(크기, activation="relu"),
        layers.Dense(größe, activation="sigmoid"),
    ])'''

_KOREAN_RELABEL = '''def relabel_odd_even(y):
    """홀수는 1, 짝수는 0인 배열을 돌려준다 (y는 바꾸지 않는다)."""
    # 2로 나눈 나머지: 홀수 → 1, 짝수 → 0
    return np.asarray(y) % 2'''

_KOREAN_SPLIT = '''def split_train_val(x, y, n_val=10000):
    """마지막 n_val개를 검증 세트로: (x_train, y_train, x_val, y_val), 순서는 그대로."""
    n_train = len(x) - n_val  # 학습용 개수
    # 앞부분은 학습, 뒷부분은 검증
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]'''

_TF_KERAS_MLP = '''from tensorflow import keras
import tensorflow as tf


def build_mlp():
    """Return the lecture's MLP (uncompiled): 784 → 256 → 256 → 256 → 1 (sigmoid)."""
    return keras.Sequential([
        keras.Input(shape=(784,)),
        tf.keras.layers.Dense(256, activation="relu"),
        tf.keras.layers.Dense(256, activation="relu"),
        tf.keras.layers.Dense(256, activation="relu"),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])'''

_ALIASES_CNN = '''def build_cnn():
    """Return the lecture's CNN (uncompiled)."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Convolution2D(32, 3, activation=keras.activations.relu),
        keras.layers.MaxPool2D(2),
        keras.layers.Convolution2D(32, 3, activation=keras.activations.relu),
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(256, activation=keras.activations.relu),
        keras.layers.Dense(1, activation=keras.activations.sigmoid),
    ])'''

_FUNCTIONAL_DEEP_CNN = '''def build_deep_cnn():
    """Return the lecture's deep CNN with Dropout (uncompiled), with the functional API."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, (3, 3), activation="relu")(inputs)
    x = layers.Conv2D(32, (3, 3), activation="relu")(x)
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)'''

_ADD_DEEP_CNN = '''def build_deep_cnn():
    """Return the lecture's deep CNN with Dropout (uncompiled), added layer by layer."""
    model = keras.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.Conv2D(32, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Dropout(0.25))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Dropout(0.25))
    model.add(layers.Flatten())
    model.add(layers.Dense(256, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(1, activation="sigmoid"))
    return model'''

_OBJECTS_COMPILE = '''def compile_model(model):
    """Compile with binary cross-entropy, SGD and accuracy, as objects; return the model."""
    model.compile(loss=keras.losses.BinaryCrossentropy(),
                  optimizer=keras.optimizers.SGD(),
                  metrics=[keras.metrics.BinaryAccuracy(name="accuracy")])
    return model'''

_FUNCTION_LOSS = "loss=keras.losses.binary_crossentropy"

_SHUFFLED_SPLIT = '''def split_train_val(x, y, n_val=10000):
    """Return (x_train, y_train, x_val, y_val)."""
    order = np.random.permutation(len(x))  # bug: shuffles before splitting
    x, y = x[order], y[order]
    n_train = len(x) - n_val
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]'''

_LIST_SPLIT = '''def split_train_val(x, y, n_val=10000):
    """Return [x_train, y_train, x_val, y_val]: the last n_val samples are validation."""
    n_train = len(x) - n_val
    return [x[:n_train], y[:n_train], x[n_train:], y[n_train:]]'''

# Issue 28.2: the data cell, below the CNN's check cell, defines x_train_cnn; the accuracy cells come after it.
_DATA_CELL_SHAPE = "keras.Input(shape=x_train_cnn.shape[1:]),"


CORPUS: tuple[Spelling, ...] = (
    # ---- magics, shell lines, help
    Spelling("cell_magic_time", "`%%time` as the first line of the build_mlp answer cell",
             (prepend("build_mlp", "%%time\n"),), "%%time\n"),
    Spelling("line_magics", "`%time` and `%timeit -n1 -r1` lines after the definitions in answer cells",
             (append("relabel_odd_even", "\n\n%time _ = relabel_odd_even(np.arange(10))"),
              append("prepare_mlp_input", "\n\n%timeit -n1 -r1 prepare_mlp_input(np.zeros((2, 28, 28)))")),
             "%timeit -n1 -r1 prepare_mlp_input"),
    Spelling("shell_lines", "`!echo hi` in an answer cell, `!pip list | head -1` in a new cell below the imports",
             (prepend("split_train_val", "!echo hi\n"), insert_after("imports", "!pip list | head -1")),
             "!pip list | head -1"),
    Spelling("matplotlib_inline", "`%matplotlib inline` and a small plot at top level of the prepare_cnn_input cell",
             (prepend("prepare_cnn_input", "%matplotlib inline\nimport matplotlib.pyplot as plt\n\n\n"),
              append("prepare_cnn_input", '\n\n\nplt.imshow(prepare_cnn_input(np.zeros((1, 28, 28)))[0, :, :, 0], '
                                          'cmap="gray")\nplt.show()')),
             "%matplotlib inline\nimport matplotlib.pyplot as plt"),
    Spelling("help_and_who", "`split_train_val?` and `%who` in a new cell below the split answer",
             (insert_after("split_train_val", "split_train_val?\n%who"),), "split_train_val?\n%who"),
    # ---- compound statements at the top of a cell
    Spelling("channels_first_if", "the Keras MNIST example's `if K.image_data_format() == 'channels_first': "
                                  "input_shape = ...`, used by both CNNs",
             (prepend("build_cnn", _CHANNELS), replace("build_cnn", _CNN_INPUT, "keras.Input(shape=input_shape),"),
              replace("build_deep_cnn", _CNN_INPUT, "keras.Input(shape=input_shape),")),
             "if K.image_data_format() == 'channels_first':"),
    Spelling("try_import", "a top-level `try: from keras.layers import Dropout / except ImportError:` used by build_deep_cnn",
             (prepend("build_deep_cnn", "try:\n    from keras.layers import Dropout\nexcept ImportError:  # older "
                                        "TensorFlow\n    from tensorflow.keras.layers import Dropout\n\n\n"),
              replace("build_deep_cnn", "layers.Dropout(", "Dropout(")),
             "except ImportError:"),
    Spelling("for_layer_sizes", "a top-level `for` loop building the list of hidden sizes build_mlp adds",
             (answer("build_mlp", _FOR_MLP),), "HIDDEN_UNITS.append(256)"),
    Spelling("with_block", "`with warnings.catch_warnings():` around the import of Conv2D/MaxPooling2D build_cnn uses",
             (answer("build_cnn", "import warnings\n\nwith warnings.catch_warnings():\n    warnings.simplefilter("
                                  '"ignore")\n    from keras.layers import Conv2D, MaxPooling2D\n\n\n'
                     + _edited("build_cnn", ("layers.Conv2D(", "Conv2D("), ("layers.MaxPooling2D(", "MaxPooling2D("))),),
             "with warnings.catch_warnings():"),
    # ---- computed constants
    Spelling("computed_n_pixels", "`N_PIXELS = int(np.prod((28, 28)))` used by prepare_mlp_input and build_mlp",
             (prepend("prepare_mlp_input", "N_PIXELS = int(np.prod((28, 28)))\n\n\n"),
              replace("prepare_mlp_input", "28 * 28", "N_PIXELS"),
              replace("build_mlp", "keras.Input(shape=(784,))", "keras.Input(shape=(N_PIXELS,))")),
             "N_PIXELS = int(np.prod((28, 28)))"),
    Spelling("computed_input_shape", "`INPUT_SHAPE = tuple([28, 28, 1])` used by prepare_cnn_input and build_cnn",
             (prepend("prepare_cnn_input", "INPUT_SHAPE = tuple([28, 28, 1])\n\n\n"),
              replace("prepare_cnn_input", "reshape(len(x), 28, 28, 1)", "reshape(len(x), *INPUT_SHAPE)"),
              replace("build_cnn", _CNN_INPUT, "keras.Input(shape=INPUT_SHAPE),")),
             "INPUT_SHAPE = tuple([28, 28, 1])"),
    Spelling("computed_range", "`FILTERS = list(range(32, 65, 32))` looped over by build_deep_cnn",
             (answer("build_deep_cnn", _RANGE_DEEP_CNN),), "FILTERS = list(range(32, 65, 32))"),
    Spelling("constant_from_helper", "`MLP_INPUTS = flat_size((28, 28))`: a constant computed by the student's own helper",
             (prepend("build_mlp", _HELPER_CONSTANT),
              replace("build_mlp", "keras.Input(shape=(784,))", "keras.Input(shape=(MLP_INPUTS,))")),
             "MLP_INPUTS = flat_size((28, 28))"),
    # ---- helpers and answers in cells of their own
    Spelling("helper_cell_between", "`def dense_relu(n)` in a new cell between the MLP's task text and its answer cell",
             (insert_before("build_mlp", "def dense_relu(n):\n    return layers.Dense(n, activation='relu')"),
              replace("build_mlp", 'layers.Dense(256, activation="relu")', "dense_relu(256)")),
             "def dense_relu(n):"),
    Spelling("helper_in_cell_above", "`def conv_relu(filters)` defined in the prepare_cnn_input answer cell, used by both CNNs",
             (append("prepare_cnn_input", '\n\n\ndef conv_relu(filters):\n    """A 3×3 convolution with relu."""\n'
                                          '    return layers.Conv2D(filters, (3, 3), activation="relu")'),
              replace("build_cnn", 'layers.Conv2D(32, (3, 3), activation="relu")', "conv_relu(32)"),
              replace("build_deep_cnn", 'layers.Conv2D(32, (3, 3), activation="relu")', "conv_relu(32)"),
              replace("build_deep_cnn", 'layers.Conv2D(64, (3, 3), activation="relu")', "conv_relu(64)")),
             "def conv_relu(filters):"),
    Spelling("answer_below_stub", "the build_cnn stub left as released (it raises NotImplementedError), "
                                  "the answer in a new cell right below it",
             (insert_after("build_cnn", _ref("build_cnn")),), "raise NotImplementedError()", stubs=("build_cnn",)),
    # ---- text: Unicode, Korean, line endings, indentation
    Spelling("unicode_identifiers", "`크기 = 256` and `größe = 1` as names, with a Korean docstring, in build_mlp",
             (answer("build_mlp", _UNICODE_MLP),), "크기 = 256"),
    Spelling("korean_comments", "Korean docstrings and comments in relabel_odd_even and split_train_val",
             (answer("relabel_odd_even", _KOREAN_RELABEL), answer("split_train_val", _KOREAN_SPLIT)), "홀수는 1, 짝수는 0"),
    Spelling("crlf_line_endings", "every answer cell's source with Windows line endings (\\r\\n)",
             (crlf(*_SOLUTIONS),), "\r\n    return"),
    Spelling("tab_indentation", "every answer cell indented with tabs", (tabs(*_SOLUTIONS),), "\n\treturn"),
    # ---- Keras aliases
    Spelling("tf_keras", "`from tensorflow import keras` and `tf.keras.layers.Dense` in the build_mlp cell",
             (answer("build_mlp", _TF_KERAS_MLP),), "tf.keras.layers.Dense"),
    Spelling("layer_aliases", "`keras.layers.Convolution2D(32, 3)`, `MaxPool2D(2)`, `activation=keras.activations.relu`",
             (answer("build_cnn", _ALIASES_CNN),), "keras.layers.Convolution2D(32, 3, activation=keras.activations.relu)"),
    Spelling("functional_api", "build_deep_cnn with the functional API, `keras.Model(inputs, outputs)`",
             (answer("build_deep_cnn", _FUNCTIONAL_DEEP_CNN),), "keras.Model(inputs, outputs)"),
    Spelling("sequential_add", "build_deep_cnn as `keras.Sequential()` with `.add(...)` and `input_shape=` on the "
                               "first Conv2D (the lecture's style)",
             (answer("build_deep_cnn", _ADD_DEEP_CNN),), 'activation="relu", input_shape=(28, 28, 1)))'),
    Spelling("loss_function", "`loss=keras.losses.binary_crossentropy`: the loss as a function",
             (replace("compile_model", 'loss="binary_crossentropy"', _FUNCTION_LOSS),), _FUNCTION_LOSS),
    Spelling("compile_objects", "`keras.losses.BinaryCrossentropy()`, `keras.optimizers.SGD()`, "
                                "`keras.metrics.BinaryAccuracy(name=\"accuracy\")` as objects",
             (answer("compile_model", _OBJECTS_COMPILE),), "keras.losses.BinaryCrossentropy()"),
    # ---- output, training, a leftover error
    Spelling("prints_and_display", "print() and display() at top level of answer cells, and print() inside build_mlp",
             (append("relabel_odd_even", "\n\n\nprint(relabel_odd_even(np.arange(10)))"),
              append("split_train_val", "\n\n\ndisplay(split_train_val(np.arange(10), np.arange(10), n_val=2)[3])"),
              replace("build_mlp", "    return keras.Sequential(", '    print("building the MLP")\n    return keras.Sequential(')),
             "display(split_train_val("),
    Spelling("summary_cell", "a new cell `build_mlp().summary()` between the MLP's answer and its check cell",
             (insert_after("build_mlp", "build_mlp().summary()"),), "build_mlp().summary()"),
    Spelling("small_training_cell", "a new cell that compiles and fits the MLP on 8 zero images for one epoch",
             (insert_after("compile_model", "m = compile_model(build_mlp())\n"
                                            "m.fit(np.zeros((8, 784)), np.zeros(8), epochs=1, verbose=0)"),),
             "m.fit(np.zeros((8, 784)), np.zeros(8), epochs=1, verbose=0)"),
    # ---- returns the notebook's own unpacking accepts
    Spelling("list_return", "split_train_val returns a list, `return [x_train, y_train, x_val, y_val]`, which "
                            "the data cell unpacks as it does the tuple (issue 28)",
             (answer("split_train_val", _LIST_SPLIT),), "return [x[:n_train], y[:n_train], x[n_train:], y[n_train:]]"),
    Spelling("raising_last_cell", "a leftover experiment at the end, `undefined_name + 1`, that raises NameError",
             (at_end("# trying something\nundefined_name + 1"),), "undefined_name + 1"),
)
SPELLINGS_BY_NAME = {s.name: s for s in CORPUS}

DEFECTS: tuple[Defect, ...] = (
    Defect("time_mlp_softmax", "the %%time build_mlp cell with a softmax output unit", "cell_magic_time",
           (replace("build_mlp", _SIGMOID, 'layers.Dense(1, activation="softmax")'),),
           'activation="softmax"', groups=("mlp",), accuracy_of=("build_mlp",)),
    Defect("time_not_first_line", "`%%time` below a comment line: IPython rejects the whole build_mlp cell",
           "cell_magic_time", (prepend("build_mlp", "# time the cell\n"),), "# time the cell\n%%time",
           groups=("mlp",), accuracy_of=("build_mlp",)),
    Defect("channels_first_relabel_inverted", "the channels_first-if notebook with odd and even swapped in relabel",
           "channels_first_if", (replace("relabel_odd_even", "return np.asarray(y) % 2", "return 1 - np.asarray(y) % 2"),),
           "1 - np.asarray(y) % 2", groups=("relabel",)),
    Defect("crlf_split_shuffles", "the CRLF notebook whose split shuffles before splitting", "crlf_line_endings",
           (answer("split_train_val", _SHUFFLED_SPLIT), crlf("split_train_val")), "np.random.permutation(len(x))",
           groups=("split",)),
    Defect("function_loss_mse", "the function-loss notebook compiled with `keras.losses.mean_squared_error`",
           "loss_function", (replace("compile_model", _FUNCTION_LOSS, "loss=keras.losses.mean_squared_error"),),
           "loss=keras.losses.mean_squared_error", groups=("compile",)),
    Defect("answer_below_check", "the answer-below-stub notebook with the build_cnn answer moved below test_cnn "
                                 "(still above the CNN's accuracy check)",
           "answer_below_stub", (move_below("def build_cnn", "test_cnn"),), "raise NotImplementedError()",
           groups=("cnn",)),
    Defect("helper_below_check", "the dense_relu helper cell moved below test_mlp: build_mlp raises NameError there "
                                 "(the MLP's accuracy check, further down, finds it)",
           "helper_cell_between", (move_below("def dense_relu", "test_mlp"),), "def dense_relu(n):",
           groups=("mlp",)),
    Defect("print_before_def", "a print() calling build_deep_cnn above its def: the cell raises NameError "
                               "before it defines build_deep_cnn", "prints_and_display",
           (prepend("build_deep_cnn", 'print("parameters:", build_deep_cnn().count_params())\n\n\n'),),
           "build_deep_cnn().count_params()", groups=("deep_cnn",), accuracy_of=("build_deep_cnn",)),
    # In Jupyter the CNN's check cell runs above the data cell (NameError), its accuracy cell below it (passes).
    Defect("cnn_reads_data_cell_name", "the CRLF notebook whose build_cnn reads `x_train_cnn.shape[1:]`, a name the "
                                       "provided data cell defines below the CNN's check cell (issue 28)",
           "crlf_line_endings", (replace("build_cnn", _CNN_INPUT, _DATA_CELL_SHAPE),), _DATA_CELL_SHAPE,
           groups=("cnn",)),
)
DEFECTS_BY_NAME = {d.name: d for d in DEFECTS}

# The spellings most likely to break a runner, tested on full MNIST too.
RISKIEST = ("cell_magic_time", "channels_first_if", "computed_n_pixels", "loss_function")


# ---------------------------------------------------------------- packs: many entries in one notebook


def pack(name: str, *members: str) -> Spelling | Defect:
    """One notebook holding every member's spelling (and every member defect's bug).

    Grading a notebook costs the same whatever it holds (three models trained, a process or a
    kernel started), so packs cover the corpus in a few notebooks. The members' spellings are
    applied in order (their stubs first), then the defects' edits; defects must lose disjoint
    groups, so that the pack loses exactly their union. Each member's marker must survive.
    """
    entries = [SPELLINGS_BY_NAME.get(m) or DEFECTS_BY_NAME[m] for m in members]
    defects = [e for e in entries if isinstance(e, Defect)]
    spellings = list(dict.fromkeys(e.base if isinstance(e, Defect) else e for e in entries))
    base = Spelling(name if not defects else f"{name}_base", "; ".join(s.description for s in spellings),
                    tuple(edit for s in spellings for edit in s.edits), tuple(m for s in spellings for m in s.markers),
                    tuple(dict.fromkeys(stub for s in spellings for stub in s.stubs)))
    if not defects:
        return base
    groups = [g for d in defects for g in d.groups]
    models = [b for d in defects for b in d.accuracy_of]
    if len(set(groups)) != len(groups) or len(set(models)) != len(models):
        raise ValueError(f"pack {name}: its defects' groups overlap ({groups}, accuracy of {models})")
    return Defect(name, "; ".join(d.description for d in defects), base, tuple(e for d in defects for e in d.edits),
                  tuple(m for d in defects for m in d.markers), tuple(groups), tuple(models))


PACKS: tuple[Spelling | Defect, ...] = (
    pack("pack_magics_and_aliases", "layer_aliases", "channels_first_if", "line_magics", "shell_lines",
         "matplotlib_inline", "help_and_who", "loss_function", "tf_keras", "summary_cell", "small_training_cell",
         "raising_last_cell", "cell_magic_time"),
    pack("pack_compound_and_constants", "for_layer_sizes", "computed_n_pixels", "with_block", "computed_input_shape",
         "computed_range", "korean_comments", "compile_objects", "tab_indentation"),
    pack("pack_helpers_and_crlf", "functional_api", "constant_from_helper", "helper_cell_between",
         "helper_in_cell_above", "prints_and_display", "crlf_line_endings"),
    pack("pack_cells_of_their_own", "answer_below_stub", "unicode_identifiers", "sequential_add", "try_import",
         "list_return"),
    pack("pack_defects_in_values", "channels_first_relabel_inverted", "function_loss_mse", "time_mlp_softmax"),
    pack("pack_defects_in_order", "answer_below_check", "print_before_def", "time_not_first_line"),
    pack("pack_defects_helper_and_crlf", "helper_below_check", "crlf_split_shuffles", "cnn_reads_data_cell_name"),
    pack("pack_riskiest", *RISKIEST),
)
PACKS_BY_NAME = {p.name: p for p in PACKS}

