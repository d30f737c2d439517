"""Monte-Carlo dropout: the spread of many stochastic predictions as a measure of uncertainty.

Gal & Ghahramani (2016) show that averaging predictions with dropout left on approximates a
Bayesian model average; the spread across samples says how sure the net is.
"""

from __future__ import annotations

import keras
import numpy as np

from zoo.errors import DataError
from zoo.nets.layers import MCAlphaDropout, MCDropout
from zoo.nets.network import leaf_layers
from zoo.recipes.schema import check_argument, count_field


def _always_on(layer: keras.layers.Layer) -> keras.layers.Layer:
    if isinstance(layer, keras.layers.AlphaDropout):
        return MCAlphaDropout(layer.rate, name=layer.name)
    if isinstance(layer, keras.layers.Dropout):
        return MCDropout(layer.rate, name=layer.name)
    return layer.__class__.from_config(layer.get_config())


def predict_mc(model: keras.Model, x, samples: int = 30, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of `samples` predictions with dropout on.

    Only dropout is switched on: the model is copied with always-on dropout layers, so
    BatchNorm keeps using its moving statistics and the original model is not changed.

    Examples:
        >>> import zoo, numpy as np
        >>> images = np.random.default_rng(0).random((2, 28, 28, 1))
        >>> mean, spread = predict_mc(zoo.build("fashion_mlp"), images, samples=5)
        >>> mean.shape, bool(spread.max() > 0)
        ((2, 10), True)
    """
    check_argument("samples", samples, count_field(2))
    dropouts = [
        layer for layer in leaf_layers(model) if isinstance(layer, (keras.layers.Dropout, keras.layers.AlphaDropout))
    ]
    if not dropouts:
        raise DataError(f"model {model.name!r} has no Dropout layers, so Monte-Carlo dropout has nothing to sample")
    copy = keras.models.clone_model(model, clone_function=_always_on, recursive=True)
    copy.set_weights(model.get_weights())
    draws = np.stack([copy.predict(x, batch_size=batch_size, verbose=0) for _ in range(samples)])
    return draws.mean(axis=0), draws.std(axis=0)
