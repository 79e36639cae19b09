"""The lecture's published code, as the lecture prints it: nobody's own code in the similarity report.

The lecture is Kim Tae-young's Keras recipe "영상입력 이진분류 모델 레시피" (image input, binary classification;
tykimos.github.io, 2017-08-18): MNIST relabelled odd/even. It prints the data preparation piece by piece (the
reshape for the MLP and for the CNNs with ``width*height``, scaling by 255.0, the 50,000/10,000 split, ``% 2``,
a 5×5 grid of the data), the three models written with ``Sequential().add(...)`` (``input_dim=width*height``,
``input_shape=(width, height, 1)``), then one whole source per model: the imports (``from keras.models import
Sequential``, ...), ``width = 28`` and ``height = 28``, the data, the model, the compile, the 30-epoch fit with
validation, the loss and accuracy curves on twin axes, the evaluation and the 5×5 prediction grid. Students
copy these lines as printed, into the release's functions or into cells of their own; two students who do so
share nothing of their own.

Held as text only (the similarity report must not import Keras, and nothing here is ever run), line for line
as printed, with the lecture's own comments (the report ignores comments and layout, not the code: the
evaluation's two prints, ``i/plt_row`` and the ``'accuray'`` label are the lecture's).
``autograder/grader/reference.py`` and ``course/examples.py`` hold the kit's own paraphrases of the same code,
which are boilerplate too.
"""

from __future__ import annotations

_IMPORTS = """# 0. 사용할 패키지 불러오기
from keras.utils import np_utils
from keras.datasets import mnist
from keras.models import Sequential
from keras.layers import Dense, Activation
"""
_CNN_IMPORTS = "from keras.layers import Conv2D, MaxPooling2D, Flatten\n"
_DROPOUT_IMPORT = "from keras.layers import Dropout\n"

_SIZE = """
width = 28
height = 28
"""

_LOAD = """
# 1. 데이터셋 생성하기

# 훈련셋과 시험셋 불러오기
(x_train, y_train), (x_test, y_test) = mnist.load_data()
"""
_RESHAPE_MLP = """x_train = x_train.reshape(60000, width*height).astype('float32') / 255.0
x_test = x_test.reshape(10000, width*height).astype('float32') / 255.0
"""
_RESHAPE_CNN = """x_train = x_train.reshape(60000, width, height, 1).astype('float32') / 255.0
x_test = x_test.reshape(10000, width, height, 1).astype('float32') / 255.0
"""
_SPLIT = """x_val = x_train[50000:]
y_val = y_train[50000:]
x_train = x_train[:50000]
y_train = y_train[:50000]
"""
_RELABEL = """y_train = y_train % 2
y_val = y_val % 2
y_test = y_test % 2
"""
_SPLIT_AND_RELABEL = f"""
# 훈련셋과 검증셋 분리
{_SPLIT}
# 데이터셋 전처리 : 홀수는 1, 짝수는 0으로 변환
{_RELABEL}"""

# The data, shown before any model: the same grid as the prediction's, with the true labels only.
DATA_GRID = """%matplotlib inline
import matplotlib.pyplot as plt

plt_row = 5
plt_col = 5

plt.rcParams["figure.figsize"] = (10,10)

f, axarr = plt.subplots(plt_row, plt_col)

for i in range(plt_row*plt_col):
    sub_plt = axarr[i/plt_row, i%plt_col]
    sub_plt.axis('off')
    sub_plt.imshow(x_test[i].reshape(width, height))

    sub_plt_title = 'R: '

    if y_test[i] :
        sub_plt_title += 'odd '
    else:
        sub_plt_title += 'even '

    sub_plt.set_title(sub_plt_title)

plt.show()
"""

MODELS = {
    "mlp": """model = Sequential()
model.add(Dense(256, input_dim=width*height, activation='relu'))
model.add(Dense(256, activation='relu'))
model.add(Dense(256, activation='relu'))
model.add(Dense(1, activation='sigmoid'))
""",
    "cnn": """model = Sequential()
model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(width, height, 1)))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Conv2D(32, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(256, activation='relu'))
model.add(Dense(1, activation='sigmoid'))
""",
    "deep_cnn": """model = Sequential()
model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(width, height, 1)))
model.add(Conv2D(32, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(256, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))
""",
}

COMPILE = "model.compile(loss='binary_crossentropy', optimizer='sgd', metrics=['accuracy'])\n"
FIT = "hist = model.fit(x_train, y_train, epochs=30, batch_size=32, validation_data=(x_val, y_val))\n"

