"""Default-stack building blocks for people composing their own networks.

Each block is a small `keras.Sequential` (one hidden layer of a net, or one conv stage), so it
drops into a functional model, a Sequential model or a subclassed one, and it shows up as one
named unit in `model.summary()` and in per-layer diagnostics.

Examples:
    >>> import keras, zoo
    >>> net = keras.Sequential([keras.Input((20,)), zoo.dense_block(64), zoo.dense_block(64),
    ...                         keras.layers.Dense(3, activation="softmax")])
    >>> [layer.name for layer in net.layers[0].layers]
    ['dense', 'batch_norm', 'activation', 'dropout']
"""

from __future__ import annotations

import itertools

import keras

from zoo.errors import RecipeError
from zoo.nets.factories import get_activation, get_initializer
from zoo.nets.layers import AlphaDropout, Dropout
from zoo.nets.normalization import BatchNorm
from zoo.recipes.schema import Field, check_argument, count_field
from zoo.recipes.stacks import Stack, get_stack

# Kernel penalties and constraints that every block accepts besides the stack options.
REGULARIZATION_FIELDS = {
    "l1": Field(float, 0.0, "L1 penalty", minimum=0.0),
    "l2": Field(float, 0.0, "L2 penalty", minimum=0.0),
    "max_norm": Field(float, 0.0, "max-norm bound (0 = off)", minimum=0.0),
}


_block_counter = itertools.count(1)


def _unique_name(prefix: str) -> str:
    # Keras needs distinct names inside one model; builders pass their own ("hidden_3").
    return f"{prefix}_{next(_block_counter)}"


def _split_options(stack: str | Stack, options: dict) -> tuple[Stack, dict]:
    regularization = {key: options.pop(key) for key in list(options) if key in REGULARIZATION_FIELDS}
    regularization = {key: REGULARIZATION_FIELDS[key].check(key, value) for key, value in regularization.items()}
    seed = options.pop("seed", None)
    resolved = get_stack(stack).replace(**options)
    return resolved, {"seed": seed, **{k: regularization.get(k, 0.0) for k in REGULARIZATION_FIELDS}}


def kernel_extras(extras: dict) -> dict:
    """Keyword arguments for a Dense/Conv kernel: the L1/L2 penalty and max-norm bound in `extras`.

    Examples:
        >>> sorted(kernel_extras({"l1": 0.0, "l2": 1e-4, "max_norm": 0.0}).items(), key=str)[0][0]
        'kernel_constraint'
    """
    l1, l2, max_norm = extras["l1"], extras["l2"], extras["max_norm"]
    return {
        "kernel_regularizer": keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None,
        "kernel_constraint": keras.constraints.MaxNorm(max_norm) if max_norm else None,
    }


def _normalize_and_activate(stack: Stack, suffix: str = "") -> list:
    """[BatchNorm] -> activation, or activation -> [BatchNorm] with bn_position = "after".

    Ioffe & Szegedy (2015) normalize before the nonlinearity; normalizing after it is the
    common alternative, and which works better depends on the net.
    """
    activation = [get_activation(stack.activation, f"activation{suffix}", stack)]
    if not stack.batch_norm:
        return activation
    norm = [BatchNorm(name=f"batch_norm{suffix}")]
    return norm + activation if stack.bn_position == "before" else activation + norm


def dropout_layers(stack: Stack) -> list:
    """The stack's dropout as a list of layers: none, Dropout, or AlphaDropout for SELU stacks.

    Examples:
        >>> [type(layer).__name__ for layer in dropout_layers(get_stack("self_normalizing"))]
        ['AlphaDropout']
    """
    if stack.dropout == 0:
        return []
    if stack.dropout_kind == "alpha":
        # AlphaDropout keeps SELU's self-normalizing mean and variance; plain Dropout would not.
        return [AlphaDropout(stack.dropout, name="dropout")]
    return [Dropout(stack.dropout, name="dropout")]


def dense_block(units: int, stack: str | Stack = "default", name: str | None = None, **options) -> keras.Sequential:
    """One hidden dense layer built the `stack` way: Dense -> [BatchNorm] -> activation -> [Dropout].

    `options` override the stack (init, activation, batch_norm, dropout, dropout_kind) or add
    l1, l2, max_norm and seed. With BatchNorm the Dense has no bias: BN's beta does that job.

    Examples:
        >>> block = dense_block(100, dropout=0.5)
        >>> block.layers[-1].rate
        0.5
    """
    check_argument("units", units, count_field())
    stack, extras = _split_options(stack, dict(options))
    layers: list = [
        keras.layers.Dense(
            units,
            use_bias=not stack.batch_norm,
            kernel_initializer=get_initializer(stack.init, extras["seed"], stack.init_std),
            name="dense",
            **kernel_extras(extras),
        )
    ]
    layers += _normalize_and_activate(stack) + dropout_layers(stack)
    return keras.Sequential(layers, name=name or _unique_name("dense_block"))


