"""A synthetic class for measuring the similarity report: independent solutions and planted copies, with the truth.

Made from the release notebook, like the demo's examples. Two kinds of independent students:

* lecture-literal ones (``lecture_share`` of the class): every answer is the lecture's code exactly as the kit holds
  it (``grader/reference.py`` or ``course/examples.py``'s lecture-style answers), with or without the release's
  docstrings, the two sources sometimes mixed function by function; that is what many real students hand in;
  a third of them copy the lecture as it prints it (``integrity/lecture_code.py``: its imports and ``width = 28`` in
  a cell of their own, its model and compile lines under the release's def lines, its reshape adapted to any
  number of images, sometimes its training, curves and prediction grid in a cell at the end), with their own
  small relabel and split; no two of them write all of these alike (as the issue's lecture copiers, they differ
  elsewhere: two who do not hand in the same normalised notebook, which is a duplicate);
* students who write their own code: each draws a dozen habits independently (how they spell Keras and its
  imports, where the input shape goes, how activations, kernel and pool sizes are written, whether layers get
  ``name=`` or ``padding=``, list, ``add``, loops or the functional API, type hints, local variables, their own
  helpers under their own names and signatures, their own comments and docstrings), and then, function by
  function, a way of writing it; some functions they still take from the lecture literally.

The planted copies take one of those own-code students and disguise the notebook the way copiers do:

* ``renamed``: every variable and helper renamed;
* ``reordered``: the same functions, in one cell added at the top, in another order;
* ``comments``: comments changed, added and removed, blank lines moved;
* ``helper``: the copier's own answers, but the source's helper function copied, with the answers that use it;
* ``one_function``: the copier's own answers (their own habits), but one function copied from the source;
* ``same_file``: the notebook file handed in again unchanged.

Nothing marks a copy: the copiers draw their habits as everyone else does, and the copied code is the
source's. ``write_class(folder, n, seed)`` writes ``<student>.ipynb`` files and returns the planted pairs.
"""

from __future__ import annotations

import copy
import functools
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from copydetect.utils import filter_code

from autograder.integrity import lecture_code
from autograder.integrity.similarity import (lecture_style_answers, reference_solutions, release_notebook_path,
                                             with_release_docstring)

COPY_KINDS = ("renamed", "reordered", "comments", "helper", "one_function", "same_file")
FUNCTIONS = ("relabel_odd_even", "split_train_val", "prepare_mlp_input", "prepare_cnn_input", "build_mlp",
             "build_cnn", "build_deep_cnn", "compile_model")
# The functions a copier takes alone: a model (a copied one-line relabel_odd_even is everybody's relabel_odd_even).
COPIED_ALONE = ("build_deep_cnn", "build_deep_cnn", "build_cnn", "build_mlp")


@dataclass(frozen=True)
class Planted:
    source: str
    copy: str
    kind: str


@dataclass
class Student:
    name: str
    answers: dict[str, str]  # function name -> its code
    helpers: str = ""  # a cell of the student's own imports and helpers, added before the answers ("" = none)
    top_cell: str = ""  # a cell added at the top holding everything (the answer cells then point to it)
    docstrings: bool = True  # whether they kept the release's docstrings above their answers
    uses_helper: tuple[str, ...] = ()  # the answers that call the student's helpers
    helper_code: str = ""  # the helper functions alone (what a copier of the helper takes)
    imports: list[str] = field(default_factory=list)
    end_cells: list[str] = field(default_factory=list)  # cells added after the release's last cell
    prints_the_lecture: bool = False  # a lecture_text_student: never the source of a planted copy


@functools.lru_cache(maxsize=1)
def _lecture() -> tuple[dict[str, str], dict[str, str]]:
    return reference_solutions(), lecture_style_answers()


def is_lecture(function: str, code: str) -> bool:
    reference, lecture = _lecture()
    return code in (reference[function], lecture[function], lecture_code.LECTURE_ANSWERS.get(function))


# ---------------------------------------------------------------- one student's habits


COMMENTS = ["odd -> 1, even -> 0", "keep the order", "last n_val for validation", "scale to [0, 1]", "flatten",
            "add the channel axis", "first block", "second block", "feature extractor", "classifier head",
            "one unit for two classes", "binary output", "regularise", "same as the lecture but shorter",
            "TODO: try more filters", "from the slides", "works!", "check shapes", "pixels are 0..255",
            "input layer", "hidden layers", "output", "conv -> pool", "dropout after each block", "as asked"]
HELPER_NAMES = {
    "conv": ["conv_block", "add_conv_block", "conv_stage", "add_convs", "block", "conv_pool", "make_block",
             "stack_convs", "feature_block", "cnn_block"],
    "dense": ["dense_stack", "add_dense", "hidden_layers", "mlp_layers", "dense_block", "fc_layers"],
    "scale": ["to_unit", "normalise", "scale_pixels", "as_float", "preprocess", "norm01", "rescale"],
    "wrap": ["sequential", "make_model", "stack", "assemble", "model_from"],
}


