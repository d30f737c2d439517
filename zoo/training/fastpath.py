"""The fast training path: a chunk of training steps per XLA call, the data handed over in chunks.

A small dense net's training step on a CPU is short (a few milliseconds at batch 32), so what
surrounds it matters. Keras's `steps_per_execution` already runs N steps per call into
TensorFlow, but each of those steps is still a separate XLA program launch that pulls its
batch from the tf.data iterator and copies the model's variables in and out. Here the N
steps run *inside* one XLA program instead: the pipeline delivers N batches at once, stacked
into one tensor, and the training step loops over them with `tf.while_loop`. On fashion_mlp
that took zoo's path from about 10,400 to 15,000 training examples per second on a 2-core
machine (the committed `zoo experiment speed` results say what the whole path buys).

What changes for the user: `model.fit` sees one "batch" per chunk of N steps, so the progress
bar counts chunks, and batch-level callbacks run once per chunk, with the running means of
the epoch so far (as they do with `steps_per_execution = N`). Epoch-level callbacks, the
optimizer's step count and the learning-rate schedules are unchanged. Every chunk holds whole
batches: the last (examples mod batch_size) examples of each epoch's shuffle are left out of
that epoch (24 of Fashion-MNIST's 55,000 at batch 32; a different few every epoch).

Chunks pay off when the step is XLA-compiled (`model.jit_compile is True`, which "auto" gives
dense nets on TensorFlow). Without XLA, TensorFlow runs the loop op by op and its conv
kernels ran slower inside it (fashion_cnn: about 350 instead of 400 examples per second), so
such models, models on other backends (JAX fuses the step on its own) and
`steps_per_execution = 1` get a plain `model.fit`.

Examples:
    >>> import zoo
    >>> splits = zoo.load_data("digits", validation_size=200)
    >>> model = zoo.build(zoo.get_recipe("fashion_mlp", steps_per_execution=8), input_shape=(8, 8, 1))
    >>> model.jit_compile  # "auto": XLA for dense nets on TensorFlow, so fit_fast runs chunks
    True
    >>> served = zoo.batches(splits, batch_size=16)
    >>> history = fit_fast(model, served.train, examples=splits.sizes["train"], batch_size=16, epochs=1, verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss']
"""

from __future__ import annotations

import contextlib
import math
import types
import warnings
import weakref
from collections.abc import Sequence

import keras
import tensorflow as tf


