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

Example:
    >>> recipe = zoo.get_recipe("fashion_mlp")                                     # doctest: +SKIP
    >>> epoch = keras_epoch(recipe, "zoo", *training_arrays(recipe, 2048))            # doctest: +SKIP
    >>> epoch()                                   # warm-up: tracing, XLA compilation   # doctest: +SKIP
    >>> examples_per_second(epoch, 2048) > 1000                                        # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

from zoo.build import build, leaf_layers, resolve_jit_compile
from zoo.data import load, pipeline
from zoo.errors import RecipeError
from zoo.fastpath import fit_fast
from zoo.files import atomic_write, write_json
from zoo.recipe import Recipe, get_recipe
from zoo.train import versions

VARIANTS = ("zoo", "keras", "torch", "jax")


def matmul_peak(size: int = 2048, repeats: int = 20) -> float:
    """GFLOP/s of a float32 `size` x `size` matmul in TensorFlow: the machine's practical peak.

    Example:
        >>> matmul_peak(256, 5) > 0
        True
    """
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    product = tf.function(lambda a, b: tf.matmul(a, b))
    product(a, b).numpy()  # trace and warm up
    started = time.perf_counter()
    for _ in range(repeats):
        result = product(a, b)
    result.numpy()
    seconds = time.perf_counter() - started
    return 2 * size**3 * repeats / seconds / 1e9


def training_flops_per_example(model: keras.Model) -> float:
    """Floating-point operations one training example costs in the Dense and Conv2D layers.

    Forward: 2 per multiply-add. Backward: about twice the forward (gradients with respect to
    the inputs and to the weights), so training is ~3x the forward count. Normalization,
    activations and the optimizer are left out: they are small next to the matmuls.

    Example:
        >>> net = keras.Sequential([keras.Input((784,)), keras.layers.Dense(100), keras.layers.Dense(10)])
        >>> training_flops_per_example(net)
        494400.0
    """
    multiply_adds = 0
    for layer in leaf_layers(model):
        if isinstance(layer, keras.layers.Dense):
            multiply_adds += int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Conv2D):
            height, width = layer.output.shape[1:3]  # every output position applies the whole kernel
            multiply_adds += int(height * width * np.prod(layer.kernel.shape))
    return 3.0 * 2.0 * multiply_adds


def training_arrays(recipe: Recipe, examples: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `examples` training examples of the recipe's dataset (repeated if it holds fewer)."""
    splits = load(recipe.dataset, recipe.train.batch_size, recipe.validation_size)
    x, y = splits.arrays["train"]
    reps = int(np.ceil(examples / len(x)))
    return np.concatenate([x] * reps)[:examples], np.concatenate([y] * reps)[:examples]


def plain_keras_model(recipe: Recipe) -> keras.Model:
    """zoo's network for `recipe`, recompiled with Keras defaults: one step per call, jit "auto"."""
    model = build(recipe)
    model.compile(optimizer=type(model.optimizer).from_config(model.optimizer.get_config()),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def keras_epoch(recipe: Recipe, variant: str, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """A function that trains one pass over `(x, y)`: zoo's path ("zoo") or a plain Keras fit ("keras").

    The network is built once; every call continues training it, so a caller can warm up
    (trace, compile, fill caches) with the first call and time the later ones.
    """
    batch = recipe.train.batch_size
    keras.utils.set_random_seed(0)
    if variant == "zoo":
        model = build(recipe)
        data = pipeline(x, y, batch, shuffle=True, seed=0)
        return lambda: fit_fast(model, data, examples=len(x), batch_size=batch, epochs=1, verbose=0)
    if variant == "keras":
        model = plain_keras_model(recipe)
        return lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    raise RecipeError(f"variant = {variant!r} is not allowed; expected one of zoo, keras")


def examples_per_second(epoch: Callable[[], None], examples: int) -> float:
    """Time one call of `epoch` (which trains `examples` examples) and return examples per second."""
    started = time.perf_counter()
    epoch()
    return examples / (time.perf_counter() - started)


# --- PyTorch: the same architectures, hand-written --------------------------------------------


def torch_network(recipe: Recipe, input_shape=(28, 28, 1), num_classes: int = 10):
    """The recipe's architecture in PyTorch, layer for layer as zoo builds it (initialization aside)."""
    import torch
    from torch import nn

    stack = recipe.stack
    activations = {"elu": nn.ELU, "selu": nn.SELU, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
                   "gelu": nn.GELU, "swish": nn.SiLU}
    if stack.activation not in activations:
        raise RecipeError(f"stack.activation = {stack.activation!r} has no PyTorch twin here; "
                          f"allowed: {', '.join(activations)}")
    if stack.bn_position != "before":
        raise RecipeError("stack.bn_position = 'after' has no PyTorch twin here; allowed: before")

    def finish(layers: list, features: int, dims: int) -> list:
        if stack.batch_norm:
            layers.append(nn.BatchNorm2d(features) if dims == 2 else nn.BatchNorm1d(features))
        layers.append(activations[stack.activation]())
        return layers

    def dropout() -> list:
        if not stack.dropout:
            return []
        return [nn.AlphaDropout(stack.dropout) if stack.dropout_kind == "alpha" else nn.Dropout(stack.dropout)]

    height, width, channels = input_shape
    layers: list = []
    if recipe.model.kind == "cnn":
        for filters in recipe.model.filters:
            for _ in range(recipe.model.convs_per_block):
                layers.append(nn.Conv2d(channels, filters, recipe.model.kernel_size, padding="same", bias=not stack.batch_norm))
                finish(layers, filters, 2)
                channels = filters
            layers.append(nn.MaxPool2d(2))
            layers += dropout()
            height, width = height // 2, width // 2
    layers.append(nn.Flatten())
    features = height * width * channels
    for units in recipe.model.hidden:
        layers.append(nn.Linear(features, units, bias=not stack.batch_norm))
        finish(layers, units, 1)
        layers += dropout()
        features = units
    layers.append(nn.Linear(features, num_classes))  # logits; cross_entropy applies the softmax
    return nn.Sequential(*layers), torch


def torch_epoch(recipe: Recipe, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """A function that trains one pass over `(x, y)` with a hand-written PyTorch eager loop (Adam)."""
    model, torch = torch_network(recipe)
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    # NCHW for conv nets, as PyTorch wants; contiguous tensors so batches are plain slices.
    inputs = torch.from_numpy(np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)) if recipe.model.kind == "cnn" else x))
    labels = torch.from_numpy(y.astype(np.int64))
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.train.learning_rate)
    batch = recipe.train.batch_size
    loss_fn = torch.nn.functional.cross_entropy
    model.train()

    def epoch():
        order = torch.randperm(len(inputs))
        shuffled_x, shuffled_y = inputs[order], labels[order]
        for start in range(0, len(inputs), batch):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(shuffled_x[start:start + batch]), shuffled_y[start:start + batch])
            loss.backward()
            optimizer.step()

    return epoch


