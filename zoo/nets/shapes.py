"""A conv net's shapes, worked out before anything is built: plain arithmetic, no Keras.

The Keras builder (`zoo.nets.network`), its size checks and the PyTorch twin
(`zoo.experiments.torch_twin`, which imports no TensorFlow) read the same plan, so the two
frameworks' nets cannot drift apart.
"""

from __future__ import annotations

import itertools
from typing import Any

from zoo.errors import RecipeError
from zoo.recipes.recipe import Recipe
from zoo.recipes.schema import Field, check_argument, count_field


def conv_paddings(
    height: int, width: int, stages: int, convs: int, kernel_size: int, padding: str = "same"
) -> tuple[list[list[str]], tuple[int, int]]:
    """Each conv's padding, stage by stage, and the image's height and width after the last 2x2 pool.

    `padding = "valid"` trims `kernel_size - 1` pixels a conv, but only where the conv's input is at
    least `4 * (kernel_size - 1)` pixels on its shorter side (the trim at most a quarter of it); a
    smaller input is padded, so a small image still fits as many stages as with "same".

    Examples:
        >>> conv_paddings(28, 28, stages=2, convs=1, kernel_size=3, padding="valid")
        ([['valid'], ['valid']], (5, 5))
        >>> conv_paddings(8, 8, stages=2, convs=1, kernel_size=3, padding="valid")
        ([['valid'], ['same']], (1, 1))
        >>> conv_paddings(28, 28, stages=2, convs=1, kernel_size=3)
        ([['same'], ['same']], (7, 7))
    """
    plan = []
    for _ in range(stages):
        stage = []
        for _ in range(convs):
            trim = padding == "valid" and min(height, width) >= 4 * (kernel_size - 1)
            stage.append("valid" if trim else "same")
            if trim:
                height, width = height - kernel_size + 1, width - kernel_size + 1
        plan.append(stage)
        height, width = height // 2, width // 2
    return plan, (height, width)


def cnn_plan(model, input_shape: tuple[int, ...], stages: int | None = None) -> tuple[list[list[str]], tuple[int, int]]:
    """A cnn recipe's `conv_paddings` for `input_shape`: its paddings and its image side after the last stage.

    Examples:
        >>> from zoo.recipes.recipe import get_recipe
        >>> cnn_plan(get_recipe("cnn", padding="valid").model, (28, 28, 1))
        ([['valid'], ['valid']], (5, 5))
    """
    height, width = input_shape[:2]
    stages = len(model.filters) if stages is None else stages
    return conv_paddings(height, width, stages, model.convs_per_block, model.kernel_size, model.padding)


_INPUT_SHAPE = Field(int, None, "example shape, e.g. (28, 28, 1)", list_of=True, minimum=1, min_length=1)


def check_input_shape(input_shape: Any, num_classes: Any, recipe: Recipe) -> tuple[tuple[int, ...], int]:
    """`input_shape` and `num_classes` checked against the recipe: a conv net needs images big enough for its stages."""
    shape = tuple(check_argument("input_shape", input_shape, _INPUT_SHAPE))
    model = recipe.model
    if model.kind in ("cnn", "resnet"):
        if len(shape) != 3:
            raise RecipeError(
                f"input_shape = {shape!r} does not suit model.kind = {model.kind!r}; expected (height, width, channels)"
            )
        side = min(shape[:2])
        if model.kernel_size > side:
            raise RecipeError(
                f"model.kernel_size = {model.kernel_size} is larger than the {shape[0]}x{shape[1]} images; "
                f"expected at most {side}"
            )
        if model.kind == "resnet" and recipe.stack.batch_norm and recipe.stack.bn_position != "before":
            raise RecipeError("stack.bn_position = 'after' is not allowed for model.kind = 'resnet'; allowed: before")
        # A cnn's every stage ends in a 2x2 max-pool; a resnet's stages after the first stride 2.
        if model.kind == "cnn" and min(cnn_plan(model, shape)[1]) < 1:
            stages = next(n for n in itertools.count() if min(cnn_plan(model, shape, n + 1)[1]) < 1)
            raise RecipeError(
                f"model.filters = {model.filters} makes {len(model.filters)} 2x2-pooling stages, more than "
                f"{shape[0]}x{shape[1]} images allow with model.padding = {model.padding!r}; expected at most "
                f"{stages} stages"
            )
    return shape, check_argument("num_classes", num_classes, count_field(2))
