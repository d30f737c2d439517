"""zoo's recipes as PyTorch programs: the same layers, initialization, schedule, averaging and shifts.

The leaderboard's and the speed experiment's third contestant, and the accelerator experiment's
second framework. It imports no TensorFlow (the accelerator machine has none) and torch only inside
its functions: torch is optional.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

import numpy as np

from zoo.errors import RecipeError
from zoo.nets.shapes import cnn_plan
from zoo.recipes.keys import EMA_MOMENTUM
from zoo.recipes.recipe import Recipe

PRECISIONS = ("float32", "bfloat16")


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
        model = recipe.model
        paddings, (height, width) = cnn_plan(model, input_shape)
        for filters, stage in zip(model.filters, paddings, strict=True):
            for index, padding in enumerate(stage):
                conv = nn.Conv2d(channels, filters, model.kernel_size, padding=padding, bias=not stack.batch_norm)
                layers.append(conv)
                if model.pool_first and index == len(stage) - 1:  # zoo's conv_block: pool, then normalize
                    layers.append(nn.MaxPool2d(2))
                finish(layers, filters, 2)
                channels = filters
            if not model.pool_first:
                layers.append(nn.MaxPool2d(2))
            layers += dropout()
    layers.append(nn.Flatten())
    features = height * width * channels
    for units in recipe.model.hidden:
        layers.append(nn.Linear(features, units, bias=not stack.batch_norm))
        finish(layers, units, 1)
        layers += dropout()
        features = units
    layers.append(nn.Linear(features, num_classes))  # logits; cross_entropy applies the softmax
    return nn.Sequential(*layers), torch


def torch_inputs(recipe: Recipe, x: np.ndarray):
    """`x` as a contiguous torch tensor, NCHW for conv nets as PyTorch wants (so batches are plain slices).

    Examples:
        (Not run by the doctests: PyTorch is optional, and the test machine may lack it.)
        >>> import numpy as np, zoo                                    # doctest: +SKIP
        >>> torch_inputs(zoo.get_recipe("fashion_cnn"), np.zeros((2, 28, 28, 1), "float32")).shape   # doctest: +SKIP
        torch.Size([2, 1, 28, 28])
    """
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)) if recipe.model.kind == "cnn" else x))


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


def torch_train(
    recipe: Recipe, splits, seed: int = 0, device: str | None = None, precision: str = "float32"
) -> dict[str, float]:
    """Train the recipe's PyTorch twin the recipe's way; its test accuracy and training seconds.

    Same layers, initialization, optimizer, schedule, batch and epochs; the recipe's 1-pixel shifts
    drawn per image on the device; with train.ema the weights' moving average, shipped at the end. The
    clock holds training only. `device`: default "cuda" where there is a GPU, else "cpu". `precision`:
    "float32" or "bfloat16" (autocast: matmuls and convolutions in bfloat16, weights in float32).

    Examples:
        (Not run by the doctests: it needs PyTorch and Fashion-MNIST, which the test machine may lack.)
        >>> import zoo                                                             # doctest: +SKIP
        >>> recipe = zoo.get_recipe("fashion_cnn_tiny", epochs=1)                  # doctest: +SKIP
        >>> torch_train(recipe, zoo.load_data("fashion_mnist"), device="cuda")["test_accuracy"] > 0.8  # doctest: +SKIP
        True
    """
    if precision not in PRECISIONS:
        raise RecipeError(f"precision = {precision!r} is not allowed; allowed: {', '.join(PRECISIONS)}")
    model, torch = torch_network(recipe, splits.info.input_shape, splits.info.num_classes)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(seed)
    torch.set_num_threads(os.cpu_count() or 1)
    torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest convolution once
    _keras_initialization(model, torch)
    model.to(device)

    tensors = lambda split: (
        torch_inputs(recipe, splits.arrays[split][0]).to(device),
        torch.from_numpy(splits.arrays[split][1].astype(np.int64)).to(device),
    )
    inputs, labels = tensors("train")
    batch, train = recipe.train.batch_size, recipe.train
    optimizer, scheduler = _optimizer(recipe, model, torch, math.ceil(len(inputs) / batch))
    average = torch_ema(model) if train.ema else None
    shift = _shifter(recipe, splits.info.input_shape)
    generator = torch.Generator(device=device).manual_seed(seed)
    autocast = torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=precision == "bfloat16")
    _synchronize(torch, device)
    started = time.perf_counter()
    model.train()
    for _ in range(train.epochs):
        order = torch.randperm(len(inputs), device=device, generator=generator)
        for start in range(0, len(inputs), batch):
            index = order[start : start + batch]
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                logits = model(shift(inputs[index], generator))
            torch.nn.functional.cross_entropy(logits.float(), labels[index]).backward()
            optimizer.step()
            scheduler.step()
            if average is not None:
                average.update_parameters(model)
    if average is not None:  # ship the average, as Keras's fit does at its end
        torch.nn.utils.vector_to_parameters(
            torch.nn.utils.parameters_to_vector(average.module.parameters()), model.parameters()
        )
    _synchronize(torch, device)
    seconds = time.perf_counter() - started
    return {"test_accuracy": _accuracy(model, *tensors("test"), autocast, torch), "train_seconds": seconds}


def _accuracy(model, x, y, autocast, torch) -> float:
    """The share of `x` that `model` classifies as `y`, in batches of 1,000, in inference mode."""
    model.eval()
    with torch.no_grad(), autocast:
        predicted = torch.cat([model(x[i : i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
    return float((predicted == y).float().mean())


def _keras_initialization(model, torch) -> None:
    """He-normal weights and Keras's BatchNorm settings (momentum 0.99, i.e. PyTorch's 0.01; epsilon 1e-3)."""
    for layer in model.modules():
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        elif isinstance(layer, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            layer.momentum, layer.eps = 0.01, 1e-3


def _optimizer(recipe: Recipe, model, torch, steps_per_epoch: int):
    """The recipe's optimizer (Adam or AdamW at train.learning_rate) and its schedule, stepped once a batch."""
    optimizers = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if recipe.train.optimizer not in optimizers:
        raise RecipeError(
            f"train.optimizer = {recipe.train.optimizer!r} has no PyTorch twin here; allowed: adam, adamw"
        )
    optimizer = optimizers[recipe.train.optimizer](model.parameters(), lr=recipe.train.learning_rate)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, torch_schedule(recipe, steps_per_epoch))