def _available(module: str) -> str | None:
    """None when `module` imports in a fresh interpreter, else why not (one line)."""
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    if probe.returncode == 0:
        return None
    lines = probe.stderr.strip().splitlines()
    return lines[-1] if lines else f"import {module} failed"


def measure_jax(recipe: Recipe, examples: int = 16384, rounds: int = 1) -> list[float]:
    """zoo's path under KERAS_BACKEND=jax: `rounds` timings after one warm-up, in a subprocess.

    Keras fixes its backend once per process, so these timings run back to back in their own
    process rather than alternating with the others.
    """
    code = ("import json, sys, zoo; from zoo.speed import training_arrays, keras_epoch, examples_per_second; "
            "recipe = zoo.get_recipe(json.loads(sys.argv[1])); x, y = training_arrays(recipe, int(sys.argv[2])); "
            "epoch = keras_epoch(recipe, 'zoo', x, y); epoch(); "
            "print(json.dumps([examples_per_second(epoch, len(x)) for _ in range(int(sys.argv[3]))]))")
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    with _recipe_file(recipe) as path:
        done = subprocess.run([sys.executable, "-c", code, json.dumps(str(path)), str(examples), str(rounds)],
                              capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "the jax run failed")
    return [float(rate) for rate in json.loads(done.stdout.strip().splitlines()[-1])]


class _recipe_file:
    """A temporary TOML file holding `recipe`, for a subprocess to read."""

    def __init__(self, recipe: Recipe):
        import tempfile

        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / f"{recipe.name}.toml"
        self.path.write_text(recipe.to_toml())

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc):
        self.folder.cleanup()


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


def time_to_accuracy(recipe: Recipe | str = "fashion_mlp", target: float = 0.88, max_epochs: int = 15,
                     variant: str = "zoo", time_limit: float | None = None) -> dict[str, Any]:
    """Seconds (and epochs) of training until validation accuracy first reaches `target`.

    "zoo" trains on zoo's pipelines with the recipe's compile settings; "keras" trains the same
    network with Keras defaults on numpy arrays. Both validate once per epoch on the same split.
    Training stops at the target, after `max_epochs`, or at the first epoch end past
    `time_limit` seconds; "seconds" is None when the target was not reached.
    """
    recipe = recipe if isinstance(recipe, Recipe) else get_recipe(recipe)
    splits = load(recipe.dataset, recipe.train.batch_size, recipe.validation_size)
    keras.utils.set_random_seed(recipe.train.seed)
    clock = _ClockToTarget(target, time_limit)
    if variant == "zoo":
        model = build(recipe)
        fit_fast(model, splits.train, examples=splits.sizes["train"], batch_size=splits.batch_size,
                 validation_data=splits.validation, epochs=max_epochs, verbose=0, callbacks=[clock])
    else:
        model = plain_keras_model(recipe)
        (x, y), validation = splits.arrays["train"], splits.arrays["validation"]
        model.fit(x, y, batch_size=recipe.train.batch_size, validation_data=validation, epochs=max_epochs, verbose=0,
                  callbacks=[clock])
    test = model.evaluate(splits.test, verbose=0, return_dict=True)["accuracy"]
    return {"variant": variant, "target": target, "seconds": clock.seconds, "epochs": clock.epochs,
            "seconds_run": round(clock.elapsed, 1), "time_limit": time_limit, "test_accuracy_at_stop": float(test)}