def chunk_count(examples: int, batch_size: int, steps: int) -> int:
    """Chunks per epoch: whole batches of `batch_size`, `steps` of them per chunk (the last may hold fewer).

    Examples:
        >>> chunk_count(55000, 32, 32)  # 1718 whole batches
        54
    """
    return math.ceil((examples // batch_size) / steps)


def chunk_batches(batches: tf.data.Dataset, examples: int, batch_size: int, steps: int) -> tf.data.Dataset:
    """Regroup a dataset of `(x, y)` batches into chunks `(xs, ys, count)` of `steps` batches.

    `xs` has shape (steps, batch_size, ...) and `ys` (steps, batch_size); the last chunk of an
    epoch is padded with zeros to `steps` batches, and `count` says how many are real, so every
    chunk has one shape and XLA compiles the training loop once. A short final batch (fewer
    than `batch_size` examples) is dropped.

    Examples:
        >>> import numpy as np
        >>> batches = tf.data.Dataset.from_tensor_slices((np.zeros((10, 3)), np.zeros(10))).batch(2)
        >>> [(tuple(xs.shape), int(count)) for xs, ys, count in chunk_batches(batches, 10, 2, 3)]
        [((3, 2, 3), 3), ((3, 2, 3), 2)]
    """

    def pad(xs, ys):
        count = tf.shape(xs)[0]
        missing = steps - count
        xs = tf.pad(xs, [[0, missing]] + [[0, 0]] * (len(xs.shape) - 1))
        ys = tf.pad(ys, [[0, missing]] + [[0, 0]] * (len(ys.shape) - 1))
        return (
            tf.ensure_shape(xs, [steps] + xs.shape[1:].as_list()),
            tf.ensure_shape(ys, [steps] + ys.shape[1:].as_list()),
            count,
        )

    whole = batches.filter(lambda x, y: tf.shape(x)[0] == batch_size)
    chunks = whole.batch(steps).map(pad, num_parallel_calls=tf.data.AUTOTUNE)
    # filter() hides the size from tf.data; restoring it gives Keras a known number of steps.
    chunks = chunks.apply(tf.data.experimental.assert_cardinality(chunk_count(examples, batch_size, steps)))
    return chunks.prefetch(2)


def _train_chunk(model: keras.Model, data):
    """Keras's own training step, once per real batch of the chunk, inside one compiled loop."""
    xs, ys, count = data
    single_step = type(model).train_step  # the class's step: loss, gradients, optimizer, metrics

    def body(index):
        single_step(model, (xs[index], ys[index]))
        return index + 1

    tf.while_loop(lambda index: index < count, body, [tf.constant(0)])
    return model.get_metrics_result()


# Per model, the train and test functions Keras built in chunked mode, and what they were built
# for, so later fits reuse them instead of tracing and XLA-compiling again. Weak keys: a cache
# entry goes away with its model.
_chunked_functions: weakref.WeakKeyDictionary[keras.Model, tuple] = weakref.WeakKeyDictionary()


def _compiled_for(model: keras.Model) -> tuple:
    # compile() makes a new optimizer and loss; functions built before it must not be reused.
    return (id(model.optimizer), id(model.loss), model.jit_compile)


@contextlib.contextmanager
def chunked_steps(model: keras.Model):
    """Within the block, `model.fit` takes `chunk_batches` data: one call runs a whole chunk.

    The model's class is untouched (so saving and loading are too); its instance gets a
    chunk-looping `train_step` and one chunk per execution, and both are restored on exit.
    Keras's compiled functions are swapped too: the chunked ones are kept for the next
    chunked fit, the ordinary ones come back for plain fits, evaluate and predict.
    """
    steps = model.steps_per_execution
    ordinary = (model.train_function, model.test_function)
    key, train_function, test_function = _chunked_functions.get(model, (None, None, None))
    if key != _compiled_for(model):
        train_function = test_function = None
    model.train_step = types.MethodType(_train_chunk, model)
    model.steps_per_execution = 1
    model.train_function, model.test_function = train_function, test_function
    try:
        yield model
    finally:
        _chunked_functions[model] = (_compiled_for(model), model.train_function, model.test_function)
        del model.train_step
        model.steps_per_execution = steps
        model.train_function, model.test_function = ordinary


# The Keras internals the chunked path relies on. Keras may rename or rework any of them in a
# release; `keras_internals_problem` says which one is gone, and the suite's fast-path tests
# fail naming the Keras version, while users fall back to a plain fit with a warning.
_INTERNALS = (
    "train_function",
    "test_function",
    "make_train_function",
    "get_metrics_result",
    "train_step",
    "steps_per_execution",
)


def keras_internals_problem(model: keras.Model) -> str | None:
    """None when `model` has every Keras internal the chunked path patches, else what is missing.

    Examples:
        >>> keras_internals_problem(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])) is None
        True
    """
    missing = [name for name in _INTERNALS if not hasattr(model, name)]
    if missing:
        return f"Keras {keras.__version__} models lack {', '.join(missing)}"
    return None


def build_before_fit(model: keras.Model, batches: tf.data.Dataset) -> bool:
    """Create the optimizer's, loss's and metrics' variables from the shapes `batches` yields.

    Without a tf.distribute strategy, Keras's TensorFlow trainer leaves them to the first trace of
    the training step, and a `tf.function` that creates variables while tracing is traced again:
    every first `fit` traced the whole step twice (and XLA-compiled it twice where on). Built
    first, symbolically (no batch is read, no random state moves), the step is traced once: the
    first `fit` of the generic cnn on 144 16x16 images took about 1.6 instead of 2.8 s (1.1 s of
    its 2.2 s first epoch on the digit folder). `_symbolic_build` is the private method Keras runs
    itself under a strategy; where this Keras lacks it or cannot build from the shapes, `fit`
    builds as before, so training never depends on it. Returns whether it built.

    Examples:
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> model.compile("adam", "mse", metrics=["mae"])
        >>> build_before_fit(model, tf.data.Dataset.from_tensor_slices(([[0.0] * 3], [[0.0] * 2])).batch(1))
        True
        >>> model.optimizer.built
        True
    """
    build = getattr(model, "_symbolic_build", None)
    under_strategy = getattr(model, "_distribute_strategy", None) is not None
    if keras.backend.backend() != "tensorflow" or build is None or under_strategy:
        return False  # other backends build in fit; under a strategy Keras builds itself, in its scope
    try:
        build(data_batch=batches.element_spec)
    except Exception:  # noqa: BLE001 - an optimization only: fit builds lazily as it always did
        return False
    return True


def fit_fast(
    model: keras.Model,
    train: tf.data.Dataset,
    *,
    examples: int,
    batch_size: int,
    validation_data: tf.data.Dataset | None = None,
    epochs: int = 1,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    fast: bool = True,
) -> keras.callbacks.History:
    """`model.fit(train, ...)` through the fast path: `model.steps_per_execution` steps per XLA call.

    `train` yields `(x, y)` batches of `batch_size` (shuffled as you want them); `examples` is
    how many examples one pass holds. Validation runs as usual, once per epoch. Falls back to
    a plain `model.fit` (with Keras's own `steps_per_execution`) off TensorFlow, without XLA,
    with one step per execution, with fewer than two whole batches, with `fast=False` (the
    recipe key `train.fast_path = false`), or, with a warning, when this Keras version lacks an
    internal the chunked path patches.

    Examples:
        (Not run by the doctests: the module's own example runs the same call on digits.)
        >>> model = zoo.build("fashion_mlp", input_shape=(8, 8, 1))                    # doctest: +SKIP
        >>> fit_fast(model, splits.train, examples=1237, batch_size=32, epochs=3)      # doctest: +SKIP
    """
    steps = model.steps_per_execution
    options = dict(
        validation_data=validation_data, epochs=epochs, callbacks=list(callbacks), verbose=verbose, shuffle=False
    )
    build_before_fit(model, train)
    chunked = fast and keras.backend.backend() == "tensorflow" and model.jit_compile is True
    if not chunked or steps <= 1 or examples // batch_size < 2:
        return model.fit(train, **options)
    problem = keras_internals_problem(model)
    if problem:
        warnings.warn(f"zoo's fast path is off: {problem}; training with a plain model.fit", stacklevel=2)
        return model.fit(train, **options)
    if verbose:  # the bar counts optimizer steps, not the chunks fit sees
        options["callbacks"].append(StepProgbar(steps, examples // batch_size))
    with chunked_steps(model):
        return model.fit(chunk_batches(train, examples, batch_size, steps), **options)


class StepProgbar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, counting the optimizer's steps when `fit` sees chunks of `steps_per_chunk`.

    Keras's own bar would count chunks (`1/14 ... 14/14`) and time them as steps ("712ms/step" for
    32 steps). Given in `callbacks`, it replaces Keras's bar (fit adds its own only when none is there).

    Examples:
        >>> bar = StepProgbar(32, steps=437)
        >>> bar.set_params({"verbose": 2, "epochs": 1, "steps": 14})
        >>> bar.target
        437
    """

    def __init__(self, steps_per_chunk: int, steps: int):
        super().__init__()
        self.steps_per_chunk, self.steps = steps_per_chunk, steps

    def set_params(self, params):
        super().set_params(params)
        self.target = self.steps

    def _update_progbar(self, batch, logs=None):
        # Chunk `batch` ends at step (batch + 1) x steps_per_chunk, the last one at the epoch's last step.
        super()._update_progbar(min((batch + 1) * self.steps_per_chunk, self.steps) - 1, logs)