def _synchronize(torch, device: str) -> None:
    """Wait for the GPU's queued work, so the clock reads finished work (CUDA runs asynchronously)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _shifter(recipe: Recipe, input_shape) -> Callable:
    """The recipe's augmentation for `torch_inputs` batches: identity, or random whole-pixel shifts per image.

    Only "crop" has a twin (the fashion_* recipes' 1-pixel shifts): pad by `pixels`, then crop
    back at an offset drawn per image, as `zoo.nets.layers.RandomShift` does, by two gathers.
    """
    words = list(recipe.regularization.augment)
    if not words:
        return lambda images, generator: images
    if words != ["crop"]:
        raise RecipeError(f"regularization.augment = {words!r} has no PyTorch twin here; allowed: [] or ['crop']")
    pixels = max(1, round(recipe.regularization.augment_amount * min(input_shape[:2])))

    channels_last = recipe.model.kind != "cnn"  # `torch_inputs` keeps an MLP's images NHWC

    def shift(images, generator):
        if channels_last:
            return shift_nchw(images.permute(0, 3, 1, 2), generator).permute(0, 2, 3, 1)
        return shift_nchw(images, generator)

    def shift_nchw(images, generator):
        import torch

        count, channels, height, width = images.shape
        padded = torch.nn.functional.pad(images, (pixels, pixels, pixels, pixels))
        offsets = torch.randint(0, 2 * pixels + 1, (count, 2), device=images.device, generator=generator)
        rows = offsets[:, :1] + torch.arange(height, device=images.device)  # (count, height)
        cols = offsets[:, 1:] + torch.arange(width, device=images.device)
        rows = rows.view(count, 1, height, 1).expand(count, channels, height, width + 2 * pixels)
        shifted = padded.gather(2, rows)
        return shifted.gather(3, cols.view(count, 1, 1, width).expand(count, channels, height, width))

    return shift


def torch_ema(model):
    """Keras's `use_ema` average in PyTorch: starts at the weights after the first step, then
    moves 1% of the way to them each step; buffers (BatchNorm's statistics) stay the net's own."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(EMA_MOMENTUM))
