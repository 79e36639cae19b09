"""Saved models are rebuilt only from Keras' own classes: the config is validated before loading."""

import keras
import pytest
from keras import layers

from autograder.grader import reference
from autograder.isolation.recording import ModelNotRebuildable, load_model_safely, validate_model_config


@keras.saving.register_keras_serializable(package="student")
class SequentialThatLiesAboutItsLayers(keras.Sequential):
    @property
    def layers(self):
        return []


def mlp_with_a_lambda_layer():
    return keras.Sequential([keras.Input(shape=(784,)), layers.Lambda(lambda x: x * 2), layers.Dense(1, activation="sigmoid")])


@pytest.mark.parametrize("builder", ["build_mlp", "build_cnn", "build_deep_cnn"])
def test_reference_models_pass_validation_and_load(builder, tmp_path):
    path = tmp_path / "m.keras"
    getattr(reference, builder)().save(path)
    validate_model_config(path)
    assert isinstance(load_model_safely(path), keras.Sequential)


def test_lambda_layer_is_refused_by_name(tmp_path):
    path = tmp_path / "m.keras"
    mlp_with_a_lambda_layer().save(path)
    with pytest.raises(ModelNotRebuildable, match=r"layer lambda is a Lambda\. Hint: build it with keras\.Sequential"):
        validate_model_config(path)


def test_model_subclass_is_refused_as_a_custom_class(tmp_path):
    path = tmp_path / "m.keras"
    SequentialThatLiesAboutItsLayers([keras.Input(shape=(784,)), layers.Dense(1, activation="sigmoid")]).save(path)
    with pytest.raises(ModelNotRebuildable, match=r"the model is a SequentialThatLiesAboutItsLayers, not keras\.Sequential"):
        load_model_safely(path)
