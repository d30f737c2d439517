"""What the experiments share: the dense net the mechanism experiments start from, one diagnosed
run of the gradient experiments (vanishing, exploding), and writing them out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.recipes.recipe import Recipe, get_recipe
from zoo.reports.plots import gradient_norms_figure
from zoo.reports.records import write_results
from zoo.training.trainer import train

# fashion_mlp as it was before it was tuned for its accuracy goal: the net and training that the
# activations, claims, exploding, pretrain and vanishing experiments vary one thing of. Pinned so
# that tuning the shipped recipe (wider, 1-pixel shifts, a cosine schedule, label smoothing) does
# not silently change what a re-run of those experiments measures. Every key the recipe file sets
# for its net or its training is here (tests/test_claims.py checks).
PLAIN_MLP = {
    "model.hidden": [512, 256],
    "stack.name": "default",
    "stack.dropout": 0.3,
    "regularization.augment": [],
    "regularization.augment_amount": 0.1,
    "train.learning_rate": 1e-3,
    "train.batch_size": 32,
    "train.adapt_batch": False,
    "train.epochs": 40,
    "train.early_stopping_patience": 8,
    "train.schedule": "constant",
    "train.warmup_epochs": 0,
    "train.label_smoothing": 0.0,
    "train.ema": False,
    "validation_size": 5000,
}


def plain_mlp(name: str, **overrides) -> Recipe:
    """fashion_mlp with `PLAIN_MLP`'s net and training, renamed, then `overrides` (bare or "section.key").

    Examples:
        >>> recipe = plain_mlp("relu_2x100", hidden=[100, 100], activation="relu")
        >>> recipe.model.hidden, recipe.train.schedule, recipe.regularization.augment, recipe.stack.dropout
        ([100, 100], 'constant', [], 0.3)
    """
    return get_recipe(get_recipe("fashion_mlp", name=name, **PLAIN_MLP), **overrides)


def diagnosed_run(
    recipe, data, runs_dir: Path, label: str, baseline: bool = False, learning_rate=None
) -> dict[str, Any]:
    """Train one run with gradient diagnostics on; its per-layer speeds, accuracy and loss curve."""
    result = train(
        recipe, data=data, out_dir=runs_dir / label, baseline=baseline, learning_rate=learning_rate, verbose=0
    )
    records = json.loads(result.paths["diagnostics"].read_text())["records"]
    return {
        "label": label,
        "stack": "baseline" if baseline else recipe.stack.name,
        "hidden": list(recipe.model.hidden),
        "test_accuracy": result.metrics["test_accuracy"],
        "diverged": result.metrics["diverged"],
        "status_message": result.metrics.get("status_message"),
        "epochs_run": result.metrics["epochs_run"],
        "gradient_warning": result.metrics["gradient_warning"],
        "speeds": [
            {
                "epoch": r["epoch"],
                "bias_grad_norm": [row["bias_grad_norm"] for row in r["layers"]],
                "weight_grad_norm": [row["weight_grad_norm"] for row in r["layers"]],
                "first_last_ratio": r["first_last_ratio"],
            }
            for r in records
        ],
        "records": records,
        "history": {key: result.metrics["history"].get(key, []) for key in ("loss", "val_accuracy")},
    }


def write_gradient_results(
    out_dir: Path, results: dict[str, Any], report: str, figures: dict[str, Any] | None = None
) -> None:
    """results.json, report.md, one per-layer gradient-norm plot per run, and any other `figures`."""
    figures = {
        **{f"{run['label']}.png": gradient_norms_figure(run["records"], title=run["label"]) for run in results["runs"]},
        **(figures or {}),
    }
    for run in results["runs"]:
        del run["records"]  # the per-layer records stay in each run folder; results.json keeps the norms
    write_results(out_dir, results, report, figures)