class Style:
    """One student's habits, each drawn independently: how they spell Keras, name things and comment."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.q = rng.choice(['"', "'"])
        self.keras_spelling = rng.choice(["layers", "keras.layers", "L", "bare", "tf.keras.layers", "kl"])
        self.prefix = {"layers": "layers.", "keras.layers": "keras.layers.", "L": "L.", "bare": "",
                       "tf.keras.layers": "tf.keras.layers.", "kl": "kl."}[self.keras_spelling]
        self.seq = rng.choice(["keras.Sequential", "Sequential", "keras.models.Sequential", "tf.keras.Sequential"])
        self.model_name = rng.choice(["model", "net", "m", "clf", "network", "mdl", "cnn", "classifier", "seq"])
        self.x = rng.choice(["x", "images", "data", "X", "arr", "imgs", "pixels", "xs", "inputs_"])
        self.y = rng.choice(["y", "labels", "digits", "targets", "lab", "ys", "classes"])
        self.input = rng.choice(["Input", "input_shape", "InputLayer", "input_shape_kw"])
        self.activation = rng.choice(["kw", "kw", "kw", "layer", "relu_layer", "fn"])
        self.kernel = rng.choice(["(3, 3)", "3", "kernel_size=(3, 3)", "kernel_size=3", "(3,3)", "[3, 3]"])
        self.pool = rng.choice(["(2, 2)", "2", "pool_size=(2, 2)", "pool_size=2", "", "strides=2"])
        self.padding = rng.random() < 0.2
        self.names = rng.random() < 0.15
        self.hints = rng.random() < 0.2
        self.local = rng.random() < 0.4  # build into a local variable, then return it
        self.scale = rng.choice(["255", "255.0", "255.", "np.float32(255)", "float(255)"])
        self.dtype = rng.choice(["astype({q}float32{q})", "astype(np.float32)", "astype({q}f4{q})"]).format(q=self.q)
        self.builder = rng.choice(["list", "list", "add", "add", "functional", "loop", "spec"])
        self.comments = rng.random() < 0.6
        self.comment_bank = rng.sample(COMMENTS, 8)
        self.own_docstrings = rng.random() < 0.2
        self.drop = rng.choice(["0.25", ".25", "1 / 4"])
        self.helper_kind = rng.choice(["conv", "conv", "dense", "scale", "wrap"]) if rng.random() < 0.4 else ""
        self.helper_name = rng.choice(HELPER_NAMES[self.helper_kind]) if self.helper_kind else ""
        self.helper_call = rng.choice(["positional", "keywords", "loop", "list"])

    def s(self, text: str) -> str:
        return f"{self.q}{text}{self.q}"

    def comment(self) -> str:
        return f"  # {self.rng.choice(self.comment_bank)}" if self.comments and self.rng.random() < 0.3 else ""

    def doc(self, text: str) -> str:
        return f'    """{text}"""\n' if self.own_docstrings else ""

    def sig(self, name: str, args: str, returns: str = "") -> str:
        if self.hints and args:
            args = ", ".join(f"{a}: np.ndarray" if "=" not in a else a.replace("=", ": int = ") for a in args.split(", "))
        return f"def {name}({args})" + (f" -> {returns}" if self.hints and returns else "") + ":"

    # ---- layers
    def act(self, name: str) -> tuple[str, list[str]]:
        """The activation argument of a layer, and the layers that follow it (when written as layers)."""
        if self.activation == "kw":
            return f", activation={self.s(name)}", []
        if self.activation == "fn":
            return f", activation=keras.activations.{name}", []
        if self.activation == "relu_layer" and name == "relu":
            return "", [f"{self.prefix}ReLU()"]
        return "", [f"{self.prefix}Activation({self.s(name)})"]

    def extra(self, kind: str, i: int) -> str:
        out = f", padding={self.s('valid')}" if self.padding and kind == "conv" else ""
        return out + (f", name={self.s(f'{kind}{i}')}" if self.names else "")

    def conv(self, filters, i: int, first_shape: str = "") -> list[str]:
        act, after = self.act("relu")
        kernel = self.kernel if "=" in self.kernel or not first_shape or self.input != "input_shape_kw" else self.kernel
        shape = f", input_shape={first_shape}" if first_shape else ""
        return [f"{self.prefix}Conv2D({filters}, {kernel}{act}{self.extra('conv', i)}{shape})"] + after

    def pool_layer(self, i: int) -> str:
        args = ", ".join(filter(None, [self.pool, self.extra("pool", i).lstrip(", ")]))
        return f"{self.prefix}MaxPooling2D({args})"

    def dense(self, units, activation: str, i: int, first_shape: str = "") -> list[str]:
        act, after = self.act(activation)
        shape = f", input_shape={first_shape}" if first_shape else ""
        return [f"{self.prefix}Dense({units}{act}{self.extra('dense', i)}{shape})"] + after

    def dropout(self, rate: str) -> str:
        return f"{self.prefix}Dropout({rate})"

    def input_layer(self, shape: str) -> str:
        return {"Input": f"keras.Input(shape={shape})", "InputLayer": f"{self.prefix}InputLayer(input_shape={shape})"}.get(
            self.input, f"keras.Input({shape})")


def imports_of(st: Style) -> list[str]:
    lines = {"L": ["from keras import layers as L"], "bare": [
        "from keras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Activation, ReLU, InputLayer"],
        "tf.keras.layers": ["import tensorflow as tf"], "kl": ["import keras.layers as kl"]}.get(st.keras_spelling, [])
    if st.seq == "Sequential":
        lines.append("from keras import Sequential")
    if st.seq.startswith("tf.") and "import tensorflow as tf" not in lines:
        lines.append("import tensorflow as tf")
    return lines


# ---------------------------------------------------------------- ways of writing each function


def relabel(st: Style) -> str:
    y = st.y
    body = st.rng.choice([
        f"return {y} % 2", f"return np.where({y} % 2 == 1, 1, 0)", f"return ({y} % 2).astype(int)",
        f"return np.mod({y}, 2)", f"return {y} & 1", f"return np.array([1 if d % 2 else 0 for d in {y}])",
        f"odd = {y} % 2 != 0\n    return odd.astype({st.s('int64')})",
        f"out = np.zeros_like({y})\n    out[{y} % 2 == 1] = 1\n    return out", f"return np.asarray({y}) % 2",
        f"return np.remainder({y}, 2).astype({y}.dtype)", f"return np.isin({y}, [1, 3, 5, 7, 9]).astype(int)",
        f"return 1 - (np.asarray({y}) + 1) % 2", f"return np.vectorize(lambda d: d % 2)({y})",
    ])
    return f"{st.sig('relabel_odd_even', y, 'np.ndarray')}\n{st.doc('1 for odd digits')}    {body}{st.comment()}"


def split(st: Style) -> str:
    x, y = st.x, st.y
    body = st.rng.choice([
        f"return {x}[:-n_val], {y}[:-n_val], {x}[-n_val:], {y}[-n_val:]",
        f"cut = len({x}) - n_val\n    return {x}[:cut], {y}[:cut], {x}[cut:], {y}[cut:]",
        f"k = {x}.shape[0] - n_val{st.comment()}\n    x_tr, x_va = {x}[:k], {x}[k:]\n"
        f"    y_tr, y_va = {y}[:k], {y}[k:]\n    return x_tr, y_tr, x_va, y_va",
        f"x_tr, x_va = np.split({x}, [len({x}) - n_val])\n    y_tr, y_va = np.split({y}, [len({y}) - n_val])\n"
        f"    return x_tr, y_tr, x_va, y_va",
        f"idx = np.arange(len({x}))\n    train = idx < len({x}) - n_val\n"
        f"    return {x}[train], {y}[train], {x}[~train], {y}[~train]",
        f"n = len({x})\n    train = slice(0, n - n_val)\n    val = slice(n - n_val, n)\n"
        f"    return {x}[train], {y}[train], {x}[val], {y}[val]",
        f"end = {x}.shape[0] - n_val\n    parts = ({x}[:end], {y}[:end], {x}[end:], {y}[end:])\n    return parts",
        f"assert len({x}) == len({y})\n    n_train = len({x}) - n_val\n"
        f"    return {x}[:n_train], {y}[:n_train], {x}[n_train:], {y}[n_train:]",
    ])
    return f"{st.sig('split_train_val', f'{x}, {y}, n_val=10000', 'tuple')}\n{st.doc('last n_val samples are validation')}    {body}"


def prepare(st: Style, name: str, shape: str, scale_helper: str = "") -> str:
    x, f = st.x, st.dtype
    if scale_helper:
        body = st.rng.choice([f"return {scale_helper}({x}.reshape(-1, {shape}))",
                              f"return {scale_helper}(np.reshape({x}, (len({x}), {shape})))"])
    else:
        body = st.rng.choice([
            f"return {x}.reshape(-1, {shape}).{f} / {st.scale}",
            f"return ({x}.reshape(len({x}), {shape}) / {st.scale}).{f}",
            f"out = {x}.{f}\n    out = out / {st.scale}{st.comment()}\n    return out.reshape(({x}.shape[0], {shape}))",
            f"return np.reshape({x}, ({x}.shape[0], {shape})).{f} / {st.scale}",
            f"flat = np.asarray({x}, dtype=np.float32).reshape(({x}.shape[0], {shape}))\n    return flat / {st.scale}",
            f"{x} = np.array({x}, dtype={st.s('float32')})\n    {x} /= {st.scale}\n    return {x}.reshape(-1, {shape})",
            f"n = {x}.shape[0]\n    return ({x} / {st.scale}).reshape(n, {shape}).{f}",
        ])
    return f"{st.sig(name, x, 'np.ndarray')}\n{st.doc('float32 in [0, 1]')}    {body}"


def _wrap(st: Style, name: str, layer_list: list[str], shape: str, helper: str = "") -> str:
    """A model function from its layers, in the student's way of building models."""
    m, how = st.model_name, st.builder
    if st.input in ("input_shape", "input_shape_kw"):
        head = []
        first = layer_list[0]
        layer_list = [first[:-1] + f", input_shape={shape})" if "input_shape" not in first else first] + layer_list[1:]
    else:
        head = [st.input_layer(shape)]
    sig = st.sig(name, "", "keras.Model")
    doc = st.doc(f"the {name[6:]} model")
    if helper:
        inner = ",\n        ".join(head + layer_list)
        return f"{sig}\n{doc}    return {helper}([\n        {inner},\n    ])"
    if how == "functional" and head:
        lines = [f"inputs = {head[0]}", f"h = {layer_list[0]}(inputs)"]
        lines += [f"h = {layer}(h){st.comment()}" for layer in layer_list[1:-1]]
        lines += [f"outputs = {layer_list[-1]}(h)", "return keras.Model(inputs, outputs)"]
        return f"{sig}\n{doc}    " + "\n    ".join(lines)
    if how == "loop":
        inner = ",\n        ".join(head + layer_list)
        return (f"{sig}\n{doc}    {m} = {st.seq}()\n    for layer in [\n        {inner},\n    ]:\n"
                f"        {m}.add(layer)\n    return {m}")
    if how in ("add", "spec", "functional"):
        adds = "".join(f"    {m}.add({layer}){st.comment()}\n" for layer in head + layer_list)
        return f"{sig}\n{doc}    {m} = {st.seq}()\n{adds}    return {m}"
    inner = ",\n        ".join(head + layer_list)
    if st.local:
        return f"{sig}\n{doc}    {m} = {st.seq}([\n        {inner},\n    ]){st.comment()}\n    return {m}"
    return f"{sig}\n{doc}    return {st.seq}([\n        {inner},\n    ])"


