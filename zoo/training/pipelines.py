"""Batches for training: the shuffled, augmented tf.data pipelines every split is served through.

A shuffled pipeline is a pure function of (seed, epoch), augmentation included: see `pipeline`.
Augmentation runs per batch inside the pipeline, so models never contain it and validation and
test batches never see it.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from zoo.nets.augment import augmenter
from zoo.recipes.schema import check_argument, count_field


def without_autotune(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset` with tf.data's autotuning off, so ending an epoch never stalls training.

    With autotuning on, TensorFlow 2.21 on this 2-core machine sometimes stalls as an epoch's
    iterator is torn down: the process sat idle (no CPU time at all) for 30-40 s after some of
    fashion_cnn's 45-s epochs, which then took 81-86 s, the "slow spells" earlier benchmarks
    blamed on the machine. zoo's pipelines gather, augment and prefetch one batch at a time, so
    autotuning has nothing to tune in them.

    Examples:
        >>> without_autotune(tf.data.Dataset.range(3)).options().autotune.enabled
        False
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


class ShuffleEpoch(keras.callbacks.Callback):
    """Tells shuffled pipelines which epoch starts, so epoch k's order is the same in a resumed run."""

    def __init__(self, dataset: tf.data.Dataset):
        super().__init__()
        self.epoch = getattr(dataset, "zoo_epoch", None)

    def on_epoch_begin(self, epoch, logs=None):
        if self.epoch is not None:
            self.epoch.assign(epoch)


def _keyed(augment: keras.Sequential, seed: int, epoch):
    """`augment` as a per-batch function whose draws depend only on (seed, epoch, batch index).

    Keras's augmentation layers draw from stateful `SeedGenerator`s. Mapped in parallel, which
    batch gets which draw depends on thread timing (fashion_cnn's seed 1 scored 0.9398 in one
    run and 0.9388 in another); and a resumed run would restart the draws. So before each
    batch every generator's state is set from (its own seed, `seed`, epoch, batch index) by
    `stateless_fold_in`, and the map runs one batch at a time (it still runs ahead of training,
    behind `prefetch`).

    On another Keras backend (JAX, PyTorch) the layers compute with that backend's ops and hold
    their generators' states in its variables, neither of which a tf.data graph can run; there
    the batch goes through the layers eagerly, in `tf.numpy_function`, with the same keys.
    """
    generators = [
        value
        for layer in augment.layers
        for value in vars(layer).values()
        if isinstance(value, keras.random.SeedGenerator)
    ]
    # Each generator's own seed folded with the pipeline's: constant, so folded once here.
    starts = [
        tf.random.experimental.stateless_fold_in(
            tf.constant(keras.ops.convert_to_numpy(generator.state), tf.int64), seed
        )
        for generator in generators
    ]

    def states(index, epoch_now):
        return [
            tf.random.experimental.stateless_fold_in(
                tf.random.experimental.stateless_fold_in(start, tf.cast(epoch_now, tf.int64)), index
            )
            for start in starts
        ]

    def apply(index, batch):
        images, labels = batch
        for generator, state in zip(generators, states(index, epoch)):
            generator.state.assign(state)
        return augment(images, training=True), labels

    def eager(index, epoch_now, images):
        for generator, state in zip(generators, states(index, epoch_now)):
            # int64 keys into the backend's seed dtype (uint32 on JAX), wrapping as a cast does.
            generator.state.assign(state.numpy().astype(keras.backend.standardize_dtype(generator.state.dtype)))
        return keras.ops.convert_to_numpy(augment(images, training=True)).astype(images.dtype)

    def apply_eagerly(index, batch):
        images, labels = batch
        augmented = tf.numpy_function(eager, [index, tf.cast(epoch, tf.int64), images], images.dtype, stateful=True)
        augmented.set_shape(images.shape)
        return augmented, labels

    return apply if keras.backend.backend() == "tensorflow" else apply_eagerly


