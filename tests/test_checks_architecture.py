"""Each architecture check against the reference builders and broken builders named after their bug."""

import keras
import pytest
from keras import layers

from autograder.grader import reference
from autograder.checks.architecture import (check_builder_returns_keras_model, check_last_layer_is_dense_1_sigmoid,
                                            check_model_input_shape, check_model_layers_match_lecture,
                                            check_model_parameter_count)

ALL = (check_builder_returns_keras_model, check_model_input_shape, check_model_layers_match_lecture,
       check_last_layer_is_dense_1_sigmoid, check_model_parameter_count)


def _mlp(output):
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(256, activation="relu"),
                             layers.Dense(256, activation="relu"), layers.Dense(256, activation="relu"), output])


def mlp_softmax_output():
    return _mlp(layers.Dense(1, activation="softmax"))


def mlp_two_unit_output():
    return _mlp(layers.Dense(2, activation="sigmoid"))


def mlp_relu_output():
    return _mlp(layers.Dense(1, activation="relu"))


def mlp_no_input_shape():
    return keras.Sequential([layers.Dense(256, activation="relu"), layers.Dense(1, activation="sigmoid")])


def mlp_image_input():
    return keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten(), layers.Dense(256, activation="relu"),
                             layers.Dense(256, activation="relu"), layers.Dense(256, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])


def mlp_separate_activation_layers():
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(256), layers.Activation("relu"),
                             layers.Dense(256, activation="relu"), layers.Dense(256, activation="relu"),
                             layers.Dense(1), layers.Activation("sigmoid")])


def mlp_functional_api():
    inputs = keras.Input(shape=(784,))
    h = inputs
    for _ in range(3):
        h = layers.Dense(256, activation="relu")(h)
    return keras.Model(inputs, layers.Dense(1, activation="sigmoid")(h))


def mlp_input_shape_argument():
    return keras.Sequential([layers.Dense(256, activation="relu", input_shape=(784,)), layers.Dense(256, activation="relu"),
                             layers.Dense(256, activation="relu"), layers.Dense(1, activation="sigmoid")])


def mlp_activation_functions():
    return keras.Sequential([keras.Input(shape=(784,))]
                            + [layers.Dense(256, activation=keras.activations.relu) for _ in range(3)]
                            + [layers.Dense(1, activation=keras.activations.sigmoid)])


def mlp_relu_layers():
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(256), layers.ReLU(), layers.Dense(256), layers.ReLU(),
                             layers.Dense(256), layers.ReLU(), layers.Dense(1, activation="sigmoid")])


def mlp_capped_relu6_layers():
    return keras.Sequential([keras.Input(shape=(784,)), layers.Dense(256), layers.ReLU(max_value=6.0),
                             layers.Dense(256, activation="relu"), layers.Dense(256, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])


def mlp_added_layer_by_layer():
    model = keras.Sequential()
    model.add(keras.Input(shape=(784,)))
    for _ in range(3):
        model.add(layers.Dense(units=256, activation="relu"))
    model.add(layers.Dense(units=1, activation="sigmoid"))
    return model


def cnn_layer_aliases():
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Convolution2D(32, (3, 3), activation="relu"),
                             layers.MaxPool2D((2, 2)), layers.Convolution2D(32, (3, 3), activation="relu"),
                             layers.MaxPool2D((2, 2)), layers.Flatten(), layers.Dense(256, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])


def cnn_int_sizes():
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                             layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
                             layers.Dense(256, activation="relu"), layers.Dense(1, activation="sigmoid")])


def cnn_keyword_arguments():
    def conv():
        return layers.Conv2D(filters=32, kernel_size=(3, 3), strides=(1, 1), padding="valid",
                             activation=keras.activations.relu)

    return keras.Sequential([keras.Input(shape=(28, 28, 1)), conv(), layers.MaxPooling2D(pool_size=(2, 2), padding="valid"),
                             conv(), layers.MaxPooling2D(pool_size=(2, 2)), layers.Flatten(),
                             layers.Dense(units=256, activation=keras.activations.relu),
                             layers.Dense(units=1, activation=keras.activations.sigmoid)])


