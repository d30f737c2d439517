"""The speed experiment's contestants: the same network as plain Keras, PyTorch and JAX, and their clocks.

Each `*_epoch` function builds its network once and returns a function that trains one pass, so
the caller can warm up (trace, compile, fill caches) with the first call and time the later
ones. torch and jax are optional: they are imported only inside the functions that need them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.data.builtin import load
from zoo.errors import RecipeError
from zoo.experiments.jax_entry import jax_process
from zoo.experiments.torch_twin import torch_inputs, torch_network
from zoo.nets.network import build, leaf_layers
from zoo.recipes.recipe import Recipe
from zoo.training.fastpath import fit_fast
from zoo.training.pipelines import pipeline

VARIANTS = ("zoo", "keras", "expert", "torch", "jax")


def matmul_peak(size: int = 2048, repeats: int = 20) -> float:
    """GFLOP/s of a float32 `size` x `size` matmul in TensorFlow: the machine's practical peak.

    Examples:
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

    Examples:
        >>> net = keras.Sequential([keras.Input((784,)), keras.layers.Dense(100), keras.layers.Dense(10)])
        >>> training_flops_per_example(net)
        476400.0
    """
    multiply_adds = 0
    sizes = _conv_output_sizes(model)
    for layer in leaf_layers(model):
        if isinstance(layer, keras.layers.Dense):
            multiply_adds += int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Conv2D):
            height, width = sizes[id(layer)]  # every output position applies the whole kernel
            multiply_adds += int(height * width * np.prod(layer.kernel.shape))
    return 3.0 * 2.0 * multiply_adds


def _conv_output_sizes(model: keras.Model) -> dict[int, tuple[int, int]]:
    """Each Conv2D's output height and width, by id, read from one forward pass on a zero image.

    A conv inside a residual block is called by the block, not by the functional graph, so its
    symbolic `output` has no spatial shape (None x None): the pass records what each one returns.
    """
    convs = [layer for layer in leaf_layers(model) if isinstance(layer, keras.layers.Conv2D)]
    sizes: dict[int, tuple[int, int]] = {}
    for conv in convs:

        def recorded(*args, _conv=conv, _call=conv.call, **kwargs):
            out = _call(*args, **kwargs)
            sizes[id(_conv)] = (int(out.shape[1]), int(out.shape[2]))
            return out

        conv.call = recorded  # this instance only; the class's `call` is back after the pass
    try:
        if convs:
            model(np.zeros((1, *model.input_shape[1:]), "float32"), training=False)
    finally:
        for conv in convs:
            del conv.call
    return sizes


def training_arrays(recipe: Recipe, examples: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `examples` training examples of the recipe's dataset (repeated if it holds fewer)."""
    splits = load(recipe.dataset, recipe.validation_size)
    x, y = splits.arrays["train"]
    reps = int(np.ceil(examples / len(x)))
    return np.concatenate([x] * reps)[:examples], np.concatenate([y] * reps)[:examples]


def plain_keras_model(recipe: Recipe, expert: bool = False) -> keras.Model:
    """zoo's network for `recipe`, recompiled with Keras defaults: one step per call, jit "auto".

    With `expert`, compiled the way an expert would without zoo: `steps_per_execution` 32 and
    XLA where zoo uses it (the same jit_compile as zoo's model).
    """
    model = build(recipe)
    tuned = {"steps_per_execution": 32, "jit_compile": model.jit_compile} if expert else {}
    model.compile(
        optimizer=type(model.optimizer).from_config(model.optimizer.get_config()),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        **tuned,
    )
    return model


class TrainingClock(keras.callbacks.Callback):
    """Seconds from the start of `fit` to the end of its last training batch.

    What a timed `fit` call should count. On a 2-core machine TensorFlow 2.21's tf.data
    sometimes holds `fit` up *after* the last batch, while it tears down the epoch's iterator:
    the call then ends on a fixed tick (measured: 1,024 fashion_cnn images trained in 0.75-0.80 s,
    the call returning at 1.275-1.282 s; with `tf.data.Options().autotune.enabled = False` the
    hold-up never appears). Whole-call timings of short passes read that tick, not the training
    speed, and hit every Keras variant alike; this clock leaves it out.
    """

    seconds: float | None = None

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds = time.perf_counter() - self.started