def build_mlp(st: Style, helper: str = "") -> str:
    layer_list = [l for i in range(3) for l in st.dense(256, "relu", i + 1)] + st.dense(1, "sigmoid", 4)
    if helper and st.helper_kind == "dense":
        m = st.model_name
        head = f"keras.Input(shape=(784,))" if st.input not in ("input_shape", "input_shape_kw") else ""
        return (f"{st.sig('build_mlp', '', 'keras.Model')}\n    {m} = {st.seq}([{head}])\n    {helper}({m}, 256, 3)\n"
                f"    {m}.add({st.dense(1, 'sigmoid', 4)[0]})\n    return {m}")
    if st.builder == "spec" and not helper:
        m = st.model_name
        dense = st.dense("units", "relu", 0)
        body = "".join(f"        {m}.add({l})\n" for l in dense)
        return (f"{st.sig('build_mlp', '', 'keras.Model')}\n    {m} = {st.seq}()\n    {m}.add({st.input_layer('(784,)')})\n"
                f"    for units in [256, 256, 256]:{st.comment()}\n{body}    {m}.add({st.dense(1, 'sigmoid', 4)[0]})\n"
                f"    return {m}")
    return _wrap(st, "build_mlp", layer_list, "(784,)", helper if st.helper_kind == "wrap" else "")


