"""``python -m autograder reproduce``: the lecture's protocol, its table, curves and overfitting note."""

import json

import matplotlib.image as mpimg
import pytest

from autograder.__main__ import main
from autograder.dev.reproduce import LECTURE_TEST_ACCURACY, ReproducedModel


def model_with_val_loss(val_loss):
    n = len(val_loss)
    return ReproducedModel("build_cnn", 0.99, 0.03, {"val_loss": val_loss, "loss": [0.1] * n,
                                                      "accuracy": [0.9] * n, "val_accuracy": [0.9] * n}, 1.0)


def test_epoch_of_minimum_validation_loss_is_where_overfitting_starts():
    model = model_with_val_loss([0.30, 0.10, 0.08, 0.09, 0.12])
    assert model.best_epoch == 3
    assert model.overfitting_note == "overfits after epoch 3: validation loss 0.0800 there, 0.1200 at epoch 5 (+50%)"


def test_still_falling_validation_loss_is_not_called_overfitting():
    assert model_with_val_loss([0.3, 0.2, 0.1]).overfitting_note == \
        "no overfitting within 3 epochs (validation loss still falling)"


def test_reproduce_prints_the_lecture_table_and_saves_curves(tmp_path, capsys):
    assert main(["--config", "course.yml", "reproduce", "--data", "sample", "--models", "mlp", "--epochs", "2",
                 "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| model | lecture test acc. | reproduced test acc. |" in out
    assert f"| MLP | {LECTURE_TEST_ACCURACY['build_mlp']:.4f} | 0." in out
    assert "MLP:" in out  # the progress bar's title
    saved = json.loads((tmp_path / "reproduce.json").read_text())
    assert saved["epochs"] == 2 and saved["batch_size"] == 32
    assert len(saved["models"][0]["history"]["val_loss"]) == 2
    image = mpimg.imread(tmp_path / "build_mlp_curves.png")
    assert image.std() > 0.05  # a drawn figure, not a blank canvas


def test_unknown_model_name_is_refused_with_the_choices():
    with pytest.raises(SystemExit, match="unknown model.*mlpp.*choose from mlp, cnn, deep_cnn"):
        main(["--config", "course.yml", "reproduce", "--data", "sample", "--models", "mlpp"])
