"""Word -> Keras object tables: the activation, initializer and optimizer each recipe word names.

Plain name -> class tables, as timm's ``create_act.py`` keeps them: adding an activation is one
row here and one word in `zoo.recipes.stacks.ACTIVATIONS` (a test checks the two agree). `zoo.recipes.stacks`
holds the words and imports no Keras; this module turns them into fresh Keras objects.

Examples:
    >>> get_activation("elu").get_config()["activation"]
    'elu'
    >>> type(get_initializer("he_normal")).__name__
    'HeNormal'
    >>> get_optimizer("nesterov", 0.01).nesterov
    True
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from zoo.errors import RecipeError
from zoo.nets.layers import RReLU
from zoo.recipes.keys import EMA_MOMENTUM
from zoo.recipes.stacks import STACK_FIELDS, STACKS, Stack

_PLAIN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "elu", "selu", "gelu", "swish")

# Each row makes a fresh layer from the stack's options and a layer name.
ACTIVATION_LAYERS: dict[str, Callable[[Stack, str | None], keras.layers.Layer]] = {
    **{word: (lambda stack, name, word=word: keras.layers.Activation(word, name=name)) for word in _PLAIN_ACTIVATIONS},
    "leaky_relu": lambda stack, name: keras.layers.LeakyReLU(negative_slope=stack.negative_slope, name=name),
    # He et al. 2015: one learned slope per unit, starting at 0.25.
    "prelu": lambda stack, name: keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25), name=name),
    "rrelu": lambda stack, name: RReLU(stack.rrelu_lower, stack.rrelu_upper, name=name),
}

# Each row makes a kernel initializer from a seed and the stack's init_std.
INITIALIZERS: dict[str, Callable[[int | None, float], keras.initializers.Initializer]] = {
    "he_normal": lambda seed, std: keras.initializers.HeNormal(seed=seed),
    "he_uniform": lambda seed, std: keras.initializers.HeUniform(seed=seed),
    "glorot_normal": lambda seed, std: keras.initializers.GlorotNormal(seed=seed),
    "glorot_uniform": lambda seed, std: keras.initializers.GlorotUniform(seed=seed),
    "lecun_normal": lambda seed, std: keras.initializers.LecunNormal(seed=seed),
    "lecun_uniform": lambda seed, std: keras.initializers.LecunUniform(seed=seed),
    # The baseline's N(0, 1/fan_in): the "small random init" of Nielsen's network2.py,
    # std = sqrt(scale / fan_in) with scale 1, not truncated.
    "scaled_normal": lambda seed, std: keras.initializers.VarianceScaling(
        1.0, "fan_in", "untruncated_normal", seed=seed
    ),
    "random_normal": lambda seed, std: keras.initializers.RandomNormal(0.0, std, seed=seed),
}

# Optimizer class and the fixed arguments each word adds. `sgd` is plain SGD without momentum
# (the baseline's); `momentum` is SGD with momentum 0.9; `nesterov` adds Nesterov's look-ahead.
OPTIMIZERS: dict[str, tuple[type, dict]] = {
    "sgd": (keras.optimizers.SGD, {}),
    "momentum": (keras.optimizers.SGD, {"momentum": 0.9}),
    "nesterov": (keras.optimizers.SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (keras.optimizers.RMSprop, {}),
    "adagrad": (keras.optimizers.Adagrad, {}),
    "adam": (keras.optimizers.Adam, {}),
    "nadam": (keras.optimizers.Nadam, {}),
    "adamw": (keras.optimizers.AdamW, {}),
}


def get_activation(name: str, layer_name: str | None = None, stack: Stack | None = None) -> keras.layers.Layer:
    """Return a fresh activation layer for the word `name`.

    Activations are separate layers (not a Dense argument) so that BatchNormalization can sit
    between the linear map and the nonlinearity, and so diagnostics can read each one's output.

    Examples:
        >>> get_activation("leaky_relu", stack=STACKS["default"].replace(negative_slope=0.1)).negative_slope
        0.1
    """
    STACK_FIELDS["activation"].check("activation", name)
    return ACTIVATION_LAYERS[name](stack or STACKS["default"], layer_name)


def get_initializer(name: str, seed: int | None = None, std: float = 0.05) -> keras.initializers.Initializer:
    """Return the kernel initializer for the word `name` (`std` is random_normal's).

    Examples:
        >>> get_initializer("random_normal", std=0.2).stddev
        0.2
    """
    STACK_FIELDS["init"].check("init", name)
    return INITIALIZERS[name](seed, std)


def get_optimizer(
    name: str, learning_rate, clipnorm: float = 0.0, clipvalue: float = 0.0, ema: bool = False
) -> keras.optimizers.Optimizer:
    """Return a fresh optimizer for the word `name`; a clip value of 0 means no clipping.

    `learning_rate` is a number or a Keras schedule. With `ema`, Keras keeps an exponential
    moving average of the weights (momentum `zoo.recipes.keys.EMA_MOMENTUM`) and swaps it in at the end
    of every epoch, so validation, testing and saving all see the averaged weights (Polyak averaging).

    Examples:
        >>> get_optimizer("adam", 1e-3, clipnorm=1.0).clipnorm
        1.0
    """
    STACK_FIELDS["optimizer"].check("optimizer", name)
    if isinstance(learning_rate, (int, float)) and learning_rate <= 0:
        raise RecipeError(f"learning_rate = {learning_rate!r} is out of range; expected a number > 0")
    clip = {key: value for key, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue)) if value}
    cls, fixed = OPTIMIZERS[name]
    return cls(learning_rate, **fixed, **clip, **({"use_ema": True, "ema_momentum": EMA_MOMENTUM} if ema else {}))
