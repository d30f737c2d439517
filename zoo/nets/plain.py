"""The baseline: a recipe's own architecture trained the plain pre-2010 way (sigmoid, small init, SGD).

Every recipe is measured against it (`zoo bench`), so what "plain" means is written down once,
key by key, in `BASELINE_OVERRIDES`.
"""

from __future__ import annotations

import keras

from zoo.nets.network import build
from zoo.recipes.keys import SCHEMA
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.recipes.stacks import STACK_FIELDS, STACKS


def default_baseline_learning_rate(recipe: Recipe) -> float:
    """The median of the recipe's baseline grid: the rate `baseline()` uses when given none."""
    grid = sorted(recipe.baseline.learning_rates)
    return grid[len(grid) // 2]


# What "the plain pre-2010 practice" means, key by key: every [stack] key set to the named
# "baseline" stack's value (so a recipe's own stack keys cannot leak in), and everything else
# the default stack added taken away. Architecture, batch size, epochs and data stay the recipe's.
BASELINE_OVERRIDES = {
    "stack.name": "baseline",
    **{f"stack.{key}": getattr(STACKS["baseline"], key) for key in STACK_FIELDS if key != "optimizer"},
    "regularization.l1": 0.0,
    "regularization.l2": 0.0,
    "regularization.max_norm": 0.0,
    "train.optimizer": "sgd",
    "train.schedule": "constant",
    "regularization.augment": [],
    # Without augmentation its strength means nothing; pinning it lets a bench whose recipe changes
    # only its augmentation read the same baseline runs back instead of retraining them.
    "regularization.augment_amount": SCHEMA["regularization"]["augment_amount"].default,
    "train.clipnorm": 0.0,
    "train.label_smoothing": 0.0,
    "train.ema": False,
    "train.clipvalue": 0.0,
    "pretrain.method": "none",  # the plain practice starts from random weights
}


def baseline_recipe(recipe: Recipe | str, learning_rate: float | None = None) -> Recipe:
    """The recipe with the baseline stack swapped in, named `<recipe>_baseline`.

    This is the one way to get the baseline. A recipe that says ``stack.name = "baseline"``
    gets the same layers where it sets no [stack] key of its own, but keeps its own optimizer
    rate, regularization and schedule: the named stack sets defaults, this sets everything.

    Examples:
        >>> baseline_recipe("fashion_mlp", 0.1).stack.activation
        'sigmoid'
    """
    recipe = get_recipe(recipe)  # a Recipe comes back as it is
    rate = default_baseline_learning_rate(recipe) if learning_rate is None else learning_rate
    return get_recipe(recipe, name=f"{recipe.name}_baseline", **BASELINE_OVERRIDES, **{"train.learning_rate": rate})


def baseline(
    recipe: Recipe | str, learning_rate: float | None = None, input_shape=None, num_classes=None, strategy=None
) -> keras.Model:
    """Build the recipe's architecture the plain way: sigmoid, N(0, 1/fan_in), no BN/dropout, SGD.

    The learning rate defaults to the median of `recipe.baseline.learning_rates`; `zoo bench`
    picks the best of that grid on validation data instead.

    Examples:
        >>> model = baseline("fashion_mlp", learning_rate=0.1)
        >>> type(model.optimizer).__name__, round(float(model.optimizer.learning_rate), 3)
        ('SGD', 0.1)
    """
    return build(baseline_recipe(recipe, learning_rate), input_shape, num_classes, strategy)
