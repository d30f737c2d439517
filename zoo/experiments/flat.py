"""Failure 4, flat activations: learning y = u(v . x + b) when u is a staircase.

Shalev-Shwartz, Shamir and Shammah (2017), section 5. x ~ N(0, I / d^2) in d = 100
dimensions, v* ~ N(0, I), b* ~ N(0, 1), and u maps its input to the largest of a fixed set
of levels at or below it (the paper's levels: b* plus every multiple of 5 in [-100, 100)
and -5 ... 5 with some finer steps near 0). u's derivative is zero almost everywhere, so
the gradient through u carries no signal. Four learners, Adam (beta2 0.99, epsilon 1e-5),
batches of 256, squared loss unless stated:

* smooth approximation: a linear p = w . x + c, trained through a sum of sigmoids that
  approximates u (the paper's, learning rate 1e-2), predicting u(p).
* end-to-end: a ReLU MLP (3 x 100) regressing y directly.
* multi-class: a ReLU MLP (2 x 100) classifying which level y is, cross-entropy.
* forward-only: the linear p through `ForwardOnly(Staircase(levels))` (zoo.nets.layers): u going
  forward, the identity going back. Paper: the best, in accuracy and in time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo.experiments.online import online_fit, paper_init
from zoo.nets.layers import ForwardOnly, Staircase
from zoo.reports.plots import iteration_curves_figure
from zoo.reports.records import stamp, write_results

DIMENSION = 100
METHODS = ("smooth_approximation", "end_to_end", "multi_class", "forward_only")


def target(seed: int = 0) -> tuple[np.ndarray, float, np.ndarray]:
    """v*, b* and the levels of u, drawn as in the paper's code."""
    rng = np.random.default_rng(seed)
    v, b = rng.normal(size=DIMENSION), float(rng.normal())
    offsets = np.concatenate([np.arange(-100, 100, 5), [-5, -4, -3, -2, -1, -0.2, 0, 0.1, 0.15, 0.175, 1, 2, 3, 4, 5]])
    return v.astype(np.float32), b, np.unique(b + offsets).astype(np.float32)


def step_sampler(v: np.ndarray, b: float, levels: np.ndarray, seed: int = 0):
    """`sample(n)` -> (x, [y, level index]) with y = u(v . x + b).

    Examples:
        >>> x, y = step_sampler(*target())(4)
        >>> tuple(x.shape), tuple(y.shape)
        ((4, 100), (4, 2))
    """
    generator = tf.random.Generator.from_seed(seed)
    v_t, levels_t = tf.constant(v[:, None]), tf.constant(levels)

    def sample(n):
        x = generator.normal((n, DIMENSION)) / DIMENSION
        p = x @ v_t + b
        index = tf.maximum(tf.reduce_sum(tf.cast(p >= levels_t, tf.int32), axis=1, keepdims=True) - 1, 0)
        return x, tf.concat([tf.gather(levels_t, index), tf.cast(index, tf.float32)], axis=1)

    return sample


def smooth_staircase(p, levels: np.ndarray, sharpness: float = 5.0, width: float = 10.0):
    """The paper's differentiable stand-in for u: the lowest level plus a sigmoid for every step up."""
    gap = np.diff(levels)
    middle = levels[1:] - gap / (2 * width)
    return levels[0] + tf.reduce_sum(gap * tf.sigmoid(sharpness * (p - middle) / (gap / width)), axis=1, keepdims=True)


def _dense(units: int, fan_in: int, activation=None, seed: int = 0):
    return keras.layers.Dense(units, activation, kernel_initializer=paper_init(fan_in, seed))


def _mlp(widths, outputs: int, seed: int) -> list:
    layers, fan_in = [], DIMENSION
    for index, width in enumerate(widths):
        layers.append(_dense(width, fan_in, "relu", seed + index))
        fan_in = width
    return layers + [_dense(outputs, fan_in, seed=seed + len(widths))]


def learner(method: str, levels: np.ndarray, seed: int = 0):
    """The model, loss, prediction of y, learning rate and steps of one method."""
    squared = lambda y, y_hat: tf.reduce_mean((y[:, :1] - y_hat) ** 2)
    inputs = [keras.Input((DIMENSION,))]
    if method == "smooth_approximation":
        model = keras.Sequential(inputs + [_dense(1, DIMENSION, seed=seed)])
        staircase = Staircase(levels)
        return model, lambda y, p: squared(y, smooth_staircase(p, levels)), staircase, 1e-2, 10_000
    if method == "end_to_end":
        return keras.Sequential(inputs + _mlp((100, 100, 100), 1, seed)), squared, lambda y_hat: y_hat, 1e-3, 10_000
    if method == "multi_class":
        model = keras.Sequential(inputs + _mlp((100, 100), len(levels), seed))
        crossentropy = lambda y, logits: tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(y[:, 1], tf.int32), logits)
        )
        return model, crossentropy, lambda logits: tf.gather(levels, tf.argmax(logits, axis=1))[:, None], 1e-3, 10_000
    if method == "forward_only":
        model = keras.Sequential(inputs + [_dense(1, DIMENSION, seed=seed), ForwardOnly(Staircase(levels))])
        return model, squared, lambda y_hat: y_hat, 1e-3, 5_000
    raise ValueError(f"method = {method!r}; allowed: {', '.join(METHODS)}")