def _cnn_layers(st: Style, deep: bool) -> list[str]:
    layer_list, i = [], 0
    for filters in ((32, 64) if deep else (32, 32)):
        for _ in range(2 if deep else 1):
            i += 1
            layer_list += st.conv(filters, i)
        layer_list.append(st.pool_layer(i))
        if deep:
            layer_list.append(st.dropout(st.drop))
    layer_list.append(f"{st.prefix}Flatten()")
    layer_list += st.dense(256, "relu", 1)
    if deep:
        layer_list.append(st.dropout("0.5"))
    return layer_list + st.dense(1, "sigmoid", 2)


def build_cnn_like(st: Style, name: str, deep: bool, helper: str = "") -> str:
    if helper and st.helper_kind == "conv":
        m, call = st.model_name, st.helper_call
        head = f"{st.input_layer('(28, 28, 1)')}" if st.input not in ("input_shape", "input_shape_kw") else ""
        specs = [(32, 2, st.drop), (64, 2, st.drop)] if deep else [(32, 1, "0"), (32, 1, "0")]
        tail = ([f"{st.prefix}Flatten()"] + st.dense(256, "relu", 1) + ([st.dropout("0.5")] if deep else [])
                + st.dense(1, "sigmoid", 2))
        if call == "list":  # the helper returns a list of layers, spliced into the model's list
            blocks = [f"*{helper}({f}, {n}, {d})" for f, n, d in specs]
            inner = ",\n        ".join(([head] if head else []) + blocks + tail)
            return f"{st.sig(name, '', 'keras.Model')}\n{st.doc('conv blocks, then the head')}    return {st.seq}([\n        {inner},\n    ])"
        if call == "loop":
            spec = ", ".join(f"({f}, {n}, {d})" for f, n, d in specs)
            blocks = [f"for f, n, d in [{spec}]:{st.comment()}", f"    {helper}({m}, f, n, d)"]
        elif call == "keywords":
            blocks = [f"{helper}({m}, filters={f}, n={n}, dropout={d})" for f, n, d in specs]
        else:
            blocks = [f"{helper}({m}, {f}, {n}, {d})" if deep else f"{helper}({m}, {f})" for f, n, d in specs]
        first = f"{m} = {st.seq}([{head}])" if st.rng.random() < 0.5 or not head else f"{m} = {st.seq}()\n    {m}.add({head})"
        lines = [first] + blocks + [f"{m}.add({l}){st.comment()}" for l in tail] + [f"return {m}"]
        return f"{st.sig(name, '', 'keras.Model')}\n{st.doc('conv blocks, then the head')}    " + "\n    ".join(lines)
    if st.builder == "spec" and not helper:
        m = st.model_name
        spec = "[(32, 2), (64, 2)]" if deep else "[(32, 1), (32, 1)]"
        convs = "".join(f"            {m}.add({l})\n" for l in st.conv("filters", 0))
        drop = f"        {m}.add({st.dropout(st.drop)})\n" if deep else ""
        tail = ([f"{st.prefix}Flatten()"] + st.dense(256, "relu", 1) + ([st.dropout("0.5")] if deep else [])
                + st.dense(1, "sigmoid", 2))
        return (f"{st.sig(name, '', 'keras.Model')}\n    {m} = {st.seq}()\n    {m}.add({st.input_layer('(28, 28, 1)')})\n"
                f"    for filters, n in {spec}:{st.comment()}\n        for _ in range(n):\n{convs}"
                f"        {m}.add({st.pool_layer(0)})\n{drop}" + "".join(f"    {m}.add({l})\n" for l in tail) + f"    return {m}")
    return _wrap(st, name, _cnn_layers(st, deep), "(28, 28, 1)", helper if st.helper_kind == "wrap" else "")


