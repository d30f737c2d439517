"""A learning-rate finder: one short sweep of exponentially growing rates, the loss watched at each.

Smith (2017, "Cyclical learning rates") and fastai's `lr_find`: train from the recipe's initial
weights for a few hundred steps while the rate grows from `start` to `end` by a constant factor
per step, record the loss, and stop once it has blown up. The loss is smoothed the way fastai
smooths it (an exponential moving average with bias correction), and the suggestion is the rate
where the smoothed loss falls fastest against log(rate), the "steepest" rule. The sweep trains
a fresh copy of the recipe's network from the seed's initial weights, so nothing else changes.

Examples:
    >>> import zoo
    >>> digits = zoo.load_data("digits", validation_size=200)
    >>> found = lr_find(zoo.get_recipe("fashion_mlp", hidden=[32]), data=digits, steps=60)
    >>> 1e-7 <= found.suggestion <= 10 and len(found.rates) == len(found.losses) <= 60
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from zoo.data.builtin import Splits
from zoo.data.sources import recipe_data
from zoo.errors import RecipeError
from zoo.nets.network import build_for
from zoo.nets.plain import baseline_recipe
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.recipes.schema import Field, check_argument, count_field
from zoo.reports.records import save_figure, write_json
from zoo.training.pipelines import batches

# The sweep stops once the smoothed loss passes this multiple of its lowest value: it has diverged.
BLOWUP_FACTOR = 4.0
# fastai's smoothing of the recorded loss.
SMOOTHING = 0.98
_RATE = Field(float, None, "learning rate", minimum=0.0, min_exclusive=True)


@dataclass
class LRFindResult:
    """What one sweep found: the rates tried, the smoothed loss at each, and the suggested rate."""

    recipe: str
    optimizer: str
    rates: list[float]
    losses: list[float]
    suggestion: float
    minimum_rate: float
    paths: dict[str, Path] = field(default_factory=dict)

    def command(self) -> str:
        """The `--set` that trains the recipe at the suggested rate."""
        return f"--set train.learning_rate={self.suggestion:.3g}"


def steepest(rates: list[float], losses: list[float]) -> float:
    """The rate where `losses` falls fastest against log(rate) (ends trimmed, as they are noisy).

    Examples:
        >>> steepest([1e-4, 1e-3, 1e-2, 1e-1, 1.0], [2.3, 2.2, 1.0, 0.9, 5.0])
        0.001
    """
    if len(rates) < 3:
        raise RecipeError(f"the sweep recorded {len(rates)} losses; at least 3 are needed to find a slope: raise steps")
    slopes = np.gradient(np.asarray(losses), np.log(np.asarray(rates)))
    trim = max(1, len(rates) // 10)
    if len(rates) <= 2 * trim + 2:  # too short to spare its ends
        trim = 0
    return float(rates[trim + int(np.argmin(slopes[trim : len(rates) - trim]))])


def lr_find(
    recipe: Recipe | str,
    data: Splits | None = None,
    *,
    baseline: bool = False,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 200,
    out_dir: str | Path | None = None,
) -> LRFindResult:
    """Sweep the learning rate of the recipe's optimizer (or, with `baseline`, its SGD baseline's).

    `data` defaults to the recipe's dataset; only its training batches are read. With `out_dir`,
    writes lr_find.json and lr_find.png (the smoothed loss against the rate, log scale).
    """
    recipe = get_recipe(recipe)
    start, end = check_argument("start", start, _RATE), check_argument("end", end, _RATE)
    if start >= end:
        raise RecipeError(f"start = {start:g} and end = {end:g}: the sweep needs start < end")
    steps = check_argument("steps", steps, count_field(3))
    # A constant rate: the sweep sets it step by step, so no schedule may move it.
    recipe = get_recipe(recipe, **{"train.schedule": "constant", "train.learning_rate": start})
    if baseline:
        recipe = baseline_recipe(recipe, start)
    recipe, data = recipe_data(recipe, data)
    keras.utils.set_random_seed(recipe.train.seed)
    model = build_for(recipe, data)
    # The recipe's batch size and seed; no augmentation, as before batching moved to training.
    rates, losses = _sweep(model, batches(data, recipe, augment=[]).train, start, end, steps)
    result = LRFindResult(
        recipe.name, recipe.train.optimizer, rates, losses, steepest(rates, losses), rates[int(np.argmin(losses))]
    )
    if out_dir is not None:
        result.paths = _write(result, Path(out_dir))
    return result


def _sweep(model: keras.Model, train, start: float, end: float, steps: int) -> tuple[list[float], list[float]]:
    """Train one step per rate from `start` to `end`; the rates and smoothed losses up to the blow-up."""
    factor = (end / start) ** (1 / (steps - 1))
    rates, losses, average, best = [], [], 0.0, math.inf
    served = iter(train.repeat())
    for step in range(steps):
        rate = start * factor**step
        model.optimizer.learning_rate.assign(rate)
        x, y = next(served)
        loss = float(model.train_on_batch(x, y, return_dict=True)["loss"])
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        smoothed = average / (1 - SMOOTHING ** (step + 1))
        if not math.isfinite(smoothed) or smoothed > BLOWUP_FACTOR * best:
            break
        best = min(best, smoothed)
        rates.append(rate)
        losses.append(smoothed)
    return rates, losses


def _write(result: LRFindResult, out_dir: Path) -> dict[str, Path]:
    from zoo.reports.plots import lr_find_figure  # matplotlib only when a plot is asked for

    paths = {"json": out_dir / "lr_find.json", "plot": out_dir / "lr_find.png"}
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        paths["json"],
        {
            "recipe": result.recipe,
            "optimizer": result.optimizer,
            "rule": "steepest",
            "suggestion": result.suggestion,
            "minimum_rate": result.minimum_rate,
            "rates": result.rates,
            "smoothed_losses": result.losses,
        },
    )
    save_figure(
        lr_find_figure(result.rates, result.losses, result.suggestion, title=f"{result.recipe} ({result.optimizer})"),
        paths["plot"],
    )
    return paths