def conv_block(
    filters: int,
    kernel_size: int = 3,
    convs: int = 2,
    pool: bool = True,
    stack: str | Stack = "default",
    name: str | None = None,
    pool_first: bool = False,
    padding: str | list[str] = "same",
    **options,
) -> keras.Sequential:
    """One conv stage: `convs` x (Conv2D -> [BatchNorm] -> activation), then 2x2 max-pool, then dropout.

    Same `options` as `dense_block`. `padding` is Keras's, for every conv or one per conv
    (`zoo.nets.shapes.conv_paddings` gives a net's). Dropout comes once, after pooling, as in most small
    conv nets: dropping inside a stage mostly slows learning. `pool_first` pools straight after the
    last conv, before its normalization and activation (airbench's order): max-pooling commutes with
    an increasing activation, and BatchNorm and the activation then run on a quarter of the values.

    Examples:
        >>> [layer.__class__.__name__ for layer in conv_block(32, convs=1, dropout=0.25).layers]
        ['Conv2D', 'BatchNorm', 'Activation', 'MaxPooling2D', 'Dropout']
        >>> [layer.__class__.__name__ for layer in conv_block(32, convs=1, dropout=0.25, pool_first=True).layers]
        ['Conv2D', 'MaxPooling2D', 'BatchNorm', 'Activation', 'Dropout']
    """
    for key, value in (("filters", filters), ("kernel_size", kernel_size), ("convs", convs)):
        check_argument(key, value, count_field())
    paddings = [padding] * convs if isinstance(padding, str) else list(padding)
    if len(paddings) != convs or not set(paddings) <= {"same", "valid"}:
        allowed = f"expected 'same', 'valid' or a list of {convs} of them"
        raise RecipeError(f"padding = {padding!r} is not allowed; {allowed}")
    stack, extras = _split_options(stack, dict(options))
    layers: list = []
    for index in range(convs):
        layers.append(
            keras.layers.Conv2D(
                filters,
                kernel_size,
                padding=paddings[index],
                use_bias=not stack.batch_norm,
                kernel_initializer=get_initializer(
                    stack.init, None if extras["seed"] is None else extras["seed"] + index, stack.init_std
                ),
                name=f"conv_{index + 1}",
                **kernel_extras(extras),
            )
        )
        if pool and pool_first and index == convs - 1:
            layers.append(keras.layers.MaxPooling2D(2, name="pool"))
        layers += _normalize_and_activate(stack, f"_{index + 1}")
    if pool and not pool_first:
        layers.append(keras.layers.MaxPooling2D(2, name="pool"))
    layers += dropout_layers(stack)
    return keras.Sequential(layers, name=name or _unique_name("conv_block"))


def residual_block(
    filters: int,
    input_channels: int,
    strides: int = 1,
    kernel_size: int = 3,
    stack: str | Stack = "default",
    name: str | None = None,
    **options,
) -> keras.Model:
    """One basic residual block (He et al. 2016): two convs on a path, added to a shortcut.

    Path: conv (`strides`) -> [BatchNorm] -> activation -> conv -> [BatchNorm]. Shortcut: the
    input itself, or a 1x1 conv (-> [BatchNorm]) when the stride or the width changes. The sum
    goes through the activation. A small functional model over (height, width,
    `input_channels`) inputs of any size, so it shows up as one named unit. Same `options` as
    `dense_block`; dropout is left to the network's head.

    Examples:
        >>> block = residual_block(32, input_channels=16, strides=2)
        >>> tuple(block(keras.ops.zeros((1, 8, 8, 16))).shape)
        (1, 4, 4, 32)
    """
    for key, value in (
        ("filters", filters),
        ("input_channels", input_channels),
        ("strides", strides),
        ("kernel_size", kernel_size),
    ):
        check_argument(key, value, count_field())
    stack, extras = _split_options(stack, dict(options))
    if stack.batch_norm and stack.bn_position != "before":
        raise ValueError("stack.bn_position = 'after' has no residual block here; allowed: before")
    seed = extras["seed"]

    def conv(width: int, size: int, step: int, index: int):
        return keras.layers.Conv2D(
            width,
            size,
            strides=step,
            padding="same",
            use_bias=not stack.batch_norm,
            name=f"conv_{index}",
            kernel_initializer=get_initializer(stack.init, None if seed is None else seed + index, stack.init_std),
            **kernel_extras(extras),
        )

    def normalized(x, index: int):
        return BatchNorm(name=f"batch_norm_{index}")(x) if stack.batch_norm else x

    inputs = keras.Input((None, None, input_channels))
    x = normalized(conv(filters, kernel_size, strides, 1)(inputs), 1)
    x = get_activation(stack.activation, "activation_1", stack)(x)
    x = normalized(conv(filters, kernel_size, 1, 2)(x), 2)
    shortcut = inputs
    if strides != 1 or filters != input_channels:
        shortcut = normalized(conv(filters, 1, strides, 3)(inputs), 3)
    x = keras.layers.Add(name="add")([x, shortcut])
    outputs = get_activation(stack.activation, "activation_2", stack)(x)
    return keras.Model(inputs, outputs, name=name or _unique_name("residual_block"))
