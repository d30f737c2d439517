"""Models that load without zoo: the layers zoo trains with, saved as the standard Keras layers they equal.

zoo trains with a few subclasses of Keras layers that differ only in *how fast* they train (`BatchNorm`
takes TensorFlow's fused kernel, `Dropout` and `AlphaDropout` draw their masks in an XLA-friendly way) or
only in training (`RReLU` draws its slopes; at inference it is a leaky ReLU with the mean slope). A saved
model has no use for either difference, and naming them in the file made it load only where zoo is
imported. `portable(model)` rebuilds the model from its config with the standard layers in their place
and copies every weight over, so the saved file loads with plain `keras.saving.load_model`.

The table stack's `PeriodicEmbedding` is saved as the small functional model of standard layers and ops
that equals it (`zoo.nets.tabular.plain_periodic`). Layers zoo has no standard equal for (`MCDropout`,
`Staircase`, `ForwardOnly`, ...) stay; `needs_zoo(model)` names them so the card can say which import the
file needs.
"""

from __future__ import annotations

from typing import Any

import keras

# zoo's registered name -> the standard Keras class it equals at inference, and how its config maps.
_STANDARD: dict[str, tuple[str, Any]] = {
    "zoo>BatchNorm": ("BatchNormalization", None),
    "zoo>Dropout": ("Dropout", None),
    "zoo>AlphaDropout": ("AlphaDropout", None),
    "zoo>RReLU": ("LeakyReLU", lambda c: {"negative_slope": (c["lower"] + c["upper"]) / 2}),
}
_LAYER_KEYS = ("name", "trainable", "dtype")  # what every layer's config keeps when its class changes


def _standardized(node: Any) -> Any:
    """The serialized model `node` with every zoo layer that has a standard equal replaced by it."""
    if isinstance(node, list):
        return [_standardized(item) for item in node]
    if not isinstance(node, dict):
        return node
    # A nested model keeps its training configuration (a zoo loss such as SmoothedSparseCrossentropy) in its
    # config; a saved model is for predicting, so none is kept.
    node = {key: _standardized(value) for key, value in node.items() if key != "compile_config"}
    if node.get("registered_name") == "zoo>PeriodicEmbedding" and "build_config" in node:
        return _plain_periodic_node(node)
    swap = _STANDARD.get(node.get("registered_name") or "")
    if swap is not None and isinstance(node.get("config"), dict):
        class_name, translate = swap
        config = node["config"]
        if translate is not None:
            config = {**{k: config[k] for k in _LAYER_KEYS if k in config}, **translate(config)}
        node = {**node, "module": "keras.layers", "class_name": class_name, "registered_name": None, "config": config}
    return node


def _plain_periodic_node(node: dict) -> dict:
    """A serialized PeriodicEmbedding as the serialized functional model of standard layers that equals it
    (`zoo.nets.tabular.plain_periodic`), keeping its name and where it sits in the graph."""
    from zoo.nets.tabular import plain_periodic

    columns = int(node["build_config"]["input_shape"][-1])
    plain = keras.saving.serialize_keras_object(plain_periodic(node["config"], columns))
    swapped = ("module", "class_name", "config", "registered_name", "build_config")
    return {**node, **{key: plain[key] for key in swapped}}


def _zoo_names(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_zoo_names, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    own = {node["registered_name"]} if str(node.get("registered_name") or "").startswith("zoo>") else set()
    return own.union(*map(_zoo_names, node.values())) if node else own


def needs_zoo(model: keras.Model) -> list[str]:
    """The zoo classes a saved `model` would still name (so loading it needs `import zoo`), sorted.

    Examples:
        >>> from zoo.nets.layers import MCDropout
        >>> from zoo.nets.tabular import PeriodicEmbedding
        >>> x = keras.Input((3,))
        >>> needs_zoo(portable(keras.Model(x, MCDropout(0.1)(PeriodicEmbedding(3, 4)(x)))))
        ['zoo>MCDropout']
    """
    return sorted(_zoo_names(keras.saving.serialize_keras_object(model)))


def portable(model: keras.Model) -> keras.Model:
    """`model` with zoo's BatchNorm, Dropout, AlphaDropout, RReLU and PeriodicEmbedding as the standard Keras
    layers they equal at inference, same weights; uncompiled (it is for saving and predicting). A model without them is
    returned as it is.

    Examples:
        >>> import numpy as np
        >>> from zoo.nets.layers import Dropout
        >>> from zoo.nets.normalization import BatchNorm
        >>> x = keras.Input((4,))
        >>> model = keras.Model(x, keras.layers.Dense(2)(Dropout(0.5)(BatchNorm()(x))))
        >>> plain = portable(model)
        >>> [type(layer).__name__ for layer in plain.layers[1:]], needs_zoo(plain)
        (['BatchNormalization', 'Dropout', 'Dense'], [])
        >>> rows = np.ones((2, 4), "float32")
        >>> bool(np.allclose(plain.predict(rows, verbose=0), model.predict(rows, verbose=0)))
        True
    """
    serialized = keras.saving.serialize_keras_object(model)
    standard = _standardized(serialized)
    if standard == serialized:
        return model
    rebuilt = keras.saving.deserialize_keras_object(standard, safe_mode=True)
    rebuilt.set_weights(model.get_weights())
    return rebuilt