def keras_epoch(recipe: Recipe, variant: str, x: np.ndarray, y: np.ndarray) -> Callable[[], float | None]:
    """A function that trains one pass over `(x, y)` and returns its training seconds (`TrainingClock`):
    zoo's path ("zoo"), a plain Keras fit with Keras defaults ("keras"), or an expert's plain fit on
    numpy arrays ("expert", see `plain_keras_model`).

    The network is built once; every call continues training it, so a caller can warm up
    (trace, compile, fill caches) with the first call and time the later ones.
    """
    batch = recipe.train.batch_size
    keras.utils.set_random_seed(0)
    if variant == "zoo":
        model = build(recipe)
        data = pipeline(x, y, batch, shuffle=True, seed=0)
        train = lambda clock: fit_fast(
            model, data, examples=len(x), batch_size=batch, epochs=1, verbose=0, callbacks=[clock]
        )
    elif variant in ("keras", "expert"):
        model = plain_keras_model(recipe, expert=variant == "expert")
        train = lambda clock: model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=[clock])
    else:
        raise RecipeError(f"variant = {variant!r} is not allowed; expected one of zoo, keras, expert")

    def epoch() -> float | None:
        clock = TrainingClock()
        train(clock)
        return clock.seconds

    return epoch


def examples_per_second(epoch: Callable[[], float | None], examples: int) -> float:
    """Time one call of `epoch` (which trains `examples` examples) and return examples per second.

    An `epoch` that returns its own training seconds (the Keras variants, `keras_epoch`) is
    taken at its word; one that returns None (the PyTorch loop) is timed from outside.
    """
    started = time.perf_counter()
    seconds = epoch()
    return examples / (seconds if seconds is not None else time.perf_counter() - started)


def alternate(
    epochs: dict[str, Callable[[], float | None]], examples: int, rounds: int, label: str, say=print
) -> dict[str, list[float]]:
    """Examples per second of each warmed-up `epochs` variant, `rounds` times, taking turns.

    Taking turns within one process is what lets a ratio of two variants hold on a busy machine: a
    slowdown from another job lands on both of a round's timings, not on one variant's whole series.

    Examples:
        >>> rates = alternate({"a": lambda: 0.5, "b": lambda: 0.25}, 100, 2, "demo", say=lambda line: None)
        >>> rates
        {'a': [200.0, 200.0], 'b': [400.0, 400.0]}
    """
    rates: dict[str, list[float]] = {variant: [] for variant in epochs}
    for round_number in range(rounds):
        for variant, epoch in epochs.items():
            rates[variant].append(examples_per_second(epoch, examples))
        say(
            f"{label} round {round_number + 1}: "
            + ", ".join(f"{v} {r[-1]:,.0f}" for v, r in rates.items())
            + " examples/s"
        )
    return rates


def torch_epoch(recipe: Recipe, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """A function that trains one pass over `(x, y)` with a hand-written PyTorch eager loop (Adam)."""
    model, torch = torch_network(recipe)
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    inputs = torch_inputs(recipe, x)
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
            loss = loss_fn(model(shuffled_x[start : start + batch]), shuffled_y[start : start + batch])
            loss.backward()
            optimizer.step()

    return epoch


def available(module: str) -> str | None:
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
    code = (
        "import json, sys, zoo; from zoo.experiments.twins import training_arrays, keras_epoch, examples_per_second; "
        "recipe = zoo.get_recipe(json.loads(sys.argv[1])); x, y = training_arrays(recipe, int(sys.argv[2])); "
        "epoch = keras_epoch(recipe, 'zoo', x, y); epoch(); "
        "print(json.dumps([examples_per_second(epoch, len(x)) for _ in range(int(sys.argv[3]))]))"
    )
    with _recipe_file(recipe) as path:
        rates = jax_process(["-c", code, json.dumps(str(path)), str(examples), str(rounds)])
    return [float(rate) for rate in rates]


class _recipe_file:
    """A temporary TOML file holding `recipe`, for a subprocess to read."""

    def __init__(self, recipe: Recipe):
        self.folder = tempfile.TemporaryDirectory()
        self.path = Path(self.folder.name) / f"{recipe.name}.toml"
        self.path.write_text(recipe.to_toml())

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc):
        self.folder.cleanup()