def compile_model(st: Style) -> str:
    m = st.model_name
    opt = st.rng.choice([st.s("sgd"), "keras.optimizers.SGD()", st.s("SGD"), "keras.optimizers.SGD(learning_rate=0.01)"])
    loss = st.rng.choice([st.s("binary_crossentropy"), "keras.losses.BinaryCrossentropy()"])
    metrics = st.rng.choice([f"[{st.s('accuracy')}]", f"[{st.s('acc')}]", "[keras.metrics.BinaryAccuracy()]"])
    args = [f"loss={loss}", f"optimizer={opt}", f"metrics={metrics}"]
    st.rng.shuffle(args)
    if st.rng.random() < 0.3:
        call = f"{m}.compile(\n        " + ",\n        ".join(args) + ",\n    )"
    else:
        call = f"{m}.compile({', '.join(args)})"
    return f"{st.sig('compile_model', m, 'keras.Model')}\n{st.doc('sgd + binary cross-entropy')}    {call}\n    return {m}"


def helper_code(st: Style) -> str:
    """The student's own helper, in their own name, signature and body."""
    name, m, p = st.helper_name, st.model_name, st.prefix
    if st.helper_kind == "conv":
        n = "n" if st.helper_call == "keywords" else st.rng.choice(["n_convs", "repeat", "count", "times", "n", "depth"])
        f = "filters" if st.helper_call == "keywords" else st.rng.choice(["filters", "n_filters", "channels", "width", "k"])
        act, after = st.act("relu")
        conv = [f"{p}Conv2D({f}, {st.kernel}{act}{st.extra('conv', 0)})"] + after
        if st.helper_call == "list":
            out = st.rng.choice(["out", "block", "result", "ls"])
            body = "".join(f"        {out}.append({l})\n" for l in conv)
            pool = st.pool_layer(0)
            return (f"def {name}({f}, {n}=1, dropout=0.0):\n{st.doc('the layers of one block')}    {out} = []\n"
                    f"    for _ in range({n}):\n{body}    {out}.append({pool}){st.comment()}\n"
                    f"    if dropout:\n        {out}.append({p}Dropout(dropout))\n    return {out}")
        convs = "".join(f"        {m}.add({l})\n" for l in conv)
        drop = st.rng.choice([f"    if dropout:\n        {m}.add({p}Dropout(dropout))\n",
                              f"    if dropout > 0:{st.comment()}\n        {m}.add({p}Dropout(dropout))\n",
                              f"    {m}.add({p}Dropout(dropout))\n"])
        loop = st.rng.choice([f"    for _ in range({n}):\n{convs}", f"    i = 0\n    while i < {n}:\n{convs}        i += 1\n"])
        ret = st.rng.choice([f"    return {m}", ""])
        return (f"def {name}({m}, {f}, {n}=1, dropout=0.0):\n{st.doc('convolutions, then a pooling')}"
                f"{loop}    {m}.add({st.pool_layer(0)}){st.comment()}\n{drop}{ret}").rstrip()
    if st.helper_kind == "dense":
        units = st.rng.choice(["units", "width", "size", "n_units"])
        act, after = st.act("relu")
        lines = "".join(f"        {m}.add({l})\n" for l in [f"{p}Dense({units}{act})"] + after)
        return f"def {name}({m}, {units}, n):\n{st.doc('n hidden layers')}    for _ in range(n):\n{lines}    return {m}"
    if st.helper_kind == "scale":
        x = st.x
        return st.rng.choice([f"def {name}({x}):\n    return {x}.{st.dtype} / {st.scale}",
                              f"def {name}({x}):\n    {x} = np.asarray({x}, dtype=np.float32){st.comment()}\n    return {x} / {st.scale}"])
    layers_arg = st.rng.choice(["layer_list", "parts", "stack_of", "ls"])
    return st.rng.choice([
        f"def {name}({layers_arg}):\n    {m} = {st.seq}()\n    for layer in {layers_arg}:\n        {m}.add(layer)\n    return {m}",
        f"def {name}({layers_arg}):\n{st.doc('a Sequential of these layers')}    return {st.seq}(list({layers_arg}))",
    ])