def learn(method: str, seed: int = 0, every: int = 250, steps: int | None = None) -> dict[str, Any]:
    """Train one method on fresh batches; squared error of its prediction of y on 2,560 fresh examples."""
    keras.utils.set_random_seed(seed)
    v, b, levels = target(seed)
    model, loss_fn, predict, rate, default_steps = learner(method, levels, seed)
    error = lambda y, output: tf.reduce_mean((y[:, :1] - tf.cast(predict(output), tf.float32)) ** 2)
    optimizer = keras.optimizers.Adam(rate, beta_2=0.99, epsilon=1e-5)
    curve = online_fit(
        model,
        loss_fn,
        step_sampler(v, b, levels, seed),
        optimizer,
        steps or default_steps,
        every,
        error,
        batch_size=256,
        eval_examples=2560,
        held_out=step_sampler(v, b, levels, seed + 1000),
    )
    return {
        "method": method,
        "seed": seed,
        "learning_rate": rate,
        **curve,
        "final_error": curve["points"][-1]["metric"],
    }


def run(out_dir: str | Path = Path("benchmarks/results/flat"), seeds=(0, 1, 2), every: int = 250) -> dict[str, Any]:
    """The flat-activation experiment; returns the results written to `out_dir`."""
    started = time.perf_counter()
    runs = []
    for method in METHODS:
        for seed in seeds:
            runs.append(learn(method, seed, every))
            print(
                f"[{time.perf_counter() - started:6.0f} s] {method} seed {seed}: error {runs[-1]['final_error']:.3g} "
                f"in {runs[-1]['seconds']:.1f} s",
                flush=True,
            )
    summary = {
        method: {
            "median_error": float(np.median([r["final_error"] for r in runs if r["method"] == method])),
            "median_seconds": float(np.median([r["seconds"] for r in runs if r["method"] == method])),
            "steps": runs[[r["method"] for r in runs].index(method)]["points"][-1]["iteration"],
        }
        for method in METHODS
    }
    results = {"experiment": "flat", "seeds": list(seeds), "summary": summary, "runs": runs, **stamp(started)}
    figure = iteration_curves_figure(
        {m.replace("_", " "): next(r for r in runs if r["method"] == m)["points"] for m in METHODS},
        "learning y = u(v.x + b), seed 0",
        "held-out squared error",
        log_y=True,
    )
    write_results(out_dir, results, _report(results), {"flat.png": figure})
    return results


def _report(results: dict[str, Any]) -> str:
    summary = results["summary"]
    best = min(summary, key=lambda m: summary[m]["median_error"])
    lines = [
        "# Failure 4: flat activations (Shalev-Shwartz, Shamir and Shammah 2017, section 5)",
        "",
        "Learn y = u(v . x + b), u a staircase (zero derivative almost everywhere), from fresh batches of 256.",
        "Squared error of each learner's prediction of y on 2,560 fresh examples; median over seeds "
        f"{results['seeds']}.",
        "",
        "| learner | steps | held-out squared error | training seconds |",
        "|---|---|---|---|",
    ]
    for method, row in summary.items():
        lines.append(
            f"| {method.replace('_', ' ')} | {row['steps']:,} | {row['median_error']:.3g} | "
            f"{row['median_seconds']:.1f} |"
        )
    fastest = min(summary, key=lambda m: summary[m]["median_seconds"])
    reproduced = best == fastest == "forward_only"
    verdict = (
        "reproduced" if reproduced else "partly reproduced" if "forward_only" in (best, fastest) else "not reproduced"
    )
    lines += [
        "",
        "## Paper against measurement",
        "",
        "| claim | measured here |",
        "|---|---|",
        f"| forward-only is the most accurate | lowest error: {best.replace('_', ' ')} |",
        f"| forward-only is the fastest | fastest: {fastest.replace('_', ' ')} |",
        "",
        f"**Verdict: {verdict}.** "
        "A flat activation passes no gradient; replacing its derivative by the identity on the way back (zoo's "
        "`ForwardOnly(Staircase(levels))`) keeps the true function on the way forward and trains the linear map "
        "under it "
        "directly, where the smooth stand-in trades accuracy for a gradient and the generic MLPs must learn the "
        "staircase "
        "from scratch.",
        "",
        "Curves (seed 0): [flat.png](flat.png).",
        "",
        f"Regenerate: `zoo experiment flat` ({results['seconds']} s on this run's machine).",
        "",
    ]
    return "\n".join(lines)