def cnn_input_shape_argument():
    return keras.Sequential([layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
                             layers.MaxPooling2D((2, 2)), layers.Conv2D(32, (3, 3), activation="relu"),
                             layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(256, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])


def cnn_functional_api():
    inputs = keras.Input(shape=(28, 28, 1))
    h = inputs
    for _ in range(2):
        h = layers.MaxPooling2D((2, 2))(layers.Conv2D(32, (3, 3), activation="relu")(h))
    h = layers.Dense(256, activation="relu")(layers.Flatten()(h))
    return keras.Model(inputs, layers.Dense(1, activation="sigmoid")(h))


def cnn_separate_activations():
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(32, (3, 3)), layers.Activation("relu"),
                             layers.MaxPooling2D((2, 2)), layers.Conv2D(32, (3, 3)), layers.ReLU(),
                             layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(256),
                             layers.Activation(keras.activations.relu), layers.Dense(1), layers.Activation("sigmoid")])


def deep_cnn_aliases_and_functions():
    relu = keras.activations.relu
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Convolution2D(32, 3, activation=relu), layers.Convolution2D(32, 3, activation=relu), layers.MaxPool2D(2),
        layers.Dropout(rate=0.25),
        layers.Convolution2D(64, 3, activation=relu), layers.Convolution2D(64, 3, activation=relu), layers.MaxPool2D(2),
        layers.Dropout(rate=0.25),
        layers.Flatten(), layers.Dense(256, activation=relu), layers.Dropout(0.5),
        layers.Dense(1, activation=keras.activations.sigmoid),
    ])


def deep_cnn_functional_api():
    inputs = keras.Input(shape=(28, 28, 1))
    h = inputs
    for filters in (32, 64):
        h = layers.Conv2D(filters, (3, 3), activation="relu")(h)
        h = layers.Conv2D(filters, (3, 3), activation="relu")(h)
        h = layers.Dropout(0.25)(layers.MaxPooling2D((2, 2))(h))
    h = layers.Dropout(0.5)(layers.Dense(256, activation="relu")(layers.Flatten()(h)))
    return keras.Model(inputs=inputs, outputs=layers.Dense(1, activation="sigmoid")(h))


def mlp_returns_none():
    model = reference.build_mlp()  # built but never returned
    del model


def cnn_64_filters():
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(64, (3, 3), activation="relu"),
                             layers.MaxPooling2D((2, 2)), layers.Conv2D(32, (3, 3), activation="relu"),
                             layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(256, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])


def cnn_5x5_kernel():
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(32, (5, 5), activation="relu"),
                             layers.MaxPooling2D((2, 2)), layers.Conv2D(32, (3, 3), activation="relu"),
                             layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(256, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])


def deep_cnn_no_dropout():
    model = reference.build_deep_cnn()
    return keras.Sequential([keras.Input(shape=(28, 28, 1))] + [l for l in model.layers if not isinstance(l, layers.Dropout)])


def deep_cnn_dropout_0_5_everywhere():
    config = reference.build_deep_cnn().get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "Dropout":
            layer["config"]["rate"] = 0.5
    return keras.Sequential.from_config(config)


@pytest.mark.parametrize("builder", ["build_mlp", "build_cnn", "build_deep_cnn"])
def test_reference_passes_every_architecture_check(probe_call, builder):
    call = probe_call(getattr(reference, builder), builder)
    for check in ALL:
        check(call)


EQUIVALENT = [(mlp_separate_activation_layers, "build_mlp"), (mlp_functional_api, "build_mlp"),
              (mlp_input_shape_argument, "build_mlp"), (mlp_activation_functions, "build_mlp"),
              (mlp_relu_layers, "build_mlp"), (mlp_added_layer_by_layer, "build_mlp"),
              (cnn_layer_aliases, "build_cnn"), (cnn_int_sizes, "build_cnn"), (cnn_keyword_arguments, "build_cnn"),
              (cnn_input_shape_argument, "build_cnn"), (cnn_functional_api, "build_cnn"),
              (cnn_separate_activations, "build_cnn"),
              (deep_cnn_aliases_and_functions, "build_deep_cnn"), (deep_cnn_functional_api, "build_deep_cnn")]


