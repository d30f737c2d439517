"""What the "failures of gradient-based deep learning" experiments share: online training on fresh samples.

The four cases of Shalev-Shwartz, Shamir and Shammah (2017) are synthetic: every step draws
a new batch, so there are no epochs and no overfitting, only iterations. `online_fit` runs
`every` steps inside one compiled TensorFlow loop (the batches are drawn by TensorFlow too),
then measures a metric on one fixed held-out sample: a curve of the metric against
iterations, and the seconds it took.

Examples:
    >>> import keras, tensorflow as tf
    >>> sample = lambda n: (tf.random.normal((n, 2)), tf.ones((n, 1)))
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> curve = online_fit(model, keras.losses.MeanSquaredError(), sample, keras.optimizers.SGD(0.1),
    ...                    steps=200, every=100, metric=lambda y, p: -tf.reduce_mean((y - p) ** 2))
    >>> [point["iteration"] for point in curve["points"]], curve["points"][-1]["metric"] > -0.01
    ([0, 100, 200], True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import tensorflow as tf


def online_fit(
    model: keras.Model,
    loss_fn: Callable,
    sample: Callable[[int], tuple],
    optimizer,
    steps: int,
    every: int | Sequence[int],
    metric: Callable,
    batch_size: int = 128,
    eval_examples: int = 2000,
    held_out: Callable[[int], tuple] | None = None,
    until: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """Train `model` for `steps` iterations on batches `sample(batch_size)`; evaluate every `every`.

    `loss_fn(y, prediction)` is minimized; `metric(y, prediction)` (an accuracy, or an error) is
    measured on one fixed sample of `eval_examples` (drawn by `held_out`, default `sample`) at iteration 0
    and after every `every` iterations (or at each iteration count listed in `every`).
    Training stops early at the first point for which `until(point)` is true. Returns {"points": [{"iteration",
    "metric", "loss"}], "seconds": training seconds, evaluation excluded}.
    """
    variables = model.trainable_variables
    x_eval, y_eval = (held_out or sample)(eval_examples)

    @tf.function
    def run_steps(count):
        for _ in tf.range(count):
            x, y = sample(batch_size)
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

    @tf.function
    def evaluate():
        prediction = model(x_eval, training=False)
        return metric(y_eval, prediction), loss_fn(y_eval, prediction)

    checkpoints = sorted(
        {min(int(c), steps) for c in (every if isinstance(every, Sequence) else range(every, steps + every, every))}
        | {steps}
    )
    points, seconds, done = [], 0.0, 0
    for checkpoint in [0] + [c for c in checkpoints if c > 0]:
        if checkpoint > done:
            started = time.perf_counter()
            run_steps(tf.constant(checkpoint - done))
            seconds += time.perf_counter() - started
            done = checkpoint
        value, loss = evaluate()
        points.append({"iteration": done, "metric": float(value), "loss": float(loss)})
        if until is not None and until(points[-1]):
            break
    return {"points": points, "seconds": round(seconds, 2)}


def paper_init(fan_in: int, seed: int) -> keras.initializers.Initializer:
    """The paper's reference-code initializer: N(0, 1/fan_in) truncated at two standard deviations.

    Examples:
        >>> round(paper_init(100, seed=0).stddev, 3)
        0.1
    """
    return keras.initializers.TruncatedNormal(stddev=1.0 / fan_in**0.5, seed=seed)


def first_reaching(points: list[dict[str, Any]], target: float) -> int | None:
    """The first iteration whose metric (an accuracy: higher is better) is at least `target` (None if none is).

    Examples:
        >>> first_reaching([{"iteration": 0, "metric": 0.5}, {"iteration": 100, "metric": 0.95}], 0.9)
        100
    """
    return next((point["iteration"] for point in points if point["metric"] >= target), None)