# --- The experiment -----------------------------------------------------------------------------


def speed_experiment(out_dir: str | Path = Path("benchmarks/results/speed"), recipes: tuple[str, ...] = (
        "fashion_mlp", "fashion_deep_mlp", "fashion_selu", "fashion_cnn"), rounds: int = 5, examples: int = 8192,
        cnn_examples: int = 1024, accuracy_target: float = 0.88, keras_time_factor: float = 2.0) -> dict[str, Any]:
    """Measure every variant for every recipe, `rounds` times alternating; write results and a report.

    Each variant's network is built and warmed up once per recipe; the timed passes then
    alternate (zoo, Keras, PyTorch, zoo, Keras, ...) so a slow spell of a shared machine hits
    every variant alike. The JAX timings run in their own process, back to back. The plain
    Keras run to the accuracy target is cut off at `keras_time_factor` times zoo's time.
    """
    out_dir = Path(out_dir)
    started = time.perf_counter()
    say = lambda text: print(f"[{time.perf_counter() - started:5.0f} s] {text}", flush=True)
    skipped = {name: why for name, why in (("torch", _available("torch")), ("jax", _available("jax"))) if why}
    peak = statistics.median(matmul_peak() for _ in range(3))
    say(f"matmul peak: {peak:.1f} GFLOP/s; skipped: {skipped or 'none'}")
    rows = []
    for name in recipes:
        recipe = get_recipe(name)
        count = cnn_examples if recipe.model.kind == "cnn" else examples
        x, y = training_arrays(recipe, count)
        flops = training_flops_per_example(build(recipe))
        failures: dict[str, str] = {}
        epochs: dict[str, Callable[[], None]] = {}
        for variant in ("zoo", "keras", "torch"):
            if variant in skipped:
                continue
            try:
                epoch = torch_epoch(recipe, x, y) if variant == "torch" else keras_epoch(recipe, variant, x, y)
                epoch()  # warm-up: tracing, XLA compilation, caches, allocator
            except RecipeError as error:  # e.g. an activation with no PyTorch twin
                failures[variant] = str(error)
                continue
            epochs[variant] = epoch
        rates: dict[str, list[float]] = {variant: [] for variant in epochs}
        for round_number in range(rounds):
            for variant, epoch in epochs.items():
                rates[variant].append(examples_per_second(epoch, count))
            say(f"{name} round {round_number + 1}: " + ", ".join(f"{v} {r[-1]:,.0f}" for v, r in rates.items()) + " examples/s")
        if "jax" not in skipped:
            try:
                rates["jax"] = measure_jax(recipe, count, rounds)
                say(f"{name} jax: " + ", ".join(f"{rate:,.0f}" for rate in rates["jax"]) + " examples/s")
            except RuntimeError as error:
                failures["jax"] = str(error)
        medians = {v: statistics.median(values) for v, values in rates.items()}
        rows.append({
            "recipe": name, "batch_size": recipe.train.batch_size, "examples_per_timing": count,
            "steps_per_execution": recipe.train.steps_per_execution, "jit_compile": recipe.train.jit_compile,
            "xla": resolve_jit_compile(recipe), "training_flops_per_example": flops, "examples_per_second": rates,
            "median_examples_per_second": medians,
            "zoo_vs_keras": medians["zoo"] / medians["keras"],
            "zoo_vs_torch": medians["zoo"] / medians["torch"] if "torch" in medians else None,
            "jax_vs_zoo": medians["jax"] / medians["zoo"] if "jax" in medians else None,
            "zoo_gflops": medians["zoo"] * flops / 1e9, "zoo_fraction_of_peak": medians["zoo"] * flops / 1e9 / peak,
            "failures": failures,
        })
        del epochs  # free the networks before the next recipe
    clock = [time_to_accuracy("fashion_mlp", accuracy_target, variant="zoo")]
    limit = keras_time_factor * (clock[0]["seconds"] if clock[0]["seconds"] is not None else clock[0]["seconds_run"])
    clock.append(time_to_accuracy("fashion_mlp", accuracy_target, variant="keras", time_limit=limit))
    for row in clock:
        say(f"fashion_mlp to validation {accuracy_target}: {row['variant']} "
            f"{row['seconds'] if row['seconds'] is not None else 'not reached'} s, {row['epochs']} epochs")
    results = {"experiment": "speed", "cpu_count": os.cpu_count(), "matmul_peak_gflops": peak, "rounds": rounds,
               "skipped": skipped, "rows": rows, "time_to_accuracy": clock, "keras_time_factor": keras_time_factor,
               "seconds": round(time.perf_counter() - started), "versions": {**versions(), **_other_versions()},
               "date": time.strftime("%Y-%m-%d")}
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "results.json", results)
    report = speed_report(results)
    atomic_write(out_dir / "report.md", lambda tmp: tmp.write_text(report))
    print(report)
    return results


