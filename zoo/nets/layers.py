"""Layers and schedules Keras lacks, each registered serializable under the package "zoo".

Registration is what lets a `.keras` file that uses them load with `safe_mode=True` and no
`custom_objects`: importing zoo is enough.
"""

from __future__ import annotations

import importlib

import keras
from keras import ops

# Registers zoo's BatchNorm (zoo.nets.normalization) and PeriodicEmbedding (zoo.nets.tabular) too, so
# `import zoo.nets.layers` is enough to load any zoo model.
importlib.import_module("zoo.nets.normalization")
importlib.import_module("zoo.nets.tabular")


@keras.saving.register_keras_serializable(package="zoo")
class RReLU(keras.layers.Layer):
    """Randomized leaky ReLU (Xu et al. 2015, "Empirical Evaluation of Rectified Activations").

    f(x) = x for x >= 0, a * x otherwise. In training, `a` is drawn uniformly from
    [lower, upper] for every unit at every step (the randomness regularizes like dropout does);
    at inference `a` is the mean slope (lower + upper) / 2, so predictions are deterministic.
    The paper's setting is lower = 1/8, upper = 1/3.

    Examples:
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
            noise = uniform_noise(ops.shape(inputs)[1:], self.seed_generator, inputs.dtype)
            slope = self.lower + (self.upper - self.lower) * noise
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

    Examples:
        >>> schedule = OneCycle(0.01, 1000)
        >>> [round(float(schedule(step)), 6) for step in (0, 450, 900, 1000)]
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

    Examples:
        >>> schedule = EpochPiecewise(0.1, [2, 4], [1.0, 0.1, 0.01], steps_per_epoch=10)
        >>> [round(float(schedule(step)), 4) for step in (0, 19, 20, 45)]
        [0.1, 0.1, 0.01, 0.001]
    """

    def __init__(self, initial: float, boundaries: list, factors: list, steps_per_epoch: int):
        if len(factors) != len(boundaries) + 1:
            raise ValueError(
                f"piecewise schedule needs one more factor than boundaries; got {len(boundaries)} boundaries, "
                f"{len(factors)} factors"
            )
        self.initial, self.boundaries, self.factors = (
            float(initial),
            [int(b) for b in boundaries],
            [float(f) for f in factors],
        )
        self.steps_per_epoch = int(steps_per_epoch)

    def __call__(self, step):
        epoch = ops.floor(ops.cast(step, "float32") / self.steps_per_epoch)
        rate = ops.convert_to_tensor(self.initial * self.factors[0], "float32")
        for boundary, factor in zip(self.boundaries, self.factors[1:]):
            rate = ops.where(epoch >= boundary, self.initial * factor, rate)
        return rate

    def get_config(self):
        return {
            "initial": self.initial,
            "boundaries": self.boundaries,
            "factors": self.factors,
            "steps_per_epoch": self.steps_per_epoch,
        }


def uniform_noise(shape, seed_generator: keras.random.SeedGenerator, dtype="float32"):
    """Uniform [0, 1) noise of `shape`, drawn from `seed_generator` (a new draw on every call).

    On TensorFlow this names the Philox generator explicitly. Keras leaves TensorFlow to pick
    ("auto_select"), and under XLA on a CPU that pick costs about 15x more: 7 ms instead of
    0.4 ms for one 32 x 512 mask (measured on a 2-core machine), which made an XLA-compiled
    training step with dropout three times slower than the uncompiled one. Other backends
    use `keras.random.uniform`.

    Examples:
        >>> noise = uniform_noise((2, 3), keras.random.SeedGenerator(0))
        >>> tuple(noise.shape), bool(ops.all((noise >= 0) & (noise < 1)))
        ((2, 3), True)
    """
    if keras.backend.backend() != "tensorflow":
        return keras.random.uniform(shape, dtype=dtype, seed=seed_generator)
    import tensorflow as tf  # only on the TensorFlow backend

    seed = seed_generator.next()
    # The generator's state is int64; stateless ops want int32 (folded the way Keras folds it).
    seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), "int32") if seed.dtype != tf.int32 else seed
    return tf.random.stateless_uniform(shape, seed, dtype=dtype, alg="philox")


