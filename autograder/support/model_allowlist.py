"""Which saved models the kit rebuilds: Keras' own models and plain layers, nothing that carries code.

Both the grader (``isolation.recording.load_model_safely``, on the submission's files) and the
students' self-check (``in_process``) refuse the same configs with the same message, so a model
the grader cannot rebuild fails the self-check too.
"""

from __future__ import annotations

# Layers a submission's model may use: Keras' own, nothing that carries code (Lambda, custom classes).
ALLOWED_LAYERS = frozenset({
    "InputLayer", "Dense", "Conv2D", "Conv1D", "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D",
    "GlobalAveragePooling2D", "Flatten", "Reshape", "Dropout", "SpatialDropout2D", "Activation", "ReLU",
    "LeakyReLU", "BatchNormalization", "LayerNormalization", "Rescaling", "ZeroPadding2D",
})
ALLOWED_MODELS = frozenset({"Sequential", "Functional"})


class ModelNotRebuildable(ValueError):
    """A saved model needs code that the grader does not have (custom layers, lambdas)."""


def model_config_problems(config: dict) -> list[str]:
    """What in a saved model's config is not Keras' own model or plain layer (empty when all is)."""
    problems = []

    def visit(entry: dict, where: str) -> None:
        name, module = entry.get("class_name"), str(entry.get("module") or "")
        if entry.get("registered_name") not in (None, name) or (module and not module.startswith("keras")):
            problems.append(f"{where} is a custom class ({entry.get('registered_name') or name}, module {module!r})")
        for layer in (entry.get("config") or {}).get("layers", []) or []:
            layer_name = layer.get("class_name")
            if layer_name in ALLOWED_MODELS:
                visit(layer, f"nested model {layer_name}")
            elif layer_name not in ALLOWED_LAYERS:
                problems.append(f"layer {layer.get('config', {}).get('name', '?')} is a {layer_name}")
            elif str(layer.get("module") or "keras").split(".")[0] != "keras" or layer.get("registered_name") not in (None, layer_name):
                problems.append(f"layer {layer.get('config', {}).get('name', '?')} claims to be {layer_name} but is "
                                f"{layer.get('registered_name')} from {layer.get('module')!r}")

    if config.get("class_name") not in ALLOWED_MODELS:
        problems.append(f"the model is a {config.get('class_name')}, not keras.Sequential or a functional model")
    visit(config, "the model")
    return problems


def validate_model_config(config: dict) -> None:
    """Refuse a saved model whose config names anything but Keras' own models and plain layers."""
    problems = model_config_problems(config)
    if problems:
        raise ModelNotRebuildable(
            f"the saved model uses what the grader does not rebuild: {'; '.join(problems[:3])}. Hint: build it "
            f"with keras.Sequential and Keras' own layers ({', '.join(sorted(ALLOWED_LAYERS)[:6])}, ...)."
        )