def independent(name: str, rng: random.Random, lecture_literal: bool, own_share: float = 0.8,
                printed: set | None = None) -> Student:
    """A student who wrote their own answers (``own_share`` of the functions; the rest the lecture's code exactly),
    or, ``lecture_literal``, one whose every answer is the lecture's code exactly."""
    reference, lecture = (dict(d) for d in _lecture())
    docstrings = rng.random() < 0.7
    if lecture_literal:
        how = rng.random()
        answers = {f: (reference if how < 0.45 or (how > 0.9 and rng.random() < 0.5) else lecture)[f] for f in FUNCTIONS}
        # A third print the lecture instead, drawn apart: the rest of the class stays the class it was.
        own_draw = random.Random(f"{name}-{how}")
        if own_draw.random() < 1 / 3:
            return lecture_text_student(name, own_draw, printed)
        return Student(name, answers, docstrings=docstrings)
    st = Style(rng)
    helper = st.helper_name
    answers, uses = {}, []
    for f in FUNCTIONS:
        if rng.random() > own_share and not (helper and f in _helper_users(st)):
            answers[f] = rng.choice([reference, lecture])[f]
            continue
        h = helper if f in _helper_users(st) else ""
        answers[f] = {
            "relabel_odd_even": lambda: relabel(st), "split_train_val": lambda: split(st),
            "prepare_mlp_input": lambda: prepare(st, f, st.rng.choice(["784", "28 * 28"]), h),
            "prepare_cnn_input": lambda: prepare(st, f, "28, 28, 1", h),
            "build_mlp": lambda: build_mlp(st, h), "build_cnn": lambda: build_cnn_like(st, f, False, h),
            "build_deep_cnn": lambda: build_cnn_like(st, f, True, h), "compile_model": lambda: compile_model(st)}[f]()
        if h:
            uses.append(f)
    helpers = helper_code(st) if helper else ""
    imports = imports_of(st) if any(not is_lecture(f, a) for f, a in answers.items()) else []
    return Student(name, answers, "\n\n\n".join(filter(None, ["\n".join(imports), helpers])), docstrings=docstrings,
                   uses_helper=tuple(uses), helper_code=helpers, imports=imports)


def lecture_text_student(name: str, rng: random.Random, printed: set | None = None) -> Student:
    """A student who copies the lecture as it prints it: its imports and sizes in a cell of their own, its model
    and compile lines under the release's def lines, its reshape adapted to any number of images (their own way
    of counting them), their own small relabel and split, and sometimes the lecture's training, curves and
    prediction grid for one model in a cell at the end.

    ``printed``: the own code (normalised) of the students who print the lecture so far. Their own functions
    differ from each of those in at least one function (drawn again until they do): two whose own code is the
    same once normalised hand in the same notebook, which the report rightly lists as a duplicate, whereas the
    issue's lecture copiers differ elsewhere."""
    while True:
        student = _lecture_text_draw(name, rng)
        own = tuple(filter_code(student.answers[f], "cell.py", language="python")[0] for f in OWN_OF_PRINTERS)
        if printed is None or own not in printed:
            if printed is not None:
                printed.add(own)
            return student


