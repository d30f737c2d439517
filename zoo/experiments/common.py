"""What the gradient experiments (vanishing, exploding) share: one diagnosed run, and writing them out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.plots import gradient_norms_figure
from zoo.records import write_results
from zoo.training import train


def diagnosed_run(recipe, data, runs_dir: Path, label: str, baseline: bool = False, learning_rate=None) -> dict[str, Any]:
    """Train one run with gradient diagnostics on; its per-layer speeds, accuracy and loss curve."""
    result = train(recipe, data=data, out_dir=runs_dir / label, baseline=baseline, learning_rate=learning_rate, verbose=0)
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
        "speeds": [{"epoch": r["epoch"], "bias_grad_norm": [row["bias_grad_norm"] for row in r["layers"]],
                    "weight_grad_norm": [row["weight_grad_norm"] for row in r["layers"]],
                    "first_last_ratio": r["first_last_ratio"]} for r in records],
        "records": records,
        "history": {key: result.metrics["history"].get(key, []) for key in ("loss", "val_accuracy")},
    }


def write_gradient_results(out_dir: Path, results: dict[str, Any], report: str, figures: dict[str, Any] | None = None) -> None:
    """results.json, report.md, one per-layer gradient-norm plot per run, and any other `figures`."""
    figures = {**{f"{run['label']}.png": gradient_norms_figure(run["records"], title=run["label"]) for run in results["runs"]},
               **(figures or {})}
    for run in results["runs"]:
        del run["records"]  # the per-layer records stay in each run folder; results.json keeps the norms
    write_results(out_dir, results, report, figures)
