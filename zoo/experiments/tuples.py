"""Failure 2, end-to-end versus decomposition: the parity of k images' tags.

Shalev-Shwartz, Shamir and Shammah (2017), section 3. Each image (28 x 28) holds one line
segment; its tag is +1 when the segment's angle is below 90 degrees. An input is k such
images and its label is the parity of their k tags (+1 for an odd number of +1 tags). The
net, as in the paper's code: a shared per-image conv net (two 5 x 5 convolutions of 16
channels with 2 x 2 max-pooling, Dense 50, Dense 100, one score) whose k sigmoid scores feed
Dense(100, ReLU) -> Dense(1); hinge loss, Adam.

* end-to-end: trained on the final label only.
* decomposition: also told each image's tag (a hinge loss on each score), as the paper does.

Paper: end-to-end fails completely for k >= 3, decomposition works for every k; the
end-to-end gradient's signal-to-noise ratio (`zoo.training.snr.gradient_snr`) falls with k
until it is below float32 precision.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo.experiments.online import first_reaching, online_fit, paper_init
from zoo.experiments.parity import hinge, sign_accuracy
from zoo.reports.plots import gradient_snr_figure, iteration_curves_figure
from zoo.reports.records import stamp, write_results
from zoo.training.snr import gradient_snr

SIZE = 28


def segment_images(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`count` images (uint8, 0 or 1) of one random line segment each, and their tags (+1: angle < 90 degrees).

    The paper's generator: angle uniform in [0, pi), centre uniform in the image, length
    uniform in [5, 23], pixels stepped out from the centre both ways and clipped at the border.

    Examples:
        >>> images, tags = segment_images(3)
        >>> images.shape, sorted(set(np.unique(images))) <= [0, 1], set(tags) <= {-1, 1}
        ((3, 28, 28), True, True)
    """
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, np.pi, count)
    centre = SIZE * rng.uniform(0, 1, (count, 2))
    half = (rng.uniform(5, SIZE - 5, count) // 2).astype(int)
    steps = np.arange(SIZE // 2)
    direction = np.stack([np.cos(theta), np.sin(theta)], 1)
    images = np.zeros((count, SIZE, SIZE), np.uint8)
    for sign in (-1, 1):
        points = (centre[:, None, :] + sign * direction[:, None, :] * steps[None, :, None]).astype(int)
        keep = (steps[None, :] < half[:, None]) & np.all((points >= 0) & (points < SIZE), axis=2)
        which, step = np.nonzero(keep)
        images[which, points[which, step, 0], points[which, step, 1]] = 1
    return images, np.where(theta < np.pi / 2, 1, -1).astype(np.int8)


def tuple_sampler(images: np.ndarray, tags: np.ndarray, k: int, seed: int = 0):
    """`sample(n)` -> (n tuples of k images, shape (n, k, 28, 28, 1); [parity label, k tags], shape (n, 1 + k)).

    Each tuple draws k images from the pool, so a pool of N images gives about N^k tuples.

    Examples:
        >>> x, y = tuple_sampler(*segment_images(10), k=3)(4)
        >>> tuple(x.shape), tuple(y.shape), bool(np.all(y.numpy()[:, 0] == -np.prod(-y.numpy()[:, 1:], axis=1)))
        ((4, 3, 28, 28, 1), (4, 4), True)
    """
    pool = tf.constant(images[..., None])
    pool_tags = tf.constant(tags, tf.float32)
    generator = tf.random.Generator.from_seed(seed)

    def sample(n):
        index = generator.uniform((n, k), 0, len(images), dtype=tf.int64)
        x = tf.cast(tf.gather(pool, index), tf.float32)
        tag = tf.gather(pool_tags, index)
        # Odd number of +1 tags -> +1: the product of the "-tag"s is -1 exactly then.
        label = -tf.reduce_prod(-tag, axis=1, keepdims=True)
        return x, tf.concat([label, tag], axis=1)

    return sample


def image_net(seed: int = 0) -> keras.Model:
    """The paper's per-image scorer: conv 16@5x5 + pool, conv 16@5x5 + pool, Dense 50, Dense 100, Dense 1."""
    layers = [keras.Input((SIZE, SIZE, 1))]
    for index, fan_in in enumerate((1, 16)):
        layers += [
            keras.layers.Conv2D(16, 5, padding="same", kernel_initializer=paper_init(fan_in, seed + index)),
            keras.layers.MaxPooling2D(2),
        ]
    layers += [
        keras.layers.Flatten(),
        keras.layers.Dense(50, "relu", kernel_initializer=paper_init(784, seed + 2)),
        keras.layers.Dense(100, "relu", kernel_initializer=paper_init(50, seed + 3)),
        keras.layers.Dense(1, kernel_initializer=paper_init(100, seed + 4), name="score"),
    ]
    return keras.Sequential(layers, name="image_scorer")


def tuple_net(k: int, seed: int = 0) -> keras.Model:
    """Scores each of k images with one shared `image_net`, then Dense(100, ReLU) -> Dense(1) on their sigmoids.

    Output shape (n, 1 + k): the tuple's score, then each image's score.
    """
    inputs = keras.Input((k, SIZE, SIZE, 1))
    scorer = image_net(seed)
    scores = keras.ops.reshape(scorer(keras.ops.reshape(inputs, (-1, SIZE, SIZE, 1))), (-1, k))
    hidden = keras.layers.Dense(100, "relu", kernel_initializer=paper_init(k, seed + 5))(keras.ops.sigmoid(scores))
    final = keras.layers.Dense(1, kernel_initializer=paper_init(100, seed + 6))(hidden)
    return keras.Model(inputs, keras.layers.Concatenate()([final, scores]), name=f"tuple_net_{k}")


def end_to_end_loss(y, output):
    """Hinge loss on the tuple's label only."""
    return hinge(y[:, :1], output[:, :1])


def decomposition_loss(y, output):
    """Hinge loss on the label plus a hinge loss on every image's tag (the paper's "dec" run)."""
    return hinge(y[:, :1], output[:, :1]) + hinge(y[:, 1:], output[:, 1:])


def final_accuracy(y, output):
    """Sign accuracy on the tuple's label."""
    return sign_accuracy(y[:, :1], output[:, :1])


def score_gradient_snr(
    k: int, loss_fn, sample, batches: int = 200, batch_size: int = 100, seed: int = 0
) -> dict[str, float]:
    """At initialization, the SNR of the gradient of `loss_fn` with respect to the per-image score layer's weights."""
    model = tuple_net(k, seed)
    weights = model.get_layer("image_scorer").get_layer("score").kernel

    @tf.function
    def gradient(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        return tape.gradient(loss, weights)

    return gradient_snr([gradient(*sample(batch_size)).numpy() for _ in range(batches)], batch_size)


def run(
    out_dir: str | Path = Path("benchmarks/results/tuples"),
    ks=(1, 2, 3, 4),
    steps: int = 3000,
    every: int = 250,
    batch_size: int = 64,
    pool: int = 100_000,
    snr_batches: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """The end-to-end versus decomposition experiment; returns the results written to `out_dir`."""
    started = time.perf_counter()
    images, tags = segment_images(pool, seed)
    held_out = segment_images(pool // 10, seed + 1)
    runs, snr = [], []
    for k in ks:
        train_sample, test_sample = tuple_sampler(images, tags, k, seed), tuple_sampler(*held_out, k, seed + 1)
        for approach, loss_fn in (("end-to-end", end_to_end_loss), ("decomposition", decomposition_loss)):
            snr.append(
                {"k": k, "approach": approach, **score_gradient_snr(k, loss_fn, train_sample, snr_batches, seed=seed)}
            )
            curve = _train(k, loss_fn, train_sample, test_sample, steps, every, batch_size, seed)
            runs.append({"k": k, "approach": approach, **curve})
            print(
                f"[{time.perf_counter() - started:6.0f} s] k={k} {approach}: accuracy "
                f"{runs[-1]['final_accuracy']:.3f}, "
                f"SNR {snr[-1]['snr']:.3g}",
                flush=True,
            )
    results = {
        "experiment": "tuples",
        "steps": steps,
        "batch_size": batch_size,
        "pool": pool,
        "seed": seed,
        "snr_batches": snr_batches,
        "runs": runs,
        "snr": snr,
        **stamp(started),
    }
    figures = {
        f"{approach}.png": iteration_curves_figure(
            {f"k = {r['k']}": r["points"] for r in runs if r["approach"] == approach},
            f"parity of k tags, {approach}",
            "accuracy on held-out tuples",
        )
        for approach in ("end-to-end", "decomposition")
    }
    figures["snr.png"] = gradient_snr_figure(snr)
    write_results(out_dir, results, _report(results), figures)
    return results


def _train(k: int, loss_fn, train_sample, test_sample, steps: int, every: int, batch_size: int, seed: int):
    """One net for k-tuples trained online with `loss_fn`: its curve, final accuracy and iterations to 0.9."""
    keras.utils.set_random_seed(seed)
    model = tuple_net(k, seed)
    curve = online_fit(
        model,
        loss_fn,
        train_sample,
        keras.optimizers.Adam(1e-3),
        steps,
        every,
        final_accuracy,
        batch_size=batch_size,
        held_out=test_sample,
    )
    return {
        **curve,
        "final_accuracy": curve["points"][-1]["metric"],
        "iterations_to_0.9": first_reaching(curve["points"], 0.9),
    }


def _report(results: dict[str, Any]) -> str:
    lines = _runs_table(results)
    runs = {(r["k"], r["approach"]): r for r in results["runs"]}
    snr = {(r["k"], r["approach"]): r for r in results["snr"]}
    ks = sorted({k for k, _ in runs})
    e2e_fails = [k for k in ks if runs[(k, "end-to-end")]["final_accuracy"] < 0.6]
    dec_works = [k for k in ks if runs[(k, "decomposition")]["final_accuracy"] >= 0.8]
    e2e_snr = [snr[(k, "end-to-end")]["snr"] for k in ks]
    below = [k for k in ks if snr[(k, "end-to-end")]["snr"] < snr[(k, "end-to-end")]["resolution"]]
    lines += [
        "",
        "## Paper against measurement",
        "",
        "| claim | measured here |",
        "|---|---|",
        "| end-to-end fails completely for k >= 3 | at chance (< 0.6) for k = "
        f"{', '.join(map(str, e2e_fails)) or 'none'} |",
        f"| decomposition works for every k | >= 0.8 for k = {', '.join(map(str, dec_works)) or 'none'} |",
        f"| the end-to-end gradient's SNR falls with k, below float32 precision (1.2e-7) for k >= 3 | "
        f"{', '.join(f'{v:.2g}' for v in e2e_snr)} for k = {', '.join(map(str, ks))}; indistinguishable from 0 "
        f"(below 1/N) for k = {', '.join(map(str, below)) or 'none'} |",
        "",
    ]
    reproduced = all(k in e2e_fails for k in ks if k >= 3) and dec_works == ks and all(k in below for k in ks if k >= 3)
    early = [k for k in e2e_fails if k < 3]
    if early:  # fails sooner than the paper says: say how much smaller our budget is
        seen = results["steps"] * results["batch_size"]
        lines += [
            f"End-to-end also fails at k = {', '.join(map(str, early))} here, where the paper's succeeds: our budget "
            "is "
            f"{results['steps']:,} steps of {results['batch_size']} tuples ({seen:,} tuples), the paper's 20,000 "
            "steps of 200 "
            f"(4,000,000, {4_000_000 / seen:.0f}x more). Decomposition needs no such budget.",
            "",
        ]
        reproduced = False
    lines += [
        f"**Verdict: {'reproduced' if reproduced else 'partly reproduced'}.** Telling the net what each image's tag is "
        "(decomposition) gives the per-image scorer a strong, low-noise gradient at every k; asking it to find the "
        "tags "
        "from their parity alone leaves a gradient whose signal, at initialization, is too small to measure with this "
        f"many examples once k >= {min(below) if below else max(ks) + 1} (our resolution is 1/N; the paper's float32 "
        "claim lies "
        "below what any finite sample here can show).",
        "",
        "Curves: [end-to-end.png](end-to-end.png), [decomposition.png](decomposition.png); SNR: [snr.png](snr.png).",
        "",
        f"Regenerate: `zoo experiment tuples` ({results['seconds']} s on this run's machine).",
        "",
    ]
    return "\n".join(lines)


def _runs_table(results: dict[str, Any]):
    """The report's setup and its table: accuracy and gradient SNR per k and approach."""
    runs = {(r["k"], r["approach"]): r for r in results["runs"]}
    snr = {(r["k"], r["approach"]): r for r in results["snr"]}
    lines = [
        "# Failure 2: end-to-end versus decomposition (Shalev-Shwartz, Shamir and Shammah 2017, section 3)",
        "",
        f"Label: the parity of the tags of k line-segment images. {results['steps']:,} Adam steps (1e-3) of "
        f"{results['batch_size']}",
        f"tuples, drawn from a pool of {results['pool']:,} images; accuracy on 2,000 tuples from a separate held-out "
        "pool.",
        f"Gradient SNR: the score layer's weights at initialization, over {results['snr_batches']} batches of 100 "
        "tuples",
        "(`zoo.training.snr.gradient_snr`; an SNR below the resolution 1/N cannot be told from zero).",
        "",
        "| k | end-to-end accuracy | iterations to 0.9 | decomposition accuracy | iterations to 0.9 | SNR end-to-end "
        "| SNR decomposition |",
        "|---|---|---|---|---|---|---|",
    ]
    for k in sorted({k for k, _ in runs}):
        e2e, dec = runs[(k, "end-to-end")], runs[(k, "decomposition")]
        shown = lambda row: (
            f"{row['snr']:.3g}"
            if row["snr"] >= row["resolution"]
            else f"< {row['resolution']:.1g} (0 within resolution)"
        )
        lines.append(
            f"| {k} | {e2e['final_accuracy']:.3f} | {e2e['iterations_to_0.9'] or 'never'} | "
            f"{dec['final_accuracy']:.3f} | "
            f"{dec['iterations_to_0.9'] or 'never'} | {shown(snr[(k, 'end-to-end')])} | "
            f"{shown(snr[(k, 'decomposition')])} |"
        )
    return lines
