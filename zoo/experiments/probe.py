"""Probes: which of a few settings is better, read on validation alone (docs/protocol.md).

`probe(recipe, variants)` trains the recipe once per variant and seed through `zoo.train`, on data whose
test split has been taken out before training starts: no test number is computed, so none can be
printed, compared or chosen from. The report gives each variant's best and last validation score
(median over seeds), its epochs and seconds, and names the variant validation picks. The test set is
read once, later, by the final `zoo bench` or leaderboard run of the configuration that won.

Examples:
    >>> import zoo
    >>> digits = zoo.load_data("digits", validation_size=200)
    >>> found = probe("mlp", {"narrow": {"model.hidden": [8]}, "wide": {"model.hidden": [64]}},
    ...               data=digits, epochs=1, out_dir=tempfile.mkdtemp())
    >>> sorted(found["rows"]), found["chosen"] in ("narrow", "wide"), "test" in json.dumps(found)
    (['narrow', 'wide'], True, False)
"""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from zoo.data.builtin import Splits, load
from zoo.errors import RecipeError
from zoo.recipes.catalog import get_dataset_info
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.reports.records import stamp

# Validation images a choice reads on a built-in dataset (docs/protocol.md, rule 2): at 0.93 accuracy 5,000
# images give a standard error of about 0.36 points; the 1,000 some recipes keep for their curves, 0.8.
SELECTION = 5000


def selection_size(recipe: Recipe) -> int:
    """How many validation images a choice about `recipe` reads: SELECTION, or the recipe's own
    `validation_size` where that is larger; a built-in set too small to spare SELECTION (more than a fifth
    of its training examples) keeps the recipe's own.

    Examples:
        >>> selection_size(get_recipe("fashion_cnn")), get_recipe("fashion_cnn").validation_size
        (5000, 1000)
        >>> selection_size(get_recipe("mlp", dataset="digits", validation_size=200))  # 1,797 digits in all
        200
    """
    if recipe.dataset == "any":
        raise RecipeError(f"recipe {recipe.name!r} names no dataset (dataset = 'any'): it has no selection split")
    size = max(SELECTION, recipe.validation_size)
    return size if 5 * size <= get_dataset_info(recipe.dataset).train_examples else recipe.validation_size


def selection_split(recipe: Recipe) -> Splits:
    """The data a choice about `recipe` reads: its built-in dataset with `selection_size(recipe)` validation
    images carved from the training set (the test split is taken out by `probe` before anything trains).

    Examples:
        >>> selection_split(get_recipe("mlp", dataset="digits", validation_size=200)).sizes["validation"]
        200
    """
    return load(recipe.dataset, validation_size=selection_size(recipe))


def without_test(data: Splits) -> Splits:
    """`data` with its test split emptied: what a probe may see (train and validation only)."""
    x, y = data.arrays["test"]
    arrays = {**data.arrays, "test": (x[:0], y[:0])}
    indices = {key: value for key, value in data.indices.items() if key != "test"}
    return dataclasses.replace(data, arrays=arrays, sizes={**data.sizes, "test": 0}, indices=indices)


def probe(
    recipe: Recipe | str,
    variants: dict[str, dict[str, Any]],
    *,
    data: Any = None,
    seeds: tuple[int, ...] = (0,),
    epochs: int | None = None,
    out_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Train `recipe` with each variant's overrides (label -> {key: value}) for each seed; validation only.

    Returns {"rows": {label: {"val_best", "val_last", "epochs", "seconds", "runs"}}, "chosen": label, ...}: the
    medians over seeds, each seed's own scores under "runs", and as "chosen" the variant with the highest
    median best validation score. A variant with the weights' average (`train.ema`) also has "val_last_raw":
    its raw weights' last score, which is what the same variant without the average ends on, so one probe
    answers whether the average is worth keeping. Called again with the same `out_dir`, it reads finished runs
    back.
    """
    from zoo.data.sources import recipe_data
    from zoo.tools.bench import finished_or_trained

    if not variants:
        raise RecipeError("a probe needs at least one variant (label -> recipe overrides)")
    base = get_recipe(recipe)
    for overrides in variants.values():
        get_recipe(base, **overrides)  # a bad key or value is one clear line before anything trains
    _, data = recipe_data(base, data)  # the recipe's own dataset, or anything load_data takes
    seen = without_test(data)
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="zoo-probe-"))
    started = time.perf_counter()
    rows = {}
    for index, (label, overrides) in enumerate(variants.items()):
        # A label is free text ("32/64 filters"): its run folders get a flat, unique name made from it.
        folder = f"{index}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}"
        runs, epochs_run, seconds = [], [], []
        for seed in seeds:
            variant = get_recipe(base, **{**overrides, "train.seed": seed})
            metrics = finished_or_trained(variant, seen, out / f"{folder}-{seed}", epochs)
            scores = metrics["history"][f"val_{metrics['score']}"]
            runs.append({"seed": seed, "val_best": max(scores), "val_last": scores[-1]})
            if metrics.get("raw_weights_val_score") is not None:  # with train.ema: what train.ema = false ends on
                runs[-1]["val_last_raw"] = metrics["raw_weights_val_score"]
            epochs_run.append(len(scores))
            seconds.append(metrics["train_seconds"])
        rows[label] = {key: median(run[key] for run in runs) for key in ("val_best", "val_last")}
        rows[label].update(epochs=median(epochs_run), seconds=round(median(seconds), 1))
        if all("val_last_raw" in run for run in runs):  # every seed ran its whole budget with the average
            rows[label]["val_last_raw"] = median(run["val_last_raw"] for run in runs)
        rows[label]["runs"] = runs
    chosen = max(rows, key=lambda label: rows[label]["val_best"])
    return {
        "recipe": base.name,
        "variants": variants,
        "seeds": list(seeds),
        "rows": rows,
        "chosen": chosen,
        **stamp(started),
    }


def report(found: dict[str, Any]) -> str:
    """The probe as a Markdown table of validation scores (it holds no other kind)."""
    lines = [
        f"Probe of {found['recipe']} (seeds {found['seeds']}; validation only, the test split was never loaded "
        "into training):",
        "",
        "| variant | overrides | best validation | last validation | epochs | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for label, row in found["rows"].items():
        mark = " (chosen)" if label == found["chosen"] else ""
        lines.append(
            f"| {label}{mark} | `{json.dumps(found['variants'][label])}` | {row['val_best']:.4f} | "
            f"{row['val_last']:.4f}{_raw(row)} | {row['epochs']:g} | {row['seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def _raw(row: dict[str, Any]) -> str:
    """A variant with the weights' average: its raw weights' last score too, in brackets."""
    return f" (raw weights {row['val_last_raw']:.4f})" if "val_last_raw" in row else ""