# What a student who prints the lecture writes of their own: every other answer is the lecture's.
OWN_OF_PRINTERS = ("relabel_odd_even", "split_train_val", "prepare_mlp_input", "prepare_cnn_input")


def _lecture_text_draw(name: str, rng: random.Random) -> Student:
    st = Style(rng)
    answers = {f: lecture_code.LECTURE_ANSWERS[f] for f in ("build_mlp", "build_cnn", "build_deep_cnn", "compile_model")}
    count = rng.choice(["x.shape[0]", "len(x)", "-1", "x.shape[0]"])
    for function, shape in (("prepare_mlp_input", "width*height"), ("prepare_cnn_input", "width, height, 1")):
        answers[function] = (f"def {function}(x):\n"
                             f"    return x.reshape({count}, {shape}).astype('float32') / {rng.choice(['255.0', '255'])}")
    answers["relabel_odd_even"], answers["split_train_val"] = relabel(st), split(st)
    model = rng.choice(sorted(lecture_code.MODELS))
    end_cells = []
    if rng.random() < 0.5:
        end_cells.append(f"model = compile_model(build_{model}())\n" + lecture_code.FIT + "\n" + lecture_code.CURVES
                         + "\n" + lecture_code.EVALUATE + "\n" + lecture_code.PREDICTION_GRID)
    return Student(name, answers, lecture_code.header(rng.choice(["deep_cnn", "deep_cnn", "cnn"])).strip(),
                   docstrings=rng.random() < 0.7, end_cells=end_cells, prints_the_lecture=True)


def _helper_users(st: Style) -> tuple[str, ...]:
    return {"conv": ("build_cnn", "build_deep_cnn"), "dense": ("build_mlp",),
            "scale": ("prepare_mlp_input", "prepare_cnn_input"),
            "wrap": ("build_mlp", "build_cnn", "build_deep_cnn"), "": ()}[st.helper_kind]


# ---------------------------------------------------------------- disguises


_KEYWORDS = {"def", "return", "for", "in", "if", "else", "range", "len", "np", "keras", "layers", "L", "import",
             "from", "as", "and", "or", "not", "int", "True", "False", "None", "tf", "kl", "list", "lambda", "assert",
             "float", "slice"}
# Modules the students import: drawn a new name like any other (the class stays the class it was), but not
# renamed, since a copy that imports a module under another name would not run.
_MODULES = {"tensorflow"}


def renamed(code: str, rng: random.Random, protected: set[str]) -> str:
    """Every local name renamed (the assignment's function names and keyword arguments kept)."""
    names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\s*=[^=])", code)) - _KEYWORDS - protected
    names = {n for n in names if not re.search(rf"\.{n}\b", code) and not re.search(rf"['\"]{n}['\"]", code)}
    mapping = {n: f"{rng.choice(['my', 'the', 'tmp', 'v', 'new'])}_{n[::-1]}{rng.randint(1, 9)}" for n in names}
    mapping = {n: new for n, new in mapping.items() if n not in _MODULES}
    return re.sub(r"\b[a-z_][a-z0-9_]*\b", lambda m: mapping.get(m.group(0), m.group(0)), code)


def recommented(code: str, rng: random.Random) -> str:
    out = []
    for line in code.splitlines():
        line = re.sub(r"\s+#.*$", "", line)  # drop the original comments
        if line.strip() and rng.random() < 0.35:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# {rng.choice(COMMENTS)}")
        out.append(line)
        if rng.random() < 0.1:
            out.append("")
    return "\n".join(out)


def own_code_student(name: str, rng: random.Random) -> Student:
    """A student with their own habits and at least the functions a copy would replace written their own way."""
    while True:
        own = independent(name, rng, lecture_literal=False)
        if sum(not is_lecture(f, a) for f, a in own.answers.items()) >= 4:
            return own


def plant(kind: str, source: Student, name: str, rng: random.Random) -> Student:
    protected = set(FUNCTIONS) | {"n_val", "shape", "activation", "input_shape", "input_dim", "kernel_size",
                                  "pool_size", "loss", "optimizer", "metrics", "dropout", "padding", "strides",
                                  "learning_rate", "dtype"}
    if kind in ("same_file", "renamed", "comments", "reordered"):
        answers, helpers = dict(source.answers), source.helpers
        if kind == "renamed":
            answers = {f: renamed(c, rng, protected) for f, c in answers.items()}
            helpers = renamed(helpers, rng, protected)
        if kind == "comments":
            answers = {f: recommented(c, rng) for f, c in answers.items()}
            helpers = recommented(helpers, rng)
        if kind == "reordered":
            order = list(answers)
            rng.shuffle(order)
            top = "\n\n\n".join([helpers] * bool(helpers) + [answers[f] for f in order])
            return Student(name, {f: f"# {f}: see the first cell" for f in answers}, "", top, source.docstrings)
        return Student(name, answers, helpers, docstrings=source.docstrings)
    own = own_code_student(name, rng)
    if kind == "helper":
        # The source's helper and the answers that use it; the rest of the copier's answers are their own.
        taken = source.uses_helper
        imports = [i for i in source.imports if i not in own.imports]
        kept_helper = own.helper_code if not set(own.uses_helper) - set(taken) else ""
        own.helpers = "\n\n\n".join(filter(None, ["\n".join(own.imports + imports), kept_helper, source.helper_code]))
        own.answers.update({f: source.answers[f] for f in taken})
        return own
    copied = rng.choice([f for f in COPIED_ALONE if not is_lecture(f, source.answers[f])
                         and f not in source.uses_helper])
    own.answers[copied] = source.answers[copied]
    imports = [i for i in source.imports if i not in own.imports]
    if imports:  # the copied function needs the source's spelling of Keras
        own.helpers = "\n\n\n".join(filter(None, ["\n".join(own.imports + imports), own.helper_code]))
    return own


