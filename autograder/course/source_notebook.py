"""Build the nbgrader source notebook (solutions/<id>/<id>.ipynb) from reference.py and course.yml.

The answer cells are the reference functions' own source, markers included, so the notebook and
the grader's reference cannot drift apart; test cells get their points from course.yml. Run
``python -m autograder build-source`` after changing either, then ``nbgrader generate_assignment``.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.grader import reference
from autograder.hidden.every_check import CHECKS
from autograder.support.check_groups import CHECK_GROUPS_BY_NAME, groups_tested_after
from autograder.support.config import CourseConfig
from autograder.course.nbgrader_records import grade_id_of

_INTRO = """# Image input → binary classification: odd or even?

In this assignment you rebuild the lecture's experiment. MNIST digits are relabelled for a
**binary** task — *odd* digits are class 1, *even* digits class 0 — and three models are
trained on them: a multi-layer perceptron (MLP), a convolutional network (CNN), and a deeper
CNN with Dropout.

**What to do.** Fill in each cell that says `# YOUR CODE HERE` (delete the
`raise NotImplementedError()` line). Keep every function's name and arguments. The cells
after each function check your work; run them to see what passes. The cells that load data,
train and plot are provided: run them once your functions pass to reproduce the lecture.

Self-check from a terminal at any time: `pytest autograder --notebook path/to/this.ipynb`.

---

# 이미지 입력 → 이진 분류: 홀수일까 짝수일까?

이 과제에서는 강의의 실험을 다시 만들어 봅니다. MNIST 숫자를 **이진** 문제로 다시 레이블링하여
*홀수*는 클래스 1, *짝수*는 클래스 0으로 두고, 세 가지 모델을 학습합니다: 다층 퍼셉트론(MLP),
합성곱 신경망(CNN), 그리고 Dropout을 쓴 더 깊은 CNN.

**할 일.** `# YOUR CODE HERE`라고 적힌 셀을 모두 채우세요 (`raise NotImplementedError()` 줄은
지우세요). 함수의 이름과 인자는 그대로 두세요. 각 함수 다음의 셀이 여러분의 코드를 검사합니다.
실행해서 무엇이 통과하는지 확인하세요. 데이터를 불러오고, 학습하고, 그림을 그리는 셀은 이미
준비되어 있습니다. 함수가 모두 통과하면 실행해서 강의의 결과를 재현해 보세요.

터미널에서 언제든 자가 점검할 수 있습니다: `pytest autograder --notebook path/to/this.ipynb`.
"""

_IMPORTS = """%matplotlib inline
from autograder.notebook import (check_group, course_n_val, graded_training, load_course_data, train_as_graded,
                                 training_batch_size, training_epochs, training_examples, training_plan,
                                 training_verbosity)

