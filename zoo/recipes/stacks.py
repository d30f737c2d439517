"""The named stacks: the per-layer practices a network is built with, as plain data.

A *stack* is the per-layer practice a network is built with: how weights start, which
nonlinearity follows, whether Batch Normalization and dropout are used, and which optimizer
trains it. Three are named:

* ``default``: He-normal init, Dense without bias -> BatchNormalization -> ELU -> Dropout, Adam.
* ``self_normalizing``: LeCun-normal init, SELU, AlphaDropout, no BatchNorm, Adam
  (Klambauer et al. 2017: SELU keeps activations near zero mean / unit variance by itself).
* ``modern``: He-normal init, BatchNorm, Swish, dropout, AdamW: the default configuration the
  3rd edition of Géron's *Hands-On Machine Learning* moved to from ELU/Adam.
* ``baseline``: the pre-2010 practice: sigmoid units, random normal init with std 1/sqrt(fan_in)
  (Nielsen's network2.py), no BatchNorm, no dropout, plain SGD without momentum.

This module is plain data and imports no TensorFlow or Keras: reading a recipe needs only it.
The Keras objects each word stands for live in `zoo.nets.factories`.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

from zoo.errors import RecipeError
from zoo.recipes.schema import Field, unknown_word_error

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "rrelu", "elu", "selu", "gelu", "swish")

INITIALIZERS = (
    "he_normal",
    "he_uniform",
    "glorot_normal",
    "glorot_uniform",
    "lecun_normal",
    "lecun_uniform",
    "scaled_normal",
    "random_normal",
)

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "nadam", "adamw")

DROPOUT_KINDS = ("standard", "alpha")

BN_POSITIONS = ("before", "after")

# The per-layer options a stack fixes. The recipe's [stack] section and the block factories
# (dense_block, conv_block) both accept exactly these keys.
STACK_FIELDS: dict[str, Field] = {
    "init": Field(str, "he_normal", "kernel initializer", choices=INITIALIZERS),
    "activation": Field(str, "elu", "hidden-unit nonlinearity", choices=ACTIVATIONS),
    "batch_norm": Field(bool, True, "BatchNormalization in every hidden layer"),
    "bn_position": Field(
        str, "before", "BatchNorm before the activation (Ioffe & Szegedy) or after it", choices=BN_POSITIONS
    ),
    "init_std": Field(
        float, 0.05, "standard deviation of the random_normal initializer", minimum=0.0, min_exclusive=True
    ),
    "negative_slope": Field(float, 0.2, "leaky_relu's slope for x < 0", minimum=0.0, maximum=1.0),
    "rrelu_lower": Field(float, 1 / 8, "rrelu's smallest random slope", minimum=0.0, maximum=1.0),
    "rrelu_upper": Field(float, 1 / 3, "rrelu's largest random slope", minimum=0.0, maximum=1.0),
    "dropout": Field(float, 0.2, "fraction of units dropped in training", minimum=0.0, maximum=1.0, max_exclusive=True),
    "dropout_kind": Field(str, "standard", "Dropout, or AlphaDropout for SELU nets", choices=DROPOUT_KINDS),
    "optimizer": Field(str, "adam", "optimizer the stack trains with", choices=OPTIMIZERS),
}


@dataclass(frozen=True)
class Stack:
    """One per-layer practice. Build a variant with `replace(dropout=0.3)`.

    Examples:
        >>> get_stack("default").replace(dropout=0.5).dropout
        0.5
    """

    init: str
    activation: str
    batch_norm: bool
    dropout: float
    dropout_kind: str
    optimizer: str
    bn_position: str = "before"
    init_std: float = 0.05
    negative_slope: float = 0.2
    rrelu_lower: float = 1 / 8
    rrelu_upper: float = 1 / 3

    def __post_init__(self):
        if self.rrelu_lower > self.rrelu_upper:
            raise RecipeError(
                f"stack.rrelu_lower = {self.rrelu_lower!r} is greater than stack.rrelu_upper = {self.rrelu_upper!r}; "
                "expected lower <= upper"
            )
        if self.dropout_kind == "alpha" and self.dropout > 0 and self.activation != "selu":
            warnings.warn(
                f"stack.dropout_kind = 'alpha' with stack.activation = {self.activation!r}: AlphaDropout preserves "
                "the self-normalizing statistics of SELU nets only; use dropout_kind = 'standard' otherwise",
                stacklevel=3,
            )

    def replace(self, **options) -> Stack:
        """Return a copy with `options` changed, each checked like a recipe key."""
        checked = {}
        for key, value in options.items():
            if key not in STACK_FIELDS:
                raise unknown_word_error("stack option", key, tuple(STACK_FIELDS))
            checked[key] = STACK_FIELDS[key].check(f"stack.{key}", value)
        return dataclasses.replace(self, **checked)


STACKS: dict[str, Stack] = {
    "default": Stack("he_normal", "elu", True, 0.2, "standard", "adam"),
    "self_normalizing": Stack("lecun_normal", "selu", False, 0.05, "alpha", "adam"),
    "baseline": Stack("scaled_normal", "sigmoid", False, 0.0, "standard", "sgd"),
    # The newer textbook default: He init, BatchNorm, Swish, dropout, AdamW (decoupled weight decay).
    "modern": Stack("he_normal", "swish", True, 0.2, "standard", "adamw"),
}


def get_stack(stack: str | Stack) -> Stack:
    """Return the named stack (or `stack` itself when it already is one).

    Examples:
        >>> get_stack("baseline").activation
        'sigmoid'
    """
    if isinstance(stack, Stack):
        return stack
    if stack not in STACKS:
        raise unknown_word_error("stack", stack, tuple(STACKS))
    return STACKS[stack]
