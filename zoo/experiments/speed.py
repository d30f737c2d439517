"""Training throughput: zoo's training path vs a plain Keras `fit` and a hand-written PyTorch loop.

Small dense and conv nets on a CPU spend much of each step in framework overhead, not arithmetic.
zoo's path cuts that overhead: a cached, shuffled, prefetched `tf.data` pipeline; many steps per
call into TensorFlow (`train.steps_per_execution`); XLA where it measures faster
(`train.jit_compile`). This module measures what that buys, on the machine it runs on:

* ``zoo``: `zoo.build(recipe)` trained with `fit` on zoo's pipeline (the recipe's settings).
* ``keras``: the same network compiled with Keras defaults (one step per call, `jit_compile`
  "auto", which is off on CPU) and trained with `fit(x, y, batch_size=...)` on numpy arrays, the
  way most scripts start.
* ``torch``: the same architecture written in PyTorch (Linear/Conv2d without bias, BatchNorm,
  the activation, dropout; Adam), trained by an eager loop that slices pre-shuffled tensors:
  the fast way to hand-write it. Skipped, with the reason, when torch is not installed.
* ``jax``: zoo's path under `KERAS_BACKEND=jax` (data still from tf.data), in a subprocess,
  since Keras picks its backend once per process. Skipped when jax is not installed.

Every variant trains the same number of examples at the recipe's own batch size; each timing
follows a warm-up that traces and compiles. Variants alternate within each round, and the
median over rounds is reported, so a slow spell of the machine hits all of them alike.
A dense net's pass is one epoch of Fashion-MNIST's training rows (55,000 examples), what each
epoch of a real run costs, tf.data's per-epoch start included. Passes of 8,192 examples lasted a
quarter of a second for fashion_selu: its rounds spread from 0.64x to 1.15x of the expert's
rate, and zoo's per-epoch start weighed 7 times what it does in an epoch (zoo/expert 0.91 on
such passes against 1.12 on passes of 65,536, 7 rounds each, one process). Nets of more than
HEAVY FLOPs per training example (fashion_cnn's 112 million, fashion_resnet's 121 million) are
timed on 4,096 examples a pass instead, about 5 s each, as an epoch of theirs takes over a minute; the
tiny conv net (7 million) trains an epoch in about 6 s, so its pass is an epoch too.

Examples:
    (Not run by the doctests: it times a minute of training.)
    >>> recipe = zoo.get_recipe("fashion_mlp")                                     # doctest: +SKIP
    >>> epoch = twins.keras_epoch(recipe, "zoo", *twins.training_arrays(recipe, 2048))            # doctest: +SKIP
    >>> epoch()                                   # warm-up: tracing, XLA compilation   # doctest: +SKIP
    >>> twins.examples_per_second(epoch, 2048) > 1000                                        # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from zoo.data.builtin import load
from zoo.errors import RecipeError
from zoo.experiments import twins
from zoo.nets.network import build, resolve_jit_compile
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.reports.records import stamp, write_results
from zoo.training.fastpath import fit_fast
from zoo.training.pipelines import batches

HEAVY = 20e6  # training FLOPs per example above which a pass is 4,096 examples, not an epoch (see above)


# --- Time to accuracy ---------------------------------------------------------------------------


class _ClockToTarget(keras.callbacks.Callback):
    """Stops training once validation accuracy reaches `target`; records the seconds it took.

    With a `time_limit` (seconds), also stops at the first epoch end past it, target or not.
    """

    def __init__(self, target: float, time_limit: float | None = None):
        super().__init__()
        self.target, self.time_limit = target, time_limit
        self.seconds: float | None = None
        self.epochs = 0
        self.elapsed = 0.0

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epochs = epoch + 1
        self.elapsed = time.perf_counter() - self.started
        if self.seconds is None and (logs or {}).get("val_accuracy", 0.0) >= self.target:
            self.seconds = self.elapsed
            self.model.stop_training = True
        if self.time_limit is not None and self.elapsed > self.time_limit:
            self.model.stop_training = True


def time_to_accuracy(
    recipe: Recipe | str = "fashion_mlp",
    target: float = 0.88,
    max_epochs: int | None = None,
    variant: str = "zoo",
    time_limit: float | None = None,
) -> dict[str, Any]:
    """Seconds (and epochs) of training until validation accuracy first reaches `target`.

    "zoo" trains on zoo's pipelines with the recipe's compile settings; "keras" trains the same
    network with Keras defaults on numpy arrays. Both validate once per epoch on the same split, and
    neither applies the recipe's augmentation: both train on the same images.
    Training stops at the target, after `max_epochs` (default: the recipe's own epoch budget, which
    its schedule is laid out over), or at the first epoch end past `time_limit` seconds; "seconds"
    is None when the target was not reached.
    """
    recipe = get_recipe(recipe)  # a Recipe comes back as it is
    max_epochs = max_epochs or recipe.train.epochs
    splits = load(recipe.dataset, recipe.validation_size)
    keras.utils.set_random_seed(recipe.train.seed)
    clock = _ClockToTarget(target, time_limit)
    if variant == "zoo":
        model = build(recipe)
        served = batches(splits, recipe, augment=[])
        fit_fast(
            model,
            served.train,
            examples=splits.sizes["train"],
            batch_size=served.batch_size,
            validation_data=served.validation,
            epochs=max_epochs,
            verbose=0,
            callbacks=[clock],
        )
    else:
        model = twins.plain_keras_model(recipe)
        (x, y), validation = splits.arrays["train"], splits.arrays["validation"]
        model.fit(
            x,
            y,
            batch_size=recipe.train.batch_size,
            validation_data=validation,
            epochs=max_epochs,
            verbose=0,
            callbacks=[clock],
        )
    test = model.evaluate(*splits.arrays["test"], batch_size=recipe.train.batch_size, verbose=0, return_dict=True)[
        "accuracy"
    ]
    return {
        "variant": variant,
        "target": target,
        "seconds": clock.seconds,
        "epochs": clock.epochs,
        "seconds_run": round(clock.elapsed, 1),
        "time_limit": time_limit,
        "test_accuracy_at_stop": float(test),
    }


# --- The experiment -----------------------------------------------------------------------------


def _warmed_epochs(
    recipe: Recipe, x, y, skipped: dict[str, str], failures: dict[str, str]
) -> dict[str, Callable[[], None]]:
    """One built and warmed-up epoch function per in-process variant (zoo, keras, torch)."""
    epochs: dict[str, Callable[[], None]] = {}
    for variant in ("zoo", "keras", "expert", "torch"):
        if variant in skipped:
            continue
        try:
            epoch = twins.torch_epoch(recipe, x, y) if variant == "torch" else twins.keras_epoch(recipe, variant, x, y)
            epoch()  # warm-up: tracing, XLA compilation, caches, allocator
        except RecipeError as error:  # e.g. an activation with no PyTorch twin
            failures[variant] = str(error)
            continue
        epochs[variant] = epoch
    return epochs


def _measure_recipe(
    name: str, rounds: int, counts: tuple[int, int], skipped: dict[str, str], peak: float, say
) -> dict[str, Any]:
    """Alternating timed rounds of every variant on one recipe, then JAX in its own process.

    `counts` is the examples timed per pass: (an epoch's, a net's of more than HEAVY FLOPs per example).
    """
    # Every variant does the same work per step: the PyTorch loop keeps no moving average of the
    # weights, so the recipe's (fashion_cnn ships one) is left off here; and every variant reads the
    # same un-augmented arrays (fashion_mlp's shifts live in zoo's input pipeline, not in the network).
    recipe = get_recipe(name, **{"train.ema": False})
    epoch_count, heavy_count = counts
    flops = twins.training_flops_per_example(build(recipe))
    count = heavy_count if flops > HEAVY else epoch_count
    x, y = twins.training_arrays(recipe, count)
    failures: dict[str, str] = {}
    epochs = _warmed_epochs(recipe, x, y, skipped, failures)
    rates = twins.alternate(epochs, count, rounds, name, say)
    if "jax" not in skipped:
        try:
            rates["jax"] = twins.measure_jax(recipe, count, rounds)
            say(f"{name} jax: " + ", ".join(f"{rate:,.0f}" for rate in rates["jax"]) + " examples/s")
        except RuntimeError as error:
            failures["jax"] = str(error)
    medians = {v: statistics.median(values) for v, values in rates.items()}
    return {
        "recipe": name,
        "batch_size": recipe.train.batch_size,
        "examples_per_timing": count,
        "steps_per_execution": recipe.train.steps_per_execution,
        "jit_compile": recipe.train.jit_compile,
        "xla": resolve_jit_compile(recipe),
        "training_flops_per_example": flops,
        "examples_per_second": rates,
        "median_examples_per_second": medians,
        "zoo_vs_keras": medians["zoo"] / medians["keras"],
        "zoo_vs_expert": medians["zoo"] / medians["expert"],
        "zoo_vs_torch": medians["zoo"] / medians["torch"] if "torch" in medians else None,
        "jax_vs_zoo": medians["jax"] / medians["zoo"] if "jax" in medians else None,
        "zoo_gflops": medians["zoo"] * flops / 1e9,
        "zoo_fraction_of_peak": medians["zoo"] * flops / 1e9 / peak,
        "failures": failures,
    }


def run(
    out_dir: str | Path = Path("benchmarks/results/speed"),
    recipes: tuple[str, ...] = (
        "fashion_mlp",
        "fashion_deep_mlp",
        "fashion_selu",
        "fashion_cnn",
        "fashion_cnn_tiny",
        "fashion_resnet",
    ),
    rounds: int = 5,
    examples: int = 55_000,
    heavy_examples: int = 4096,
    accuracy_target: float = 0.88,
    keras_time_factor: float = 2.0,
) -> dict[str, Any]:
    """Measure every variant for every recipe, `rounds` times alternating; write results and a report.

    Each variant's network is built and warmed up once per recipe; the timed passes then
    alternate (zoo, Keras, PyTorch, zoo, Keras, ...) so a slow spell of a shared machine hits
    every variant alike. The JAX timings run in their own process, back to back. The plain
    Keras run to the accuracy target is cut off at `keras_time_factor` times zoo's time.
    """
    started = time.perf_counter()
    say = lambda text: print(f"[{time.perf_counter() - started:5.0f} s] {text}", flush=True)
    skipped = {name: why for name, why in (("torch", twins.available("torch")), ("jax", twins.available("jax"))) if why}
    peak = statistics.median(twins.matmul_peak() for _ in range(3))
    say(f"matmul peak: {peak:.1f} GFLOP/s; skipped: {skipped or 'none'}")
    rows = [_measure_recipe(name, rounds, (examples, heavy_examples), skipped, peak, say) for name in recipes]
    clock = [time_to_accuracy("fashion_mlp", accuracy_target, variant="zoo")]
    limit = keras_time_factor * (clock[0]["seconds"] if clock[0]["seconds"] is not None else clock[0]["seconds_run"])
    clock.append(time_to_accuracy("fashion_mlp", accuracy_target, variant="keras", time_limit=limit))
    for row in clock:
        say(
            f"fashion_mlp to validation {accuracy_target}: {row['variant']} "
            f"{row['seconds'] if row['seconds'] is not None else 'not reached'} s, {row['epochs']} epochs"
        )
    stamped = stamp(started)
    results = {
        "experiment": "speed",
        "cpu_count": os.cpu_count(),
        "matmul_peak_gflops": peak,
        "rounds": rounds,
        "skipped": skipped,
        "rows": rows,
        "time_to_accuracy": clock,
        "keras_time_factor": keras_time_factor,
        **stamped,
        "versions": {**stamped["versions"], **_other_versions()},
    }
    write_results(out_dir, results, speed_report(results))
    return results


def _other_versions() -> dict[str, str]:
    found = {}
    for module in ("torch", "jax"):
        probe = subprocess.run(
            [sys.executable, "-c", f"import {module}; print({module}.__version__)"], capture_output=True, text=True
        )
        if probe.returncode == 0:
            found[module] = probe.stdout.strip()
    return found


def speed_report(results: dict[str, Any]) -> str:
    """The Markdown report: one row per recipe, ratios, and how close zoo gets to the matmul peak."""
    lines = _throughput_lines(results)
    clock = {row["variant"]: row for row in results["time_to_accuracy"]}

    def shown(row):
        if row["seconds"] is not None:
            return f"{row['seconds']:.0f} s ({row['epochs']} epochs)"
        limit = row.get("time_limit")
        cut = (
            f" (stopped at its {limit:.0f} s limit, {results['keras_time_factor']:g}x zoo's time)"
            if limit and row["seconds_run"] > limit
            else ""
        )
        return f"not reached in {row['epochs']} epochs, {row['seconds_run']:.0f} s{cut}"

    lines += [
        "",
        f"Time to {clock['zoo']['target']:g} validation accuracy, fashion_mlp (validation once per epoch): zoo "
        f"{shown(clock['zoo'])}, test accuracy {clock['zoo']['test_accuracy_at_stop']:.4f} there; plain Keras fit "
        f"{shown(clock['keras'])}, test accuracy {clock['keras']['test_accuracy_at_stop']:.4f}.",
        "",
        f"Regenerate: `zoo experiment speed` ({results['seconds']} s on this run's machine: {results['cpu_count']} "
        "CPUs; "
        + ", ".join(f"{k} {v}" for k, v in results["versions"].items() if k in ("keras", "tensorflow", "torch", "jax"))
        + ").",
        "",
    ]
    return "\n".join(lines)


def _throughput_lines(results: dict[str, Any]):
    """The report's setup and its throughput table."""
    ratio = lambda value: f"{value:.2f}x" if value is not None else "-"
    rate = lambda row, v: (
        f"{row['median_examples_per_second'][v]:,.0f}" if v in row["median_examples_per_second"] else "-"
    )
    lines = [
        "# Training speed: zoo vs plain and expert Keras fit vs hand-written PyTorch (2-core CPU)",
        "",
        f"Training examples per second, median of {results['rounds']} rounds; in each round zoo, Keras and PyTorch "
        "train one timed pass in turn, after one warm-up pass each; same network, same data, same batch size (the "
        "recipe's) and the same machine in one invocation. A Keras pass is timed from the start of `fit` to the end of "
        "its last training batch: TensorFlow's tf.data can hold a short `fit` call up while it tears down the epoch's "
        "iterator, and a whole-call timing would measure that wait (zoo.experiments.twins.TrainingClock). "
        "zoo = `zoo.build` on zoo's tf.data pipeline with the "
        'recipe\'s `steps_per_execution` and `jit_compile` (XLA column: what "auto" resolved to); Keras = the same '
        "network compiled with Keras defaults, `fit(x, y)` on numpy arrays; expert = the same `fit` compiled with "
        "`steps_per_execution=32` and zoo's XLA setting; PyTorch = the same layers in an eager loop "
        "over pre-shuffled tensors, Adam; JAX = zoo's path under `KERAS_BACKEND=jax`, timed in its own process right "
        "after the others (Keras picks its backend once per process). "
        f"Matmul peak (2048x2048 float32, TensorFlow, median of 3): {results['matmul_peak_gflops']:.1f} GFLOP/s. "
        "Examples a timed pass: "
        + ", ".join(f"{row['recipe']} {row['examples_per_timing']:,}" for row in results["rows"])
        + ".",
        "",
        "| recipe | batch | XLA | zoo | Keras fit | expert fit | PyTorch eager | JAX | zoo / Keras | zoo / expert | "
        "zoo / PyTorch | JAX / zoo | zoo GFLOP/s (of peak) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['recipe']} | {row['batch_size']} | "
            f"{'on' if row['xla'] is True else 'off' if row['xla'] is False else 'Keras'} | "
            f"{rate(row, 'zoo')} | {rate(row, 'keras')} | {rate(row, 'expert')} | {rate(row, 'torch')} | "
            f"{rate(row, 'jax')} | {ratio(row['zoo_vs_keras'])} | {ratio(row.get('zoo_vs_expert'))} | "
            f"{ratio(row['zoo_vs_torch'])} | {ratio(row['jax_vs_zoo'])} | "
            f"{row['zoo_gflops']:.1f} ({row['zoo_fraction_of_peak']:.0%}) |"
        )
    for name, why in results["skipped"].items():
        lines += ["", f"{name} was not measured: {why}."]
    for row in results["rows"]:
        for variant, why in row["failures"].items():
            lines += ["", f"{row['recipe']}: {variant} failed: {why}."]
    return lines
