"""The speed experiment's contestants: the same network as plain Keras, PyTorch and JAX, and their clocks.

Each `*_epoch` function builds its network once and returns a function that trains one pass, so
the caller can warm up (trace, compile, fill caches) with the first call and time the later
ones. torch and jax are optional: they are imported only inside the functions that need them.
"""

from __future__ import annotations

import json
import math
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
from zoo.nets.network import build, leaf_layers
from zoo.recipes.keys import EMA_MOMENTUM
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
    for layer in leaf_layers(model):
        if isinstance(layer, keras.layers.Dense):
            multiply_adds += int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Conv2D):
            height, width = layer.output.shape[1:3]  # every output position applies the whole kernel
            multiply_adds += int(height * width * np.prod(layer.kernel.shape))
    return 3.0 * 2.0 * multiply_adds


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


def torch_network(recipe: Recipe, input_shape=(28, 28, 1), num_classes: int = 10):
    """The recipe's architecture in PyTorch, layer for layer as zoo builds it (initialization aside)."""
    import torch
    from torch import nn

    stack = recipe.stack
    if recipe.model.kind not in ("mlp", "cnn"):
        raise RecipeError(f"model.kind = {recipe.model.kind!r} has no PyTorch twin here; allowed: mlp, cnn")
    activations = {
        "elu": nn.ELU,
        "selu": nn.SELU,
        "relu": nn.ReLU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "gelu": nn.GELU,
        "swish": nn.SiLU,
    }
    if stack.activation not in activations:
        raise RecipeError(
            f"stack.activation = {stack.activation!r} has no PyTorch twin here; allowed: {', '.join(activations)}"
        )
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
                layers.append(
                    nn.Conv2d(channels, filters, recipe.model.kernel_size, padding="same", bias=not stack.batch_norm)
                )
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


def _torch_inputs(recipe: Recipe, x: np.ndarray):
    """`x` as a contiguous torch tensor, NCHW for conv nets as PyTorch wants (so batches are plain slices)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)) if recipe.model.kind == "cnn" else x))


def torch_epoch(recipe: Recipe, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """A function that trains one pass over `(x, y)` with a hand-written PyTorch eager loop (Adam)."""
    model, torch = torch_network(recipe)
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    inputs = _torch_inputs(recipe, x)
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


def torch_schedule(recipe: Recipe, steps_per_epoch: int) -> Callable[[int], float]:
    """The recipe's learning rate at each step, as a multiplier of train.learning_rate (constant or cosine).

    Mirrors `zoo.nets.network.learning_rate_schedule`: a linear warm-up from 0 over warmup_epochs,
    then a cosine decay to 0 over the remaining steps.

    Examples:
        >>> import zoo
        >>> rate = torch_schedule(zoo.get_recipe("fashion_mlp", schedule="cosine", epochs=2, warmup_epochs=1), 10)
        >>> [round(rate(step), 2) for step in (0, 5, 10, 15, 20)]
        [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    train = recipe.train
    if train.schedule == "constant":
        return lambda step: 1.0
    if train.schedule != "cosine":
        raise RecipeError(f"train.schedule = {train.schedule!r} has no PyTorch twin here; allowed: constant, cosine")
    warmup = steps_per_epoch * min(train.warmup_epochs, train.epochs - 1)
    decay = max(1, steps_per_epoch * train.epochs - warmup)

    def rate(step: int) -> float:
        if step < warmup:
            return step / warmup
        return 0.5 * (1 + math.cos(math.pi * min(step - warmup, decay) / decay))

    return rate


def torch_train(recipe: Recipe, splits, seed: int = 0) -> dict[str, float]:
    """Train the recipe's PyTorch twin the recipe's way; its test accuracy and training seconds.

    Same layers, He-normal weights, Keras's BatchNorm settings (momentum 0.99, epsilon 1e-3),
    Adam or AdamW at the recipe's rate and schedule, batch size and epochs, an eager loop over
    a fresh shuffle each epoch, and with train.ema the weights' moving average as Keras keeps it
    (trainable weights only, momentum `EMA_MOMENTUM`, written into the net at the end). No
    validation or early stopping: the clock holds training only.
    """
    model, torch = torch_network(recipe, splits.info.input_shape, splits.info.num_classes)
    torch.manual_seed(seed)
    torch.set_num_threads(os.cpu_count() or 1)
    for layer in model.modules():
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        elif isinstance(layer, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            layer.momentum, layer.eps = 0.01, 1e-3

    def tensors(split):
        x, y = splits.arrays[split]
        return _torch_inputs(recipe, x), torch.from_numpy(y.astype(np.int64))

    inputs, labels = tensors("train")
    batch, train = recipe.train.batch_size, recipe.train
    optimizers = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if train.optimizer not in optimizers:
        raise RecipeError(f"train.optimizer = {train.optimizer!r} has no PyTorch twin here; allowed: adam, adamw")
    optimizer = optimizers[train.optimizer](model.parameters(), lr=train.learning_rate)
    steps = math.ceil(len(inputs) / batch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, torch_schedule(recipe, steps))
    average = _torch_ema(model) if train.ema else None
    started = time.perf_counter()
    model.train()
    for _ in range(train.epochs):
        order = torch.randperm(len(inputs))
        for start in range(0, len(inputs), batch):
            index = order[start : start + batch]
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(inputs[index]), labels[index]).backward()
            optimizer.step()
            scheduler.step()
            if average is not None:
                average.update_parameters(model)
    if average is not None:
        torch.nn.utils.vector_to_parameters(
            torch.nn.utils.parameters_to_vector(average.module.parameters()), model.parameters()
        )
    seconds = time.perf_counter() - started
    model.eval()
    test_x, test_y = tensors("test")
    with torch.no_grad():
        predicted = torch.cat([model(test_x[i : i + 1000]).argmax(1) for i in range(0, len(test_x), 1000)])
    return {"test_accuracy": float((predicted == test_y).float().mean()), "train_seconds": seconds}


def _torch_ema(model):
    """Keras's `use_ema` average in PyTorch: starts at the weights after the first step, then
    moves 1% of the way to them each step; buffers (BatchNorm's statistics) stay the net's own."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(EMA_MOMENTUM))


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
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    with _recipe_file(recipe) as path:
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(str(path)), str(examples), str(rounds)],
            capture_output=True,
            text=True,
            env=env,
        )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "the jax run failed")
    return [float(rate) for rate in json.loads(done.stdout.strip().splitlines()[-1])]


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