@keras.saving.register_keras_serializable(package="zoo")
class RandomShift(keras.layers.Layer):
    """Shift each image by its own random whole number of pixels, up to `pixels` each way, zero-filled.

    This is "random crop with padding" (pad by `pixels`, crop back at a random place), drawn
    per image. keras.layers.RandomCrop draws one offset per *batch* (the same crop for all of
    its images), which teaches far less invariance; RandomTranslation shifts per image but
    interpolates bilinearly, blurring 28-pixel images and costing more. Identity at inference.

    Examples:
        >>> import numpy as np
        >>> images = np.zeros((2, 5, 5, 1), "float32"); images[:, 2, 2] = 1.0
        >>> out = np.asarray(RandomShift(1, seed=0)(images, training=True))
        >>> out.shape, out.sum(axis=(1, 2, 3)).tolist()   # one lit pixel each, moved at most 1 pixel
        ((2, 5, 5, 1), [1.0, 1.0])
    """

    def __init__(self, pixels: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if int(pixels) < 1:
            raise ValueError(f"RandomShift: pixels = {pixels!r}; expected a whole number >= 1")
        self.pixels, self.seed = int(pixels), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        p = self.pixels
        shape = ops.shape(images)
        height, width = shape[1], shape[2]
        padded = ops.pad(images, [[0, 0], [p, p], [p, p], [0, 0]])
        # One offset in [0, 2p] per image and axis, from the XLA-friendly draw Dropout uses. The
        # crop is a sum of the 2p + 1 shifted views weighted 0 or 1 (exact): index gathers
        # (take_along_axis) go through int64 ops that oneDNN does not run on this CPU.
        offsets = ops.floor(uniform_noise((shape[0], 2), self.seed_generator) * (2 * p + 1))
        choose = ops.one_hot(ops.cast(offsets, "int32"), 2 * p + 1, dtype=images.dtype)  # (batch, 2, 2p + 1)
        rows = sum(choose[:, 0, k, None, None, None] * padded[:, k : k + height] for k in range(2 * p + 1))
        return sum(choose[:, 1, k, None, None, None] * rows[:, :, k : k + width] for k in range(2 * p + 1))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pixels": self.pixels, "seed": self.seed}


@keras.saving.register_keras_serializable(package="zoo")
class Dropout(keras.layers.Dropout):
    """keras.layers.Dropout with its mask drawn by `uniform_noise`, so it stays fast under XLA.

    Same arguments, same behaviour: in training, each unit is zeroed with probability `rate`
    and the kept ones scaled by 1 / (1 - rate) (Srivastava et al. 2014); at inference it is
    the identity.

    Examples:
        >>> import numpy as np
        >>> out = Dropout(0.5, seed=1)(np.ones((1, 1000)), training=True)
        >>> sorted(set(np.round(np.asarray(out)[0], 3).tolist()))
        [0.0, 2.0]
    """

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is not None:  # rare; Keras's own path handles broadcasting masks
            return super().call(inputs, training=training)
        keep = uniform_noise(ops.shape(inputs), self.seed_generator, inputs.dtype) >= self.rate
        return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))


@keras.saving.register_keras_serializable(package="zoo")
class AlphaDropout(keras.layers.AlphaDropout):
    """keras.layers.AlphaDropout with its mask drawn by `uniform_noise` (fast under XLA).

    Dropped units are set to SELU's negative saturation value -alpha * scale, then an affine
    map a * x + b restores zero mean and unit variance (Klambauer et al. 2017):
    a = ((1 - rate) * (1 + rate * alpha_p^2))^(-1/2), b = -a * alpha_p * rate.

    Examples:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(1, 100000))
        >>> out = np.asarray(AlphaDropout(0.1, seed=0)(x, training=True))
        >>> abs(float(out.mean())) < 0.02, round(float(out.std()), 1)
        (True, 1.0)
    """

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is not None:
            return super().call(inputs, training=training)
        alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
        keep = ops.cast(uniform_noise(ops.shape(inputs), self.seed_generator, inputs.dtype) >= self.rate, inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * keep + alpha_p * (1 - keep)) + b


@keras.saving.register_keras_serializable(package="zoo")
class MCDropout(Dropout):
    """Dropout that stays on at inference: Monte-Carlo dropout (Gal & Ghahramani 2016).

    `zoo.predict_mc` swaps these in for a model's Dropout layers on a copy of the model.
    """

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


