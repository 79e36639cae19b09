"""How large a model the grader accepts: the caps on parameters and activations, and how they are counted.

One definition for both wings. The grader (``isolation.untrusted_files.model_size``) counts a saved
model's parameters and activations with ``built_size`` before it builds any weight and refuses a
model above these caps; the students' self-check (``autograder.fit_summary``) counts the model it
got back the same way and shows the figures against the same caps ("will this fit the grader?").

Bounds (the lecture's models, measured with Keras 3.15: MLP 332,801 parameters in 4 layers,
CNN 214,881 in 7, deep CNN 327,649 in 12):

- parameters: 10 times the largest lecture model's (3,328,010);
- activations per image: 65,536 values in one layer's output (3 times the lecture's largest,
  26x26x32) and 500,000 over all layers (8 times the deep CNN's 63,361), so that training at
  batch 64 and predicting at batch 1,000 stay within a few hundred MB.
"""

from __future__ import annotations

import numpy as np

LARGEST_LECTURE_PARAMS = 332_801  # build_mlp; the CNNs have 214,881 and 327,649
MAX_PARAMS = 10 * LARGEST_LECTURE_PARAMS
MAX_LAYER_VALUES = 65_536  # values in one layer's output, per image
MAX_TOTAL_VALUES = 500_000  # over all layers' outputs, per image


def built_size(model) -> tuple[int, int, int]:
    """A built model's (parameters, values per image of its largest layer output, values per image of all outputs)."""
    params = sum(int(np.prod(v.shape)) for v in model.weights)
    outputs = [int(np.prod([d for d in layer.output.shape[1:] if d is not None]))
               for layer in all_layers(model) if has_output(layer)]
    return params, max(outputs, default=0), sum(outputs)


def all_layers(model, depth: int = 0):
    """The model's layers, those of nested models included (8 levels at most)."""
    for layer in getattr(model, "layers", []):
        yield layer
        if depth < 8 and hasattr(layer, "layers"):
            yield from all_layers(layer, depth + 1)


def has_output(layer) -> bool:
    """Whether the layer has one symbolic output (a layer of a built model does)."""
    try:
        return layer.output is not None and not isinstance(layer.output, (list, tuple, dict))
    except (AttributeError, ValueError):
        return False
