"""Greedy layer-wise unsupervised pretraining: RBMs (contrastive divergence) and denoising autoencoders.

Before the default stack, deep sigmoid nets were made trainable this way (Hinton, Osindero & Teh
2006; Bengio et al. 2007; Vincent et al. 2008): learn one layer at a time to model its input,
without labels; feed that layer's hidden representation to the next; then copy the learned
weights and hidden biases into an MLP and fine-tune the whole net with backpropagation.

The layer models themselves (the CD-k and denoising updates, written out) live in
`zoo.training.unsupervised`; this module stacks them, fits a recipe's MLP and writes the results.

Examples:
    >>> import numpy as np
    >>> x = (np.random.default_rng(0).random((500, 20)) < 0.3).astype("float32")
    >>> stack = pretrain_layers(x, [16, 8], method="rbm", layer_epochs=2, verbose=False)
    >>> [kernel.shape for kernel, bias in stack.layers]
    [(20, 16), (16, 8)]
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo.errors import RecipeError
from zoo.nets.network import leaf_layers
from zoo.recipes.keys import PRETRAIN_METHODS as METHODS
from zoo.recipes.recipe import check_pretrain_activation
from zoo.recipes.schema import unknown_word_error
from zoo.reports.plots import filters_figure
from zoo.reports.records import save_figure, write_json
from zoo.training.unsupervised import RBM, DenoisingAutoencoder, as_matrix, check_setting


@dataclass
class PretrainedLayers:
    """The result of greedy pretraining: one (kernel, bias) per hidden layer, and how it went."""

    method: str
    layers: list[tuple[np.ndarray, np.ndarray]]
    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def sizes(self) -> list[int]:
        return [kernel.shape[1] for kernel, _ in self.layers]


def pretrain_layers(
    x,
    hidden: Sequence[int],
    method: str = "rbm",
    *,
    activation: str = "sigmoid",
    init: str = "scaled_normal",
    layer_epochs: int = 5,
    layer_learning_rate: float = 0.05,
    layer_batch_size: int = 64,
    cd_k: int = 1,
    noise: float = 0.2,
    momentum: float = 0.5,
    weight_decay: float = 2e-4,
    seed: int = 0,
    verbose: bool = True,
) -> PretrainedLayers:
    """Greedy layer-wise pretraining of `hidden` layers on unlabeled `x`.

    Each layer (an RBM, or a denoising autoencoder with the MLP's `activation` and `init`)
    trains on the previous layer's hidden representation of the data (the RBM's hidden
    probabilities, the autoencoder's clean code). Labels are never used.

    Examples:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((300, 10)).astype("float32")
        >>> pretrain_layers(x, [8, 4], method="dae", layer_epochs=1, verbose=False).sizes
        [8, 4]
    """
    if method not in METHODS[1:]:
        raise unknown_word_error("pretrain.method", method, METHODS[1:])
    check_pretrain_activation(method, activation)
    if isinstance(hidden, (str, bytes)) or not hidden:
        raise RecipeError(f"hidden = {hidden!r} is not allowed; expected a list of layer sizes, each an integer >= 1")
    for index, units in enumerate(hidden):
        check_setting(f"hidden[{index}]", units)
    check_setting("pretrain.layer_epochs", layer_epochs)
    inputs = as_matrix(x)
    started = time.perf_counter()
    layers, history = [], []
    for index, units in enumerate(hidden):
        if verbose:
            print(f"pretraining layer {index + 1}/{len(hidden)} ({method}, {inputs.shape[1]} -> {units})", flush=True)
        common = dict(
            learning_rate=layer_learning_rate, momentum=momentum, weight_decay=weight_decay, seed=seed * 1000 + index
        )
        if method == "rbm":
            unit = RBM(inputs.shape[1], units, cd_k=cd_k, **common)
        else:
            unit = DenoisingAutoencoder(inputs.shape[1], units, activation=activation, init=init, noise=noise, **common)
        record = unit.fit(inputs, layer_epochs, layer_batch_size, verbose)
        layers.append((unit.weights.numpy(), unit.hidden_bias.numpy()) if method == "rbm" else unit.kernel_and_bias)
        history.append({"layer": index + 1, "inputs": int(inputs.shape[1]), "units": units, **record})
        inputs = unit.transform(inputs)
    return PretrainedLayers(method, layers, history, round(time.perf_counter() - started, 2))


def pretrain_recipe(recipe, x, verbose: bool = True) -> PretrainedLayers:
    """Pretrain the hidden layers of `recipe`'s MLP on unlabeled `x`, as its [pretrain] section says.

    Examples:
        >>> import zoo, numpy as np
        >>> recipe = zoo.get_recipe("fashion_mlp", hidden=[16], batch_norm=False, activation="sigmoid", method="rbm",
        ...                         layer_epochs=1)
        >>> pretrain_recipe(recipe, np.random.rand(200, 28, 28, 1), verbose=False).sizes
        [16]
    """
    settings = recipe.pretrain
    if settings.method == "none":
        raise RecipeError(f"{recipe.name}: pretrain.method = 'none'; set it to 'rbm' or 'dae' to pretrain")
    return pretrain_layers(
        x,
        list(recipe.model.hidden),
        settings.method,
        activation=recipe.stack.activation,
        init=recipe.stack.init,
        layer_epochs=settings.layer_epochs,
        layer_learning_rate=settings.layer_learning_rate,
        layer_batch_size=settings.layer_batch_size,
        cd_k=settings.cd_k,
        noise=settings.noise,
        momentum=settings.momentum,
        weight_decay=settings.weight_decay,
        seed=recipe.train.seed,
        verbose=verbose,
    )


def hidden_dense_layers(model: keras.Model) -> list[keras.layers.Dense]:
    """The Dense layers of `model` below its output layer, input side first."""
    dense = [layer for layer in leaf_layers(model) if isinstance(layer, keras.layers.Dense)]
    return dense[:-1]


def load_into(model: keras.Model, pretrained: PretrainedLayers) -> keras.Model:
    """Copy pretrained kernels and biases into `model`'s hidden Dense layers (in place); return it.

    The output layer keeps its fresh initialization: fine-tuning trains it with the rest.

    Examples:
        >>> import zoo, numpy as np
        >>> model = zoo.baseline(zoo.get_recipe("fashion_mlp", hidden=[16]))
        >>> stack = pretrain_layers(np.random.rand(100, 784), [16], layer_epochs=1, verbose=False)
        >>> np.array_equal(load_into(model, stack).get_layer("hidden_1").layers[0].kernel.numpy(), stack.layers[0][0])
        True
    """
    targets = hidden_dense_layers(model)
    shapes = [tuple(layer.kernel.shape) for layer in targets]
    wanted = [kernel.shape for kernel, _ in pretrained.layers]
    if shapes != wanted:
        raise RecipeError(
            f"the pretrained layers {pretrained.sizes} (kernels {wanted}) do not match the model's hidden Dense layers "
            f"{[shape[1] for shape in shapes]} (kernels {shapes}); pretrain with the model's own model.hidden"
        )
    for layer, (kernel, bias) in zip(targets, pretrained.layers):
        if not layer.use_bias:
            raise RecipeError(
                f"layer {layer.path} has no bias (it is followed by BatchNorm); pretraining sets kernels "
                "and biases: use stack.batch_norm = false"
            )
        layer.kernel.assign(kernel)
        layer.bias.assign(bias)
    return model


def write_pretraining(pretrained: PretrainedLayers, folder: str | Path) -> dict[str, Path]:
    """Write `pretrain.json` (per-layer history) and, when the inputs are square images, `filters.png`.

    Examples:
        >>> import numpy as np
        >>> stack = pretrain_layers(np.random.rand(100, 64), [16], layer_epochs=1, verbose=False)
        >>> sorted(write_pretraining(stack, "/tmp/zoo-pretrain-example"))
        ['filters', 'pretrain']
    """
    folder = Path(folder)
    paths = {"pretrain": folder / "pretrain.json"}
    write_json(
        paths["pretrain"],
        {
            "method": pretrained.method,
            "sizes": pretrained.sizes,
            "seconds": pretrained.seconds,
            "layers": pretrained.history,
        },
    )
    first_kernel = pretrained.layers[0][0]
    if math.isqrt(first_kernel.shape[0]) ** 2 == first_kernel.shape[0]:  # 784 = 28 x 28, 64 = 8 x 8
        paths["filters"] = folder / "filters.png"
        save_figure(filters_figure(first_kernel, f"{pretrained.method}: first-layer filters"), paths["filters"])
    return paths