@keras.saving.register_keras_serializable(package="zoo")
class MCAlphaDropout(AlphaDropout):
    """AlphaDropout that stays on at inference, for Monte-Carlo predictions of SELU nets."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=True)


@keras.saving.register_keras_serializable(package="zoo")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy against integer labels with label smoothing, which Keras's sparse loss lacks.

    The target for class k becomes (1 - s) * one_hot(k) + s / num_classes, as in Keras's
    (dense) CategoricalCrossentropy; the labels stay integers, so the data pipeline and the
    "accuracy" metric are the same as without smoothing.

    Examples:
        >>> import numpy as np
        >>> loss = SmoothedSparseCrossentropy(0.1)
        >>> round(float(loss(np.array([0]), np.array([[0.9, 0.1]]))), 4)
        0.2152
    """

    def __init__(self, label_smoothing: float = 0.1, name: str = "smoothed_sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        targets = ops.one_hot(labels, ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(targets, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="zoo")
class StandardizedSquaredError(keras.losses.Loss):
    """Squared error in units of the training target's variance: ((y - y_hat) / std)^2.

    A regression net's output is in the target's own units (a `Rescaling` by the target's std
    and mean ends it), so plain MSE would scale every gradient by std^2 and a learning rate
    that suits one target would blow up on another. Dividing by the variance makes the loss the
    same whatever the units: 1.0 is what predicting the mean scores, so 1 - loss is about R^2.

    Examples:
        >>> import numpy as np
        >>> float(StandardizedSquaredError(variance=4.0)(np.array([[3.0]]), np.array([[1.0]])))
        1.0
    """

    def __init__(self, variance: float = 1.0, name: str = "standardized_squared_error", **kwargs):
        super().__init__(name=name, **kwargs)
        self.variance = float(variance)

    def call(self, y_true, y_pred):
        y_true = ops.reshape(ops.cast(y_true, y_pred.dtype), ops.shape(y_pred))
        return ops.mean(ops.square(y_true - y_pred), axis=-1) / self.variance

    def get_config(self):
        return {**super().get_config(), "variance": self.variance}


@keras.saving.register_keras_serializable(package="zoo")
class Staircase(keras.layers.Layer):
    """A step function: each value becomes the largest of `levels` at or below it (the lowest level below them all).

    Its derivative is zero almost everywhere, so gradient descent gets no signal through it
    ("Failures of Gradient-Based Deep Learning", section 5); wrap it in `ForwardOnly` to train
    what feeds it.

    Examples:
        >>> import numpy as np
        >>> [float(v) for v in Staircase([0.0, 1.0, 2.5])(np.array([-1.0, 0.5, 2.0, 9.0]))]
        [0.0, 0.0, 1.0, 2.5]
    """

    def __init__(self, levels, **kwargs):
        super().__init__(**kwargs)
        levels = sorted(float(level) for level in levels)
        if not levels:
            raise ValueError("Staircase needs at least one level")
        self.levels = levels

    def call(self, inputs):
        levels = ops.convert_to_tensor(self.levels, inputs.dtype)
        # How many levels lie at or below each value picks its step (0 below them all: the lowest).
        index = ops.sum(ops.cast(ops.expand_dims(inputs, -1) >= levels, "int32"), axis=-1)
        return ops.take(levels, ops.maximum(index - 1, 0))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "levels": self.levels}


@keras.saving.register_keras_serializable(package="zoo")
class ForwardOnly(keras.layers.Wrapper):
    """Apply `layer` forward, but backpropagate as if it were the identity (a straight-through estimator).

    The output is ``x + stop_gradient(layer(x) - x)``: its value is ``layer(x)`` and its gradient
    with respect to ``x`` is exactly 1. This is the "forward-only" update of Shalev-Shwartz,
    Shamir and Shammah (2017), which trains through a flat activation such as `Staircase`;
    the wrapped layer must keep its input's shape.

    Examples:
        >>> import tensorflow as tf
        >>> x = tf.constant([0.3, 1.7])
        >>> with tf.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = ForwardOnly(Staircase([0.0, 1.0]))(x)
        >>> [float(v) for v in y], [float(g) for g in tape.gradient(y, x)]
        ([0.0, 1.0], [1.0, 1.0])
    """

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        super().build(input_shape)

    def call(self, inputs):
        return inputs + ops.stop_gradient(self.layer(inputs) - inputs)

    def compute_output_shape(self, input_shape):
        return input_shape
