"""Layers and schedules Keras lacks, each registered serializable under the package "zoo".

Registration is what lets a `.keras` file that uses them load with `safe_mode=True` and no
`custom_objects`: importing zoo is enough.
"""

from __future__ import annotations


import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class RReLU(keras.layers.Layer):
    """Randomized leaky ReLU (Xu et al. 2015, "Empirical Evaluation of Rectified Activations").

    f(x) = x for x >= 0, a * x otherwise. In training, `a` is drawn uniformly from
    [lower, upper] for every unit at every step (the randomness regularizes like dropout does);
    at inference `a` is the mean slope (lower + upper) / 2, so predictions are deterministic.
    The paper's setting is lower = 1/8, upper = 1/3.

    Example:
        >>> import numpy as np
        >>> layer = RReLU(0.1, 0.3)
        >>> [round(float(v), 3) for v in layer(np.array([[-1.0, 2.0]]))[0]]
        [-0.2, 2.0]
    """

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not (0 <= lower <= upper):
            raise ValueError(f"RReLU needs 0 <= lower <= upper; got lower = {lower!r}, upper = {upper!r}")
        self.lower, self.upper, self.seed = float(lower), float(upper), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if training:
            # One slope per unit (every feature position) per step, shared across the batch.
            slope = keras.random.uniform(ops.shape(inputs)[1:], self.lower, self.upper, seed=self.seed_generator)
        else:
            slope = (self.lower + self.upper) / 2
        return ops.where(inputs >= 0, inputs, inputs * ops.cast(slope, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "lower": self.lower, "upper": self.upper, "seed": self.seed}


@keras.saving.register_keras_serializable(package="zoo")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """The 1cycle learning-rate policy (Smith 2018): up, then down, then a short annihilation.

    Rises linearly from peak/25 to `peak` over the first 45% of `total_steps`, falls back to
    peak/25 by 90%, then decays linearly to peak/2500 at the end.

    Example:
        >>> schedule = OneCycle(0.01, 1000)
        >>> [round(float(schedule(step)), 5) for step in (0, 450, 900, 1000)]
        [0.0004, 0.01, 0.0004, 4e-06]
    """

    def __init__(self, peak: float, total_steps: int):
        self.peak, self.total_steps = float(peak), int(total_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        low, final = self.peak / 25, self.peak / 2500
        up_end, down_end = 0.45 * self.total_steps, 0.9 * self.total_steps
        rising = low + (self.peak - low) * step / up_end
        falling = self.peak - (self.peak - low) * (step - up_end) / (down_end - up_end)
        ending = low - (low - final) * ops.minimum((step - down_end) / max(self.total_steps - down_end, 1.0), 1.0)
        return ops.where(step < up_end, rising, ops.where(step < down_end, falling, ending))

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps}


@keras.saving.register_keras_serializable(package="zoo")
class EpochPiecewise(keras.optimizers.schedules.LearningRateSchedule):
    """Piecewise-constant rate: `initial * factors[i]` while the epoch is in the i-th piece.

    `boundaries` are epoch numbers; `steps_per_epoch` converts them to optimizer steps.

    Example:
        >>> schedule = EpochPiecewise(0.1, [2, 4], [1.0, 0.1, 0.01], steps_per_epoch=10)
        >>> [round(float(schedule(step)), 4) for step in (0, 19, 20, 45)]
        [0.1, 0.1, 0.01, 0.001]
    """

    def __init__(self, initial: float, boundaries: list, factors: list, steps_per_epoch: int):
        if len(factors) != len(boundaries) + 1:
            raise ValueError(f"piecewise schedule needs one more factor than boundaries; got {len(boundaries)} boundaries, {len(factors)} factors")
        self.initial, self.boundaries, self.factors = float(initial), [int(b) for b in boundaries], [float(f) for f in factors]
        self.steps_per_epoch = int(steps_per_epoch)

    def __call__(self, step):
        epoch = ops.floor(ops.cast(step, "float32") / self.steps_per_epoch)
        rate = ops.convert_to_tensor(self.initial * self.factors[0], "float32")
        for boundary, factor in zip(self.boundaries, self.factors[1:]):
            rate = ops.where(epoch >= boundary, self.initial * factor, rate)
        return rate

    def get_config(self):
        return {"initial": self.initial, "boundaries": self.boundaries, "factors": self.factors,
                "steps_per_epoch": self.steps_per_epoch}


@keras.saving.register_keras_serializable(package="zoo")
class MCDropout(keras.layers.Dropout):
    """Dropout that stays on at inference: Monte-Carlo dropout (Gal & Ghahramani 2016).

    `zoo.predict_mc` swaps these in for a model's Dropout layers on a copy of the model.
    """

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)




@keras.saving.register_keras_serializable(package="zoo")
class MCAlphaDropout(keras.layers.AlphaDropout):
    """AlphaDropout that stays on at inference, for Monte-Carlo predictions of SELU nets."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)