@pytest.mark.parametrize("builder, probe", EQUIVALENT, ids=[b.__name__ for b, _p in EQUIVALENT])
def test_equivalent_ways_of_writing_the_lecture_models_pass(probe_call, builder, probe):
    # Keras aliases (Convolution2D, MaxPool2D), int sizes, activation functions instead of names,
    # explicit defaults, input_shape= instead of keras.Input, the functional API, and a linear layer
    # followed by Activation(...) or ReLU() all build the lecture's model.
    call = probe_call(builder, probe)
    for check in ALL:
        check(call)


def test_capped_relu_layer_is_not_read_as_relu(probe_call):
    # ReLU(max_value=6) computes min(max(x, 0), 6), not activation='relu': it stays a layer of its own.
    with pytest.raises(AssertionError, match=r"layer 0 differs: settings expected units=256, activation=relu, "
                                             r"got units=256, activation=linear"):
        check_model_layers_match_lecture(probe_call(mlp_capped_relu6_layers, "build_mlp"))


def test_softmax_output_gets_the_softmax_hint(probe_call):
    with pytest.raises(AssertionError, match=r"ends with Dense\(units=1, activation=softmax\)\. Hint: softmax over a single unit always outputs 1\.0"):
        check_last_layer_is_dense_1_sigmoid(probe_call(mlp_softmax_output, "build_mlp"))


def test_two_unit_output_gets_the_one_unit_hint(probe_call):
    with pytest.raises(AssertionError, match=r"needs one output unit"):
        check_last_layer_is_dense_1_sigmoid(probe_call(mlp_two_unit_output, "build_mlp"))


def test_relu_output_gets_the_probability_hint(probe_call):
    with pytest.raises(AssertionError, match=r"relu/linear/tanh outputs are not"):
        check_last_layer_is_dense_1_sigmoid(probe_call(mlp_relu_output, "build_mlp"))


def test_softmax_output_is_the_first_difference_in_the_table(probe_call):
    with pytest.raises(AssertionError, match=r"(?s)layer 3 differs: settings expected units=1, activation=sigmoid, got units=1, activation=softmax.*\n>> 3\s+Dense\s+Dense"):
        check_model_layers_match_lecture(probe_call(mlp_softmax_output, "build_mlp"))


def test_model_without_input_shape_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"returned a model without an input shape, expected \(784,\)"):
        check_model_input_shape(probe_call(mlp_no_input_shape, "build_mlp"))


def test_image_input_to_the_mlp_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"takes input shape \(28, 28\), expected \(784,\)"):
        check_model_input_shape(probe_call(mlp_image_input, "build_mlp"))


def test_builder_returning_none_is_named(probe_call):
    with pytest.raises(AssertionError, match=r"build_mlp\(\) returned NoneType, expected a keras.Model"):
        check_builder_returns_keras_model(probe_call(mlp_returns_none, "build_mlp"))


def test_cnn_with_64_filters_points_at_layer_0(probe_call):
    call = probe_call(cnn_64_filters, "build_cnn")
    with pytest.raises(AssertionError, match=r"layer 0 differs: output shape expected \(26, 26, 32\), got \(26, 26, 64\); params expected 320, got 640; settings expected filters=32"):
        check_model_layers_match_lecture(call)
    with pytest.raises(AssertionError, match=r"has 224,417 parameters, expected 214,881 \(difference \+9,536\)"):
        check_model_parameter_count(call)


def test_cnn_with_5x5_kernel_points_at_layer_0(probe_call):
    with pytest.raises(AssertionError, match=r"layer 0 differs: output shape expected \(26, 26, 32\), got \(24, 24, 32\)"):
        check_model_layers_match_lecture(probe_call(cnn_5x5_kernel, "build_cnn"))


