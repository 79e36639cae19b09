"""A model's layers as the architecture checks compare them and the report shows them: one ``LayerRow`` a layer.

``describe_layers`` reads them off a Keras model (InputLayer dropped, a standalone Activation or ReLU folded into
the layer before it); the lecture's own rows are kept as data in ``autograder.expected``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerRow:
    """What the checks compare of one layer."""

    type: str
    output_shape: tuple
    params: int
    settings: str

    def cells(self) -> tuple[str, str, str, str]:
        return self.type, str(self.output_shape), f"{self.params:,}", self.settings

    def to_dict(self) -> list:
        """Plain JSON data: ``[type, output_shape as a list, params, settings]``."""
        return [self.type, list(self.output_shape), self.params, self.settings]

    @classmethod
    def from_dict(cls, data) -> "LayerRow":
        """A row from ``to_dict``'s data; ValueError for anything else (a record may have been edited)."""
        if not (isinstance(data, list) and len(data) == 4 and isinstance(data[0], str) and isinstance(data[1], list)
                and type(data[2]) is int and isinstance(data[3], str)
                and (data[1] == ["?"] or all(d is None or type(d) is int for d in data[1]))):
            raise ValueError("a layer row must be [type, output shape as a list of whole numbers (or [\"?\"] where "
                             "the layer has none), parameter count, settings]")
        return cls(data[0], tuple(data[1]), data[2], data[3])

    @staticmethod
    def tables_to_dict(layers: dict[str, list["LayerRow"]]) -> dict[str, list]:
        """Layer tables by builder as plain JSON data, each row as ``to_dict`` writes it."""
        return {builder: [row.to_dict() for row in rows] for builder, rows in layers.items()}

    @classmethod
    def tables_from_dict(cls, data) -> dict[str, list["LayerRow"]]:
        """Layer tables by builder from the model process's plain data (``tables_to_dict``'s); ValueError or
        TypeError for anything else. It reads the kinds and settings as text and a shape's entries as they are
        (an unknown output shape is ``["?"]``, as ``describe_layers`` writes it for a layer without an output),
        where ``from_dict`` reads a stored grade's rows strictly."""
        if not isinstance(data, dict):
            raise TypeError("the layer tables must be a mapping")
        layers = {}
        for builder, rows in data.items():
            if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == 4 for r in rows):
                raise ValueError(f"the layer table of {str(builder)[:40]!r} must be rows of [kind, shape, params, "
                                 "settings]")
            if not all(type(r[2]) is int and isinstance(r[1], list) for r in rows):
                raise TypeError(f"the layer table of {str(builder)[:40]!r} must give each layer's shape as a list and "
                                "its parameter count as a whole number")
            layers[str(builder)] = [cls(str(kind), tuple(shape), params, str(settings))
                                    for kind, shape, params, settings in rows]
        return layers


def _settings(layer) -> str:
    cfg = layer.get_config()
    parts = []
    for key in ("units", "filters"):
        if key in cfg:
            parts.append(f"{key}={cfg[key]}")
    for key in ("kernel_size", "pool_size"):
        if key in cfg:
            parts.append(f"{key}={tuple(cfg[key])}")
    if "rate" in cfg:
        parts.append(f"rate={cfg['rate']:g}")
    if "activation" in cfg:
        act = cfg["activation"]
        parts.append(f"activation={act if isinstance(act, str) else act.get('config', act)}")
    return ", ".join(parts)


def describe_layers(model) -> list[LayerRow]:
    """The model's layers as rows (InputLayer dropped, Activation/ReLU layers folded into their predecessor)."""
    rows: list[LayerRow] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        shape = tuple(layer.output.shape[1:]) if _has_output(layer) else ("?",)
        act = _standalone_activation(layer)
        if act is not None and rows and "activation=linear" in rows[-1].settings:
            prev = rows[-1]
            rows[-1] = LayerRow(prev.type, shape, prev.params, prev.settings.replace("activation=linear", f"activation={act}"))
            continue
        rows.append(LayerRow(kind, shape, layer.count_params() if layer.built else 0, _settings(layer)))
    return rows


def _standalone_activation(layer) -> str | None:
    """The activation a layer only applies: Activation(name or function), or ReLU() with its defaults; else None."""
    kind = type(layer).__name__
    cfg = layer.get_config()
    if kind == "Activation":
        act = cfg["activation"]
        return act if isinstance(act, str) else str(act.get("config", act))
    if kind == "ReLU" and not cfg.get("max_value") and not cfg.get("negative_slope") and not cfg.get("threshold"):
        return "relu"  # plain max(x, 0): what activation='relu' computes
    return None


def _has_output(layer) -> bool:
    try:
        layer.output
    except (AttributeError, ValueError):
        return False
    return True