CURVES = """%matplotlib inline
import matplotlib.pyplot as plt

fig, loss_ax = plt.subplots()

acc_ax = loss_ax.twinx()

loss_ax.plot(hist.history['loss'], 'y', label='train loss')
loss_ax.plot(hist.history['val_loss'], 'r', label='val loss')
loss_ax.set_ylim([0.0, 0.5])

acc_ax.plot(hist.history['acc'], 'b', label='train acc')
acc_ax.plot(hist.history['val_acc'], 'g', label='val acc')
acc_ax.set_ylim([0.8, 1.0])

loss_ax.set_xlabel('epoch')
loss_ax.set_ylabel('loss')
acc_ax.set_ylabel('accuray')

loss_ax.legend(loc='upper left')
acc_ax.legend(loc='lower left')

plt.show()
"""

EVALUATE = """loss_and_metrics = model.evaluate(x_test, y_test, batch_size=32)
print('## evaluation loss and_metrics ##')
print(loss_and_metrics)
"""

PREDICTION_GRID = """yhat_test = model.predict(x_test, batch_size=32)

%matplotlib inline
import matplotlib.pyplot as plt

plt_row = 5
plt_col = 5

plt.rcParams["figure.figsize"] = (10,10)

f, axarr = plt.subplots(plt_row, plt_col)

for i in range(plt_row*plt_col):
    sub_plt = axarr[i/plt_row, i%plt_col]
    sub_plt.axis('off')
    sub_plt.imshow(x_test[i].reshape(width, height))

    sub_plt_title = 'R: '

    if y_test[i] :
        sub_plt_title += 'odd '
    else:
        sub_plt_title += 'even '

    sub_plt_title += 'P: '

    if yhat_test[i] >= 0.5 :
        sub_plt_title += 'odd '
    else:
        sub_plt_title += 'even '

    sub_plt.set_title(sub_plt_title)

plt.show()
"""


def header(model: str) -> str:
    """The top of one model's recipe: its imports, then ``width = 28`` and ``height = 28``."""
    return _IMPORTS + ("" if model == "mlp" else _CNN_IMPORTS) + (_DROPOUT_IMPORT if model == "deep_cnn" else "") + _SIZE


def recipe(model: str) -> str:
    """One model's whole recipe, top to bottom, as the lecture prints it."""
    reshape = _RESHAPE_MLP if model == "mlp" else _RESHAPE_CNN
    return "\n".join([header(model) + _LOAD + reshape + _SPLIT_AND_RELABEL, "# 2. 모델 구성하기\n" + MODELS[model],
                      "# 3. 모델 학습과정 설정하기\n" + COMPILE, "# 4. 모델 학습시키기\n" + FIT,
                      "# 5. 학습과정 살펴보기\n" + CURVES, "# 6. 모델 평가하기\n" + EVALUATE,
                      "# 7. 모델 사용하기\n" + PREDICTION_GRID])


RECIPES: dict[str, str] = {model: recipe(model) for model in MODELS}


def _indented(code: str) -> str:
    return "".join(f"    {line}\n" if line else "\n" for line in code.splitlines())


# The lecture's lines as students write them into the release's functions: the printed lines under the def
# line, and the ``return`` the function needs (prepare_*: the lecture's reshape, for any number of images).
LECTURE_ANSWERS: dict[str, str] = {
    "prepare_mlp_input": "def prepare_mlp_input(x):\n"
                         "    return x.reshape(x.shape[0], width*height).astype('float32') / 255.0",
    "prepare_cnn_input": "def prepare_cnn_input(x):\n"
                         "    return x.reshape(x.shape[0], width, height, 1).astype('float32') / 255.0",
    **{f"build_{model}": f"def build_{model}():\n{_indented(code)}    return model" for model, code in MODELS.items()},
    "compile_model": f"def compile_model(model):\n{_indented(COMPILE)}    return model",
}

# The lecture's reshape in prepare_*, for any number of images: the printed line with its count (60000) written
# the ways a function counts the images it is given. Without them, two students who each copy the line share
# a fragment that is nobody's own but the lecture's.
IMAGE_COUNTS = ("x.shape[0]", "len(x)", "-1")
ADAPTED_RESHAPES: list[str] = [
    f"def prepare_{kind}_input(x):\n    return x.reshape({count}, {shape}).astype('float32') / 255.0"
    for count in IMAGE_COUNTS for kind, shape in (("mlp", "width*height"), ("cnn", "width, height, 1"))]

# The lecture's training, curves, evaluation and prediction grid run on the release's functions: the printed
# cells after the one line that builds the model from them, as a student who runs the lecture writes it.
LECTURE_RUNS: list[str] = [
    f"model = compile_model(build_{model}())\n" + FIT + CURVES + EVALUATE + PREDICTION_GRID for model in MODELS]


def lecture_texts() -> list[str]:
    """Every piece of the lecture's code the similarity report treats as boilerplate."""
    return [*RECIPES.values(), DATA_GRID, *LECTURE_ANSWERS.values(), *ADAPTED_RESHAPES, *LECTURE_RUNS]