import numpy as np
import keras
from keras import layers
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator"""

_TASKS = {
    "relabel_odd_even": "## 1. Relabel the digits\n\nReturn an array of the same shape as `y` holding **1 where the digit is odd and 0 where it is even**. Do not change `y` itself.\n\n**1. 숫자 다시 레이블링하기.** `y`와 같은 형태의 배열을 반환하세요. 숫자가 **홀수면 1, 짝수면 0**입니다. `y` 자체는 바꾸지 마세요.",
    "split_train_val": "## 2. Split off a validation set\n\nThe **last** `n_val` samples become the validation set; keep the order (no shuffling) and keep each image with its label. Use the `n_val` argument — don't hard-code 50,000 or 10,000.\n\n**2. 검증 세트 나누기.** **마지막** `n_val`개의 샘플이 검증 세트가 됩니다. 순서를 유지하고(섞지 않기) 각 이미지를 자기 레이블과 함께 두세요. `n_val` 인자를 쓰고 50,000이나 10,000을 직접 쓰지 마세요.",
    "prepare_mlp_input": "## 3. Prepare the inputs\n\nScale pixels from 0–255 to **[0, 1]** as `float32`. The MLP takes flat rows of 784 pixels: shape `(n, 784)`. Work for **any** number of images `n` (the lecture's code hard-codes 60000 — don't).\n\n**3. 입력 준비하기.** 픽셀을 0–255에서 **[0, 1]** 범위의 `float32`로 바꾸세요. MLP는 784픽셀의 평평한 행, 즉 `(n, 784)` 형태를 받습니다. 이미지 개수 `n`이 **몇 개든** 동작해야 합니다 (강의 코드는 60000을 직접 쓰지만, 그렇게 하지 마세요).",
    "prepare_cnn_input": "The CNNs take images with one channel: shape `(n, 28, 28, 1)`, `float32` in [0, 1], any `n`.\n\nCNN은 채널이 하나인 이미지, 즉 `(n, 28, 28, 1)` 형태의 [0, 1] 범위 `float32`를 받습니다. `n`은 몇 개든 됩니다.",
    "build_mlp": "## 4. The MLP\n\n`Dense(256, relu)` on the 784 inputs, two more `Dense(256, relu)`, and one output unit with a **sigmoid** (332,801 parameters). Return the model uncompiled.\n\n**4. MLP.** 784개의 입력에 `Dense(256, relu)`, 이어서 `Dense(256, relu)` 두 개, 그리고 **sigmoid**를 쓰는 출력 유닛 하나 (파라미터 332,801개). 컴파일하지 않은 모델을 반환하세요.",
    "build_cnn": "## 5. The CNN\n\n`Conv2D(32, 3×3, relu)` on 28×28×1 → `MaxPooling2D(2)` → `Conv2D(32, 3×3, relu)` → `MaxPooling2D(2)` → `Flatten` → `Dense(256, relu)` → `Dense(1, sigmoid)` (214,881 parameters).\n\n**5. CNN.** 28×28×1 입력에 `Conv2D(32, 3×3, relu)` → `MaxPooling2D(2)` → `Conv2D(32, 3×3, relu)` → `MaxPooling2D(2)` → `Flatten` → `Dense(256, relu)` → `Dense(1, sigmoid)` (파라미터 214,881개).",
    "build_deep_cnn": "## 6. The deep CNN with Dropout\n\n`Conv2D(32)` → `Conv2D(32)` → `MaxPooling2D(2)` → `Dropout(0.25)` → `Conv2D(64)` → `Conv2D(64)` → `MaxPooling2D(2)` → `Dropout(0.25)` → `Flatten` → `Dense(256, relu)` → `Dropout(0.5)` → `Dense(1, sigmoid)`; all convolutions 3×3 with relu (327,649 parameters).\n\n**6. Dropout을 쓴 깊은 CNN.** `Conv2D(32)` → `Conv2D(32)` → `MaxPooling2D(2)` → `Dropout(0.25)` → `Conv2D(64)` → `Conv2D(64)` → `MaxPooling2D(2)` → `Dropout(0.25)` → `Flatten` → `Dense(256, relu)` → `Dropout(0.5)` → `Dense(1, sigmoid)`. 합성곱은 모두 3×3, relu입니다 (파라미터 327,649개).",
    "compile_model": "## 7. Compile\n\nCompile the model with **binary cross-entropy**, the **SGD** optimizer and the **accuracy** metric, and return it.\n\n**7. 컴파일하기.** **이진 교차 엔트로피**, **SGD** 옵티마이저, **accuracy** 지표로 모델을 컴파일하고 반환하세요.",
}

_HELPERS = '''def plot_history(history, title):
    """Training and validation loss (left axis) and accuracy (right axis), as in the lecture: by epoch, or by
    training step for a run as the grader trains (its one epoch has no validation)."""
    curves = history.history
    x = curves.get("step") or range(len(curves["loss"]))
    fig, ax_loss = plt.subplots(figsize=(7, 4))
    ax_acc = ax_loss.twinx()
    for ax, key, style, label in ((ax_loss, "loss", "y", "train loss"), (ax_loss, "val_loss", "r", "val loss"),
                                  (ax_acc, "accuracy", "b", "train acc"), (ax_acc, "val_accuracy", "g", "val acc")):
        if key in curves:
            ax.plot(x, curves[key], style, label=label)
    ax_loss.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_loss.set_xlabel("training step" if "step" in curves else "epoch")
    ax_loss.set_ylabel("loss")
    ax_acc.set_ylabel("accuracy")
    ax_loss.legend(loc="upper left")
    ax_acc.legend(loc="lower left")
    ax_loss.set_title(title)
    plt.show()


def plot_predictions(model, x_images, x_input, y_true):
    """A 5×5 grid of test digits titled with the real and predicted class."""
    names = {0: "even", 1: "odd"}
    predicted = (np.asarray(model(x_input[:25], training=False)).reshape(-1) > 0.5).astype(int)
    fig, axes = plt.subplots(5, 5, figsize=(8, 9))
    for i, ax in enumerate(axes.flat):
        ax.imshow(x_images[i], cmap="gray")
        ax.set_title(f"R: {names[int(y_true[i])]} P: {names[int(predicted[i])]}", fontsize=9)
        ax.axis("off")
    plt.tight_layout()
    plt.show()'''

_LOAD = """dataset = load_course_data()
(x_train_all, y_train_all), (x_test, y_test) = (dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)

