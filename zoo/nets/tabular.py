"""Layers of the tabular stack that learn: periodic numeric embeddings (RealMLP's PBLD).

The fitted, fixed part of the stack (robust scaling with smooth clipping, one-hot categories) is
the table's encoder in `zoo.data.tables`, made of built-in Keras layers only. What trains lives
here, in the net.

Examples:
    >>> import numpy as np
    >>> layer = PeriodicEmbedding(numeric=2, frequencies=4, dim=3, seed=0)
    >>> layer(np.zeros((5, 6), "float32")).shape  # 2 numbers -> 2 + 2 * 3, then the other 4 columns
    TensorShape([5, 12])
"""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class PeriodicEmbedding(keras.layers.Layer):
    """Embed each of the first `numeric` columns as periodic features (Gorishniy et al. 2022; Holzmüller et al.
    2024's PBLD): cos(2π(w·x + b)) at `frequencies` learned frequencies per column, a learned linear map of
    those to `dim` values per column with a ReLU, concatenated with the column itself ("densenet" style) and
    followed by the remaining (categorical) columns unchanged.

    Why: an MLP on raw numbers learns smooth functions of each column first; periodic features let it
    fit sharp, non-monotone effects of one column (thresholds, bands) that trees find easily.
    `sigma` is the spread of the initial frequencies (RealMLP: 0.1 on robust-scaled inputs).
    """

    def __init__(self, numeric: int, frequencies: int = 8, dim: int = 4, sigma: float = 0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        if numeric < 1 or frequencies < 1 or dim < 1:
            raise ValueError(
                f"PeriodicEmbedding needs numeric, frequencies and dim >= 1; got {numeric}, {frequencies}, {dim}"
            )
        self.numeric, self.frequencies, self.dim, self.sigma, self.seed = numeric, frequencies, dim, sigma, seed

    def build(self, input_shape):
        columns = input_shape[-1]
        if columns is not None and columns < self.numeric:
            raise ValueError(f"PeriodicEmbedding(numeric={self.numeric}) got inputs of {columns} columns")
        n, k, d = self.numeric, self.frequencies, self.dim
        self.w = self.add_weight((n, k), keras.initializers.RandomNormal(0.0, self.sigma, seed=self.seed), name="w")
        self.b = self.add_weight((n, k), keras.initializers.RandomUniform(-0.5, 0.5, seed=self.seed), name="b")
        # Fan-in k: He-style scale for the ReLU that follows.
        self.kernel = self.add_weight(
            (n, k, d),
            keras.initializers.RandomUniform(-1 / math.sqrt(k), 1 / math.sqrt(k), seed=self.seed),
            name="kernel",
        )
        self.bias = self.add_weight((n, d), "zeros", name="bias")

    def call(self, x):
        numbers, rest = x[:, : self.numeric], x[:, self.numeric :]
        phases = 2 * math.pi * (ops.expand_dims(numbers, -1) * self.w + self.b)
        embedded = ops.relu(ops.einsum("nfk,fkd->nfd", ops.cos(phases), self.kernel) + self.bias)
        flat = ops.reshape(embedded, (-1, self.numeric * self.dim))
        return ops.concatenate([numbers, flat, rest], axis=-1)

    def compute_output_shape(self, input_shape):
        columns = input_shape[-1]
        return (input_shape[0], None if columns is None else columns + self.numeric * self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "numeric": self.numeric,
            "frequencies": self.frequencies,
            "dim": self.dim,
            "sigma": self.sigma,
            "seed": self.seed,
        }


def plain_periodic(config: dict, columns: int) -> keras.Model:
    """The `PeriodicEmbedding` with `config` as a small functional model of built-in Keras layers and ops,
    taking `columns` columns, with the same weights in the same order (w, b, kernel, bias).

    Why: a saved table model then loads with plain `keras.saving.load_model`, without zoo. The layer
    itself stays the one zoo trains with (one op, one name in the summary); `zoo.nets.portable` swaps this
    model in when it saves.

    Examples:
        >>> import numpy as np
        >>> layer = PeriodicEmbedding(numeric=2, frequencies=4, dim=3, seed=0)
        >>> rows = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
        >>> plain = plain_periodic(layer.get_config(), 6)
        >>> _ = layer(rows); plain.set_weights(layer.get_weights())
        >>> bool(np.allclose(plain(rows), layer(rows), atol=1e-6))
        True
    """
    n, k, d = config["numeric"], config["frequencies"], config["dim"]
    x = keras.Input((columns,))
    numbers, rest = x[:, :n], x[:, n:]
    # w·x + b per column and frequency (EinsumDense's kernel and bias are w and b), then 2π, then cos.
    phases = keras.layers.EinsumDense("bn,nk->bnk", output_shape=(n, k), bias_axes="nk", name="frequencies")(numbers)
    waves = ops.cos(keras.layers.Rescaling(2 * math.pi, name="two_pi")(phases))
    embedded = keras.layers.EinsumDense(
        "bnk,nkd->bnd", output_shape=(n, d), bias_axes="nd", activation="relu", name="mix"
    )(waves)
    flat = keras.layers.Reshape((n * d,), name="flat")(embedded)
    return keras.Model(x, keras.layers.Concatenate(name="joined")([numbers, flat, rest]), name=config["name"])
