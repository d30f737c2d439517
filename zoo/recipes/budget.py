"""A recipe's training budget fitted to the data's size: the batch and the epochs it trains for.

A recipe written for 60,000 examples (batch 128, 10 epochs: 4,300 updates) gets 10 updates from
150 examples, and a net that has taken 10 steps has learned little. `train.steps` states the budget
in optimizer steps instead, and `train.adapt_batch` shrinks the batch on small sets, so that both
sizes get a sensible number of updates; `train.min_epochs` keeps a floor of whole passes, so a large
set is not cut short by a budget sized for small ones. `zoo.data.sources.fitted` applies this to
every run, so the recipe a run folder records is the one that trained.

Examples:
    >>> from zoo.recipes.recipe import get_recipe
    >>> recipe = get_recipe("cnn", **{"train.steps": 2000, "train.adapt_batch": True, "train.min_epochs": 0})
    >>> small, large = sized(recipe, 130), sized(recipe, 50_000)
    >>> (small.train.batch_size, small.train.epochs), (large.train.batch_size, large.train.epochs)
    ((16, 223), (128, 6))
    >>> sized(get_recipe("cnn"), 50_000).train.epochs  # the generic cnn's floor: 20 epochs
    20
"""

from __future__ import annotations

import math

from zoo.recipes.recipe import get_recipe

SMALLEST_BATCH = 8  # below this batch normalization's statistics get too noisy


def adapted_batch(batch_size: int, examples: int) -> int:
    """`batch_size`, capped at an eighth of `examples` rounded down to a power of two (and at least
    SMALLEST_BATCH, or every example where there are fewer).

    Examples:
        >>> adapted_batch(128, 130), adapted_batch(128, 50_000), adapted_batch(128, 5)
        (16, 128, 5)
    """
    eighth = 2 ** int(math.log2(max(1, examples // 8)))
    return max(1, min(batch_size, max(min(SMALLEST_BATCH, examples), eighth)))


def sized(recipe, examples: int):
    """`recipe` with its batch (`train.adapt_batch`) and epochs (`train.steps`, at least `train.min_epochs`)
    fitted to `examples` training examples; a recipe that asks for neither comes back unchanged.

    Examples:
        >>> from zoo.recipes.recipe import get_recipe
        >>> recipe = get_recipe("cnn", **{"train.steps": 2000, "train.min_epochs": 10})
        >>> sized(recipe, 1000).train.epochs, sized(recipe, 54_000).train.epochs  # 2,000 steps of 16; 10 epochs
        (125, 10)
    """
    train = recipe.train
    changes = {}
    batch = train.batch_size
    if train.adapt_batch:
        batch = adapted_batch(batch, examples)
        if batch != train.batch_size:
            changes["train.batch_size"] = batch
    if train.steps:
        epochs = max(1, train.min_epochs, math.ceil(train.steps / math.ceil(examples / batch)))
        if epochs != train.epochs:
            changes["train.epochs"] = epochs
    return get_recipe(recipe, **changes) if changes else recipe


def adapted_space(space: dict, recipe, examples: int) -> dict:
    """A [tune] space with its batch choices adapted as the recipe's own batch is (`train.adapt_batch`), so the
    recipe, fitted to `examples` training examples, is still its first trial.

    Examples:
        >>> from zoo.recipes.recipe import get_recipe
        >>> adapted_space({"train.batch_size": {"choices": [128, 256]}}, get_recipe("tabular"), 100)
        {'train.batch_size': {'choices': [8]}}
    """
    choices = space.get("train.batch_size", {}).get("choices")
    if not recipe.train.adapt_batch or choices is None:
        return space
    adapted = sorted({adapted_batch(int(choice), examples) for choice in choices})
    return {**space, "train.batch_size": {"choices": adapted}}