y_train_all = relabel_odd_even(y_train_all)
y_test = relabel_odd_even(y_test)
x_train, y_train, x_val, y_val = split_train_val(x_train_all, y_train_all, n_val=course_n_val(dataset))
print("train", x_train.shape, "val", x_val.shape, "test", x_test.shape)

# Under nbgrader: the first images only (these cells are feedback; the accuracy checks grade).
x_train, y_train = training_examples(x_train, y_train)
x_val, y_val = training_examples(x_val, y_val)
x_test, y_test = training_examples(x_test, y_test)

x_train_mlp, x_val_mlp, x_test_mlp = (prepare_mlp_input(x) for x in (x_train, x_val, x_test))
x_train_cnn, x_val_cnn, x_test_cnn = (prepare_cnn_input(x) for x in (x_train, x_val, x_test))
EPOCHS, BATCH_SIZE, VERBOSE = training_epochs(), training_batch_size(), training_verbosity()
print(training_plan(len(y_train), len(y_val), len(y_test)))"""


def _train_cell(builder: str, kind: str, title: str) -> str:
    var = builder.replace("build_", "")
    return f"""{var} = compile_model({builder}())
{var}.summary()
if graded_training():  # under nbgrader: as the grader trains it, the run the accuracy check grades (see above)
    history_{var} = train_as_graded({var}, "{builder}")  # prints its test accuracy
else:
    history_{var} = {var}.fit(x_train_{kind}, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE,
{" " * (20 + 2 * len(var))}validation_data=(x_val_{kind}, y_val), verbose=VERBOSE)
    test_loss, test_acc = {var}.evaluate(x_test_{kind}, y_test, verbose=0)
    print(f"{title}: test accuracy {{test_acc:.4f}} on {{len(y_test):,}} test images")