def test_deep_cnn_without_dropout_is_caught(probe_call):
    with pytest.raises(AssertionError, match=r"layer 3 differs: type expected Dropout, got Conv2D"):
        check_model_layers_match_lecture(probe_call(deep_cnn_no_dropout, "build_deep_cnn"))


def test_deep_cnn_with_wrong_dropout_rate_is_caught(probe_call):
    with pytest.raises(AssertionError, match=r"layer 3 differs: settings expected rate=0.25, got rate=0.5"):
        check_model_layers_match_lecture(probe_call(deep_cnn_dropout_0_5_everywhere, "build_deep_cnn"))


def test_stub_builder_fails_every_check(probe_call):
    def build_cnn():
        raise NotImplementedError()

    call = probe_call(build_cnn, "build_cnn")
    for check in ALL:
        with pytest.raises(AssertionError, match=r"build_cnn\(\) raised NotImplementedError"):
            check(call)


def test_custom_layer_is_refused_with_a_hint(probe_call):
    class Doubler(layers.Layer):
        def call(self, x):
            return 2 * x

    def build_mlp():
        return _mlp_with(Doubler())

    def _mlp_with(extra):
        return keras.Sequential([keras.Input(shape=(784,)), extra, layers.Dense(1, activation="sigmoid")])

    with pytest.raises(AssertionError, match=r"(?s)build_mlp\(\) produced a result the grader cannot read: the saved model uses what the grader "
                       r"does not rebuild: layer doubler is a Doubler\. Hint: build it with keras\.Sequential and Keras' own layers"):
        check_builder_returns_keras_model(probe_call(build_mlp, "build_mlp"))


def lecture_mlp_without_input():
    return keras.Sequential([layers.Dense(256, activation="relu"), layers.Dense(256, activation="relu"),
                             layers.Dense(256, activation="relu"), layers.Dense(1, activation="sigmoid")])


def lecture_cnn_added_without_input():
    model = keras.Sequential()
    for layer in reference.build_cnn().layers:
        model.add(layer.__class__.from_config(layer.get_config()))
    return model


def mlp_with_conv_and_no_input():
    return keras.Sequential([layers.Conv2D(32, (3, 3), activation="relu"), layers.Flatten(),
                             layers.Dense(1, activation="sigmoid")])


@pytest.mark.parametrize("builder, probe", [(lecture_mlp_without_input, "build_mlp"),
                                            (lecture_cnn_added_without_input, "build_cnn")])
def test_missing_input_costs_only_the_input_shape_check(probe_call, builder, probe):
    # Issue 11.1: Keras builds such a model on its first batch; the other checks compare it built
    # for the lecture's input instead of reporting a grader error.
    call = probe_call(builder, probe)
    with pytest.raises(AssertionError, match=r"returned a model without an input shape.*Keras builds such a model"):
        check_model_input_shape(call)
    for check in (check_builder_returns_keras_model, check_model_layers_match_lecture,
                  check_last_layer_is_dense_1_sigmoid, check_model_parameter_count):
        check(call)


def test_missing_input_with_other_differences_says_how_it_was_compared(probe_call):
    def short_mlp():
        return keras.Sequential([layers.Dense(256, activation="relu"), layers.Dense(1, activation="sigmoid")])

    call = probe_call(short_mlp, "build_mlp")
    with pytest.raises(AssertionError, match="has 201,217 parameters, expected 332,801") as raised:
        check_model_parameter_count(call)
    message = str(raised.value.args[0])
    assert "has 201,217 parameters, expected 332,801" in message
    assert "compared as built for the lecture's input (784,)" in message
    assert "grader could not run" not in message and "count_params" not in message


def test_missing_input_and_layers_that_cannot_take_the_lecture_input(probe_call):
    call = probe_call(mlp_with_conv_and_no_input, "build_mlp")
    for check in (check_model_layers_match_lecture, check_model_parameter_count):
        with pytest.raises(AssertionError, match=r"without an input shape, and its layers cannot take the lecture's "
                                                 r"input \(784,\) either \(Keras: .*incompatible"):
            check(call)