# ---------------------------------------------------------------- notebooks


def notebook_of(student: Student, release, rng: random.Random):
    """The release with the student's answers, their added cells, and the traces a real run leaves."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in student.answers:
            answer = student.answers[meta["grade_id"]]
            # Most students write under the release's def line and docstring, as the stub invites them to.
            keep_docstring = '"""' not in answer and student.docstrings
            cell.source = with_release_docstring(answer, cell.source) if keep_docstring else answer
    first_answer = next(i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    for text in (student.helpers, student.top_cell):
        if text:
            nb.cells.insert(first_answer, nbformat.v4.new_code_cell(text))
    nb.cells += [nbformat.v4.new_code_cell(text) for text in student.end_cells]
    count = rng.randint(1, 40)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count, count = count, count + rng.randint(1, 3)
    return nb


def build_class(n: int, seed: int = 0, lecture_share: float = 0.4,
                lecture_text: int = 0) -> tuple[list[Student], list[Planted]]:
    """``n`` students: about one in four of them a planted copy of another, the kinds in turn; of the independent
    ones, ``lecture_share`` hand in the lecture's code literally. ``lecture_text`` more students (``t000``, ...)
    copy the lecture as it prints it (``lecture_text_student``)."""
    rng = random.Random(seed)
    n_copies = max(len(COPY_KINDS), n // 4)
    printed: set = set()
    independents = [independent(f"s{i:03d}", rng, rng.random() < lecture_share, printed=printed)
                    for i in range(n - n_copies)]
    independents += [lecture_text_student(f"t{i:03d}", random.Random(f"{seed}-t{i}"), printed)
                     for i in range(lecture_text)]
    students, planted, used = list(independents), [], set()
    for i in range(n_copies):
        kind = COPY_KINDS[i % len(COPY_KINDS)]
        # Each source is copied once, so that the only alike pairs are the planted ones (two copies of one
        # source would be a third, unplanted pair).
        def fits(s: Student) -> bool:
            if s.prints_the_lecture:  # the copies are of students who write their own code
                return False
            if kind == "helper":  # a helper that builds layers (a two-line scaling helper is anybody's)
                return any(f.startswith("build_") for f in s.uses_helper)
            if kind == "one_function":
                return any(not is_lecture(f, s.answers[f]) and f not in s.uses_helper for f in COPIED_ALONE)
            return sum(not is_lecture(f, a) for f, a in s.answers.items()) >= 2
        pool = [s for s in independents if s.name not in used and fits(s)]
        if not pool:  # a small class: a new own-code student becomes the source
            while not pool:
                extra = own_code_student(f"s{n - n_copies + i:03d}x", rng)
                pool = [extra] if fits(extra) else []
            students.append(pool[0])
        source = rng.choice(pool)
        used.add(source.name)
        copy_name = f"s{n - n_copies + i:03d}"
        students.append(plant(kind, source, copy_name, rng))
        planted.append(Planted(source.name, copy_name, kind))
    return students, planted


def write_class(folder: Path, n: int, seed: int = 0, release_path: Path | None = None,
                lecture_text: int = 0) -> list[Planted]:
    """Write the synthetic class as ``folder/<student>.ipynb``; the planted pairs are returned (the truth)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    release = nbformat.read(release_path or release_notebook_path("binary_mnist"), as_version=4)
    students, planted = build_class(n, seed, lecture_text=lecture_text)
    rng = random.Random(seed + 1)
    same_file = {p.copy: p.source for p in planted if p.kind == "same_file"}
    written: dict[str, bytes] = {}
    for student in students:
        if student.name in same_file:
            continue
        text = nbformat.writes(notebook_of(student, release, rng))
        written[student.name] = text.encode()
        (folder / f"{student.name}.ipynb").write_text(text, encoding="utf-8")
    for copier, source in same_file.items():
        (folder / f"{copier}.ipynb").write_bytes(written[source])
    return planted