def _other_versions() -> dict[str, str]:
    found = {}
    for module in ("torch", "jax"):
        probe = subprocess.run([sys.executable, "-c", f"import {module}; print({module}.__version__)"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            found[module] = probe.stdout.strip()
    return found


def speed_report(results: dict[str, Any]) -> str:
    """The Markdown report: one row per recipe, ratios, and how close zoo gets to the matmul peak."""
    ratio = lambda value: f"{value:.2f}x" if value is not None else "-"
    rate = lambda row, v: f"{row['median_examples_per_second'][v]:,.0f}" if v in row["median_examples_per_second"] else "-"
    lines = [
        "# Training speed: zoo vs plain Keras fit vs hand-written PyTorch (2-core CPU)",
        "",
        f"Training examples per second, median of {results['rounds']} rounds; in each round zoo, Keras and PyTorch "
        "train one timed pass in turn, after one warm-up pass each; same network, same data, same batch size (the "
        "recipe's) and the same machine in one invocation. zoo = `zoo.build` on zoo's tf.data pipeline with the "
        "recipe's `steps_per_execution` and `jit_compile` (XLA column: what \"auto\" resolved to); Keras = the same "
        "network compiled with Keras defaults, `fit(x, y)` on numpy arrays; PyTorch = the same layers in an eager loop "
        "over pre-shuffled tensors, Adam; JAX = zoo's path under `KERAS_BACKEND=jax`, timed in its own process right "
        "after the others (Keras picks its backend once per process). "
        f"Matmul peak (2048x2048 float32, TensorFlow, median of 3): {results['matmul_peak_gflops']:.1f} GFLOP/s.",
        "",
        "| recipe | batch | XLA | zoo | Keras fit | PyTorch eager | JAX | zoo / Keras | zoo / PyTorch | JAX / zoo | zoo GFLOP/s (of peak) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['recipe']} | {row['batch_size']} | {'on' if row['xla'] is True else 'off' if row['xla'] is False else 'Keras'} | "
            f"{rate(row, 'zoo')} | {rate(row, 'keras')} | {rate(row, 'torch')} | "
            f"{rate(row, 'jax')} | {ratio(row['zoo_vs_keras'])} | {ratio(row['zoo_vs_torch'])} | {ratio(row['jax_vs_zoo'])} | "
            f"{row['zoo_gflops']:.1f} ({row['zoo_fraction_of_peak']:.0%}) |")
    for name, why in results["skipped"].items():
        lines += ["", f"{name} was not measured: {why}."]
    for row in results["rows"]:
        for variant, why in row["failures"].items():
            lines += ["", f"{row['recipe']}: {variant} failed: {why}."]
    clock = {row["variant"]: row for row in results["time_to_accuracy"]}
    def shown(row):
        if row["seconds"] is not None:
            return f"{row['seconds']:.0f} s ({row['epochs']} epochs)"
        limit = row.get("time_limit")
        cut = f" (stopped at its {limit:.0f} s limit, {results['keras_time_factor']:g}x zoo's time)" if limit and row["seconds_run"] > limit else ""
        return f"not reached in {row['epochs']} epochs, {row['seconds_run']:.0f} s{cut}"

    lines += [
        "",
        f"Time to {clock['zoo']['target']:g} validation accuracy, fashion_mlp (validation once per epoch): zoo "
        f"{shown(clock['zoo'])}, test accuracy {clock['zoo']['test_accuracy_at_stop']:.4f} there; plain Keras fit "
        f"{shown(clock['keras'])}, test accuracy {clock['keras']['test_accuracy_at_stop']:.4f}.",
        "",
        f"Regenerate: `zoo experiment speed` ({results['seconds']} s on this run's machine: {results['cpu_count']} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in results["versions"].items() if k in ("keras", "tensorflow", "torch", "jax")) + ").",
        "",
    ]
    return "\n".join(lines)