def pipeline(
    x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0, augment=None, epoch: int = 0
) -> tf.data.Dataset:
    """Batch `(x, y)` into a (shuffled, augmented), prefetched `tf.data.Dataset`.

    A shuffled pipeline draws a whole-split permutation per epoch from (`seed`, epoch) with a
    stateless shuffle and gathers each batch by index from arrays held in TensorFlow
    variables, so the order of epoch k does not depend on how many epochs this process has
    run: a run resumed at epoch k sees the batches an uninterrupted one would. The epoch comes
    from the variable `dataset.zoo_epoch`, which `ShuffleEpoch` sets as each epoch begins.
    `augment` (from `augmenter`) draws from (`seed`, epoch, batch index) alone too; an
    unshuffled pipeline, built anew for each epoch, takes its epoch as `epoch`.

    Examples:
        >>> batches = pipeline(np.arange(10.0).reshape(10, 1), np.arange(10), 4, shuffle=True)
        >>> [tuple(bx.shape) for bx, by in batches]
        [(4, 1), (4, 1), (2, 1)]
        >>> order = lambda: np.concatenate([by.numpy() for _, by in batches]).tolist()
        >>> first = order(); _ = batches.zoo_epoch.assign(1); second = order()
        >>> sorted(first) == list(range(10)) and first != second
        True
    """
    if not shuffle:
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).cache().batch(batch_size)
    else:
        epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="shuffle_epoch")
        xs, ys = tf.Variable(x, trainable=False), tf.Variable(y, trainable=False)
        count = len(x)

        def permutation(_):
            key = tf.stack([tf.constant(seed, tf.int64), epoch.read_value()])
            return tf.random.experimental.stateless_shuffle(tf.range(count, dtype=tf.int64), seed=key)

        dataset = (
            tf.data.Dataset.from_tensors(0)
            .map(permutation)
            .unbatch()
            .batch(batch_size)
            .map(lambda index: (tf.gather(xs, index), tf.gather(ys, index)))
        )
    if augment is not None:
        # One batch at a time: the draws are keyed, but the generators they set are shared.
        dataset = dataset.enumerate().map(_keyed(augment, seed, epoch))
    dataset = without_autotune(dataset.prefetch(2))
    if shuffle:
        dataset.zoo_epoch, dataset.zoo_arrays = epoch, (xs, ys)  # the variables must live as long as the pipeline
    return dataset


@dataclasses.dataclass(frozen=True)
class Batches:
    """The three splits of a `zoo.data.Splits`, batched: what `fit` and `evaluate` read.

    `train` is shuffled per epoch from the seed (and augmented, if asked); `validation` and
    `test` are in order and never augmented. `steps_per_epoch` is ceil(training examples /
    `batch_size`), the number a learning-rate schedule is sized from.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    batch_size: int
    steps_per_epoch: int


def batches(
    splits,
    recipe=None,
    *,
    batch_size: int | None = None,
    seed: int | None = None,
    augment: list[str] | None = None,
    augment_amount: float | None = None,
) -> Batches:
    """Batch `splits` for training: the one place zoo turns arrays into `tf.data` pipelines.

    The batch size, seed and augmentation come from `recipe` (`train.batch_size`, `train.seed`,
    `regularization.augment` and `augment_amount`); a keyword given here overrides the recipe's.
    Without a recipe the defaults are batch 32, seed 0 and no augmentation.

    Examples:
        >>> import zoo
        >>> served = batches(zoo.load_data("digits", validation_size=200), zoo.get_recipe("fashion_mlp"))
        >>> served.batch_size, served.steps_per_epoch
        (128, 10)
    """

    def pick(given, section, key, default):
        return given if given is not None else (getattr(recipe, section)[key] if recipe is not None else default)

    batch_size = pick(batch_size, "train", "batch_size", 32)
    seed = pick(seed, "train", "seed", 0)
    words = pick(augment, "regularization", "augment", [])
    amount = pick(augment_amount, "regularization", "augment_amount", 0.1)
    examples = splits.sizes["train"]
    # A recipe's batch larger than the data is the recipe's mistake for this data (RecipeError, as `train` says).
    check_argument("train.batch_size", batch_size, count_field(1, examples))
    layers = augmenter(list(words), amount, seed, input_shape=tuple(splits.info.input_shape)) if words else None
    return Batches(
        train=pipeline(*splits.arrays["train"], batch_size, shuffle=True, seed=seed, augment=layers),
        validation=pipeline(*splits.arrays["validation"], batch_size, shuffle=False),
        test=pipeline(*splits.arrays["test"], batch_size, shuffle=False),
        batch_size=batch_size,
        steps_per_epoch=math.ceil(examples / batch_size),
    )