plot_history(history_{var}, "{title}")
plot_predictions({var}, x_test, x_test_{kind}, y_test)"""


def _meta(grade_id: str, *, solution=False, grade=False, locked=True, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _test_source(group: str, points: float, functions: list[str]) -> str:
    args = ", ".join(f"{f}={f}" for f in functions)
    has_hidden = any(c.hidden for c in CHECKS if c.group == group and c.probe.function in functions)
    lines = [f"# Checks of group '{group}' ({points:g} point{'s' if points != 1 else ''}).",
             f'check_group("{group}", {args})']
    if has_hidden:
        lines += ["### BEGIN HIDDEN TESTS", "from autograder.grader.in_kernel import check_hidden_group",
                  f'check_hidden_group("{group}", {args})', "### END HIDDEN TESTS"]
    return "\n".join(lines)


def _other_functions(group: str, per_cell: list[str]) -> list[str]:
    """The functions every one of ``group``'s per-model cells passes besides its own model's builder."""
    return [f for f in CHECK_GROUPS_BY_NAME[group].functions if f not in per_cell]


def _points(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 4)


def build_source_notebook(config: CourseConfig) -> nbformat.NotebookNode:
    """The nbgrader source notebook, cell by cell."""
    cells = [new_markdown_cell(_INTRO, metadata=_meta("intro")),
             new_code_cell(_IMPORTS, metadata=_meta("imports"))]
    for func in reference.STUDENT_FUNCTIONS:
        name = func.__name__
        cells.append(new_markdown_cell(_TASKS[name], metadata=_meta(f"task_{name}")))
        cells.append(new_code_cell(inspect.getsource(func).rstrip(), metadata=_meta(name, solution=True, locked=False)))
        # Every group tested after this function gets its own cell: two groups after one function both appear.
        for group in groups_tested_after(name):
            points = config.points[group.name]
            cells.append(new_code_cell(_test_source(group.name, points, list(group.functions)),
                                       metadata=_meta(grade_id_of(group.name), grade=True, points=_points(points))))
    cells.append(new_markdown_cell(
        "## 8. Reproduce the lecture\n\nThe provided cells below load the data through your functions, "
        "train the three models, draw the training curves (loss and accuracy on twin axes), evaluate on "
        "the test set and show a 5×5 grid of test digits with their real (R) and predicted (P) class.\n\n"
        "*When nbgrader grades the notebook*, each model is trained as the grader trains it (the grading protocol of "
        "section 9: briefly, on the course's own data pipeline), not for the lecture's epochs: that run is the one "
        "its accuracy check grades, and its curves are drawn by training step. The data cell prints the details.\n\n"
        "**8. 강의 재현하기.** 아래의 셀들은 여러분의 함수로 데이터를 불러오고, 세 모델을 학습하고, 학습 곡선(손실과 "
        "정확도를 두 개의 축에)을 그리고, 테스트 세트로 평가한 뒤, 테스트 숫자 25개를 실제(R) 클래스와 예측(P) "
        "클래스와 함께 5×5 격자로 보여 줍니다. *nbgrader가 채점할 때에는* 각 모델을 강의의 에포크만큼이 아니라 채점기가 "
        "학습하는 방식(9절의 채점 프로토콜: 강의의 데이터 처리로 짧게)으로 학습합니다. 그 학습이 바로 정확도 검사가 "
        "채점하는 것이며, 곡선은 학습 스텝별로 그려집니다. 자세한 내용은 데이터 셀이 출력합니다.",
        metadata=_meta("reproduce_intro")))
    cells.append(new_code_cell(_HELPERS, metadata=_meta("plot_helpers")))
    cells.append(new_code_cell(_LOAD, metadata=_meta("load_data")))
    for builder, kind, title in (("build_mlp", "mlp", "MLP"), ("build_cnn", "cnn", "CNN"),
                                 ("build_deep_cnn", "cnn", "Deep CNN with Dropout")):
        cells.append(new_code_cell(_train_cell(builder, kind, title), metadata=_meta(f"train_{builder}")))
    # Accuracy is graded per model, one cell each, so each cell carries its share of the points: its checks'
    # weights over the group's (with every weight 1 and one check per model, an even split).
    accuracy = [c for c in CHECKS if c.group == "accuracy"]
    builders = list(dict.fromkeys(c.probe.function for c in accuracy))
    total_weight = sum(c.weight for c in accuracy)
    cells.append(new_markdown_cell(
        "## 9. Accuracy under the grading protocol\n\nThe grader retrains each of your models briefly with a "
        "fixed seed and compares its test accuracy with the reference solution's under the same protocol.\n\n"
        "**9. 채점 프로토콜의 정확도.** 채점기는 여러분의 모델을 고정된 시드로 짧게 다시 학습하고, 같은 프로토콜로 "
        "학습한 참조 답안의 테스트 정확도와 비교합니다.",
        metadata=_meta("accuracy_intro")))
    for builder in builders:
        weight = sum(c.weight for c in accuracy if c.probe.function == builder)
        per_model = config.points["accuracy"] * weight / total_weight
        cells.append(new_code_cell(
            _test_source("accuracy", per_model, [builder, *_other_functions("accuracy", builders)]),
            metadata=_meta(grade_id_of("accuracy", builder), grade=True, points=_points(per_model))))
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    return nb


def source_notebook_path(config: CourseConfig) -> Path:
    return config.root / "solutions" / config.assignment / config.notebook_name


def write_source_notebook(config: CourseConfig, path: Path | None = None) -> Path:
    path = path or source_notebook_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = build_source_notebook(config)
    # Stable cell ids, so that rebuilding an unchanged notebook changes no byte.
    for i, cell in enumerate(nb.cells):
        cell["id"] = cell.metadata["nbgrader"]["grade_id"].replace("_", "-")[:64] or f"cell-{i}"
    nbformat.write(nb, path)
    return path
