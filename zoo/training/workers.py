"""`fit` for several workers: the training loop `train.distribute = "multi_worker"` runs.

Keras 3's `model.fit` does not run under `tf.distribute.MultiWorkerMirroredStrategy` (on
TensorFlow 2.21 and Keras 3.15 it fails with "Attempt to convert a value (PerReplica...) to a
Tensor"; keras-team/keras#20585 and tensorflow/tensorflow#72388 track it). This loop does what
fit does, with the strategy's own pieces: every worker builds its shard of each epoch's batches
with `strategy.distribute_datasets_from_function`, `strategy.run` runs the model's own
`train_step` (so the loss scaling, the optimizer's all-reduce and the metrics are Keras's), and
the same Keras callbacks get the same calls: the backup (`zoo.training.resume.AtomicBackup`, resume), `EarlyStopping`,
`CSVLogger`, zoo's `RunState`. Validation runs on each worker over the whole validation set and
the workers' scores are averaged, so every worker takes the same early-stopping decision.

Each epoch uses whole global batches only: a fixed-seed permutation of (seed, epoch) is cut to a
multiple of the batch size, then dealt round-robin to the workers, so every worker runs the same
number of steps and a resumed epoch sees the batches an uninterrupted one would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo.errors import RunError
from zoo.training.pipelines import pipeline


def _shards(strategy, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, epoch: int, augment):
    steps = len(x) // batch_size
    order = np.random.default_rng([seed, epoch]).permutation(len(x))[: steps * batch_size]

    def make(context: tf.distribute.InputContext) -> tf.data.Dataset:
        mine = order[context.input_pipeline_id :: context.num_input_pipelines]
        per_replica = context.get_per_replica_batch_size(batch_size)
        # Each worker's shard draws its own augmentation, keyed by (seed, worker, epoch, batch).
        shard_seed = seed * 1_000 + context.input_pipeline_id
        return pipeline(x[mine], y[mine], per_replica, shuffle=False, seed=shard_seed, augment=augment, epoch=epoch)

    return strategy.distribute_datasets_from_function(make), steps


def _mean_over_workers(strategy, values) -> np.ndarray:
    """`values` (a vector, one per worker) averaged over the workers: a collective, so every worker calls it."""
    values = tf.constant(np.asarray(values, np.float32))
    return strategy.reduce(tf.distribute.ReduceOp.MEAN, strategy.run(lambda: tf.identity(values)), axis=None).numpy()


def _agreed(strategy, logs: dict[str, float]) -> dict[str, float]:
    """`logs` averaged over the workers. Each worker's BatchNorm statistics come from its own shard,
    so their validation scores differ a little; early stopping must decide the same everywhere."""
    mean = _mean_over_workers(strategy, [logs[key] for key in logs])
    return {key: float(value) for key, value in zip(logs, mean)}


def common_epoch(strategy) -> Callable[[list[int], int], int]:
    """The agreement `AtomicBackup(agree=...)` needs: the newest epoch whose checkpoint every worker holds.

    Each worker marks the epochs it holds in a vector of `most + 1` slots; their mean over the replicas is
    1 exactly where every worker holds that epoch (a collective, so every worker must call it)."""

    def agree(held: list[int], most: int) -> int:
        marks = np.zeros(most + 1, np.float32)
        marks[held] = 1.0
        shares = _mean_over_workers(strategy, marks)
        return max((epoch for epoch, share in enumerate(shares) if share > 0.999), default=0)

    return agree


def evaluate_local(model: keras.Model, dataset: tf.data.Dataset) -> dict[str, float]:
    """Loss and score ("accuracy", or "r2" for a one-output net) of `model` on `dataset`, on this worker alone.

    Examples:
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
        >>> model.compile(loss="sparse_categorical_crossentropy")
        >>> data = tf.data.Dataset.from_tensor_slices((np.ones((4, 2), "float32"), np.array([0, 1, 0, 1]))).batch(2)
        >>> sorted(evaluate_local(model, data))
        ['accuracy', 'loss']
    """
    loss_fn = keras.losses.get(model.loss) if isinstance(model.loss, str) else model.loss
    predict = tf.function(lambda x: model(x, training=False))
    losses, truths, predictions = [], [], []
    for x, y in dataset:
        predicted = predict(x)
        losses.append(float(keras.ops.mean(loss_fn(y, predicted))) * len(y))
        truths.append(np.asarray(y))
        predictions.append(np.asarray(predicted))
    truth, predicted = np.concatenate(truths), np.concatenate(predictions)
    out = {"loss": sum(losses) / len(truth)}
    if predicted.shape[-1] == 1:
        truth = truth.reshape(-1).astype(np.float64)
        residual = np.sum((truth - predicted.reshape(-1)) ** 2)
        out["r2"] = float(1 - residual / max(np.sum((truth - truth.mean()) ** 2), 1e-12))
    else:
        out["accuracy"] = float(np.mean(np.argmax(predicted, axis=-1) == truth.reshape(-1)))
    return out


def fit_workers(
    model: keras.Model,
    strategy,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    seed: int,
    validation_data: tf.data.Dataset,
    epochs: int,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
    augment=None,
) -> keras.callbacks.History:
    """Train `model` (built in `strategy`'s scope) on `(x, y)` the way `model.fit` would; returns its History.

    Examples:
        (Not run by the doctests: it needs a TF_CONFIG cluster; tests/test_distribute.py starts one.)
        >>> fit_workers(model, strategy, x, y, batch_size=32, seed=0, validation_data=val, epochs=3)  # doctest: +SKIP
    """
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise RunError(
            f"train.batch_size = {batch_size} does not split evenly over {replicas} replicas; "
            f"use a multiple of {replicas} (the batch size is global)"
        )
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)

    history = keras.callbacks.History()
    run = keras.callbacks.CallbackList([*callbacks, history], model=model, epochs=epochs, verbose=verbose)
    model.stop_training = False
    run.on_train_begin()
    try:
        logs = _epochs(
            model,
            strategy,
            run,
            (x, y),
            validation_data,
            batch_size=batch_size,
            seed=seed,
            epochs=epochs,
            augment=augment,
            verbose=verbose,
        )
    except _PEER_LOST as error:
        resolver = strategy.cluster_resolver
        raise RunError(_peer_lost(error, f"/job:{resolver.task_type}/task:{resolver.task_id}")) from None
    run.on_train_end(logs)
    model._initial_epoch = None
    return history


# What a collective raises when a peer dies mid-run: TensorFlow's heartbeats notice within about 10 s.
_PEER_LOST = (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.DeadlineExceededError)


def _peer_lost(error: Exception, own: str) -> str:
    """One line for a collective that failed because a peer stopped (TensorFlow's message runs to 40 lines);
    `own` is this worker's task ("/job:worker/task:0"), which the message may name too.

    Examples:
        >>> _peer_lost(RuntimeError("from /job:worker/replica:0/task:0: unhealthy: /job:worker/task:1"),
        ...            "/job:worker/task:0")[:64]
        'a worker of the cluster stopped mid-run (/job:worker/task:1 stop'
    """
    text = str(getattr(error, "message", error))
    # TensorFlow names a task with or without its replica ("/job:worker/replica:0/task:1", "/job:worker/task:1").
    named = {re.sub(r"/replica:\d+", "", t) for t in re.findall(r"/job:\w+(?:/replica:\d+)?/task:\d+", text)}
    tasks = sorted(named - {own}) or ["a peer"]
    return (
        f"a worker of the cluster stopped mid-run ({', '.join(tasks)} stopped answering); this worker stopped too. "
        "The run folder keeps the last finished epoch: start every worker again with the same --out to resume"
    )


def _epochs(model, strategy, run, data, validation_data, *, batch_size, seed, epochs, augment, verbose) -> dict:
    """The epoch loop of `fit_workers`; returns the last epoch's logs."""

    @tf.function
    def train_step(iterator):
        strategy.run(model.train_step, args=(next(iterator),))

    logs: dict[str, Any] = {}
    for epoch in range(model._initial_epoch or 0, epochs):  # the backup sets the epoch to resume from
        model.reset_metrics()
        run.on_epoch_begin(epoch)
        batches, steps = _shards(strategy, *data, batch_size, seed, epoch, augment)
        iterator = iter(batches)
        for _ in range(steps):
            train_step(iterator)
        logs = {name: float(value) for name, value in model.get_metrics_result().items()}
        logs.update(
            _agreed(strategy, {f"val_{name}": value for name, value in evaluate_local(model, validation_data).items()})
        )
        if verbose:
            print(f"Epoch {epoch + 1}/{epochs} - " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()), flush=True)
        run.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    return logs
