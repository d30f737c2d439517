"""Which levers buy accuracy on a recipe, one at a time, within a fixed budget (`zoo experiment levers`).

A ladder like the benchmark's, but upward from the recipe: each step keeps the previous step's
settings and adds one lever (a schedule, augmentation, label smoothing, a newer stack, weight
averaging), so consecutive rows differ in exactly that lever. Every step trains the same number
of epochs on the same split; the test set is read once per run, for the table, never for a choice.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from zoo.data.builtin import load
from zoo.recipes.recipe import get_recipe
from zoo.reports.progress import Progress
from zoo.reports.records import run_folder, stamp, write_results
from zoo.reports.report import spread
from zoo.training.trainer import train

# (label, overrides added on top of the previous step). The first step pins the starting point,
# fashion_cnn as it shipped before these levers, so the ladder means the same whatever the recipe
# ships now (it has since taken the schedule, a larger batch, the weights' moving average, and
# 1-pixel shifts in place of its dropout).
CNN_START = {
    "train.schedule": "constant",
    "train.learning_rate": 1e-3,
    "train.warmup_epochs": 0,
    "train.batch_size": 64,
    "train.early_stopping_patience": 4,
    "train.ema": False,
    "validation_size": 5000,
    "stack.dropout": 0.25,
    "regularization.augment": [],
}
CNN_LADDER: tuple[tuple[str, dict[str, Any]], ...] = (
    ("default stack, constant rate 1e-3, batch 64", CNN_START),
    (
        "+ cosine schedule, 1 warm-up epoch, peak 2e-3",
        {"train.schedule": "cosine", "train.warmup_epochs": 1, "train.learning_rate": 2e-3},
    ),
    ("+ flip and translate augmentation", {"regularization.augment": ["flip", "translate"]}),
    ("+ label smoothing 0.1", {"train.label_smoothing": 0.1}),
    ("+ modern stack (Swish, AdamW)", {"stack.activation": "swish", "train.optimizer": "adamw"}),
)


def run(
    out_dir: str | Path = Path("benchmarks/results/levers"),
    runs_dir: str | Path | None = None,
    recipe: str = "fashion_cnn",
    epochs: int = 10,
    seeds: int = 1,
    ladder: tuple[tuple[str, dict[str, Any]], ...] = CNN_LADDER,
) -> dict[str, Any]:
    """Train every step of `ladder` on `recipe` for `epochs` epochs and `seeds` seeds; write the table."""
    runs_dir = Path(runs_dir) if runs_dir else run_folder("levers", "runs/experiments")
    started = time.perf_counter()
    step = get_recipe(recipe, **{"train.epochs": epochs, **ladder[0][1]})  # the data follow the first step
    data = load(step.dataset, step.validation_size)
    rows = []
    with Progress(len(ladder) * seeds, f"levers on {step.name}") as progress:
        for index, (label, overrides) in enumerate(ladder):
            step = get_recipe(step, **overrides)
            for seed in range(seeds):
                result = train(
                    get_recipe(step, **{"train.seed": seed}),
                    data=data,
                    verbose=0,
                    out_dir=runs_dir / f"step{index}-seed{seed}",
                )
                m = result.metrics
                rows.append({"step": index, "label": label, "seed": seed, **_measured(m), "recipe": step.to_dict()})
                progress.done(
                    f"{label}, seed {seed}: test {m['test_accuracy']:.4f}, "
                    f"validation {m['best_val_accuracy']:.4f}, {m['train_seconds']:.0f} s"
                )
    summary = [
        {
            "label": label,
            "test_accuracy": spread([r["test_accuracy"] for r in rows if r["step"] == index]),
            "train_seconds": spread([r["train_seconds"] for r in rows if r["step"] == index]),
        }
        for index, (label, _) in enumerate(ladder)
    ]
    results = {
        "experiment": "levers",
        "recipe": recipe,
        "epochs": epochs,
        "seeds": list(range(seeds)),
        "sizes": data.sizes,
        "steps": [{"label": label, "overrides": overrides} for label, overrides in ladder],
        "runs": rows,
        "summary": summary,
        **stamp(started),
    }
    write_results(out_dir, results, _report(results))
    return results


def _measured(metrics: dict[str, Any]) -> dict[str, Any]:
    """What the table keeps of one run's metrics.json."""
    keys = ("test_accuracy", "best_val_accuracy", "train_seconds", "epochs_run")
    return {**{key: metrics[key] for key in keys}, "val_accuracy": metrics["history"].get("val_accuracy", [])}


def _report(results: dict[str, Any]) -> str:
    # Results written before the sizes were recorded used the then-default split, 55,000 / 5,000.
    sizes = results.get("sizes", {"train": 55_000, "validation": 5_000, "test": 10_000})
    lines = [
        f"# Levers on {results['recipe']}: one at a time, {results['epochs']} epochs each",
        "",
        f"Each row keeps every setting of the row above and adds one lever. Fashion-MNIST, {sizes['train']:,} "
        f"training / {sizes['validation']:,} validation (fixed split) / {sizes['test']:,} test images; seeds "
        f"{results['seeds']}; median (min-max) over seeds. With one seed a difference under about 0.3 points is "
        "within seed-to-seed noise.",
        "",
        "| step | test accuracy | change | train time |",
        "|---|---|---|---|",
    ]
    previous = None
    for row in results["summary"]:
        acc = row["test_accuracy"]
        change = f"{100 * (acc['median'] - previous):+.2f} points" if previous is not None else "-"
        lines.append(
            f"| {row['label']} | {acc['median']:.4f} ({acc['min']:.4f}-{acc['max']:.4f}) | {change} | "
            f"{row['train_seconds']['median']:.0f} s |"
        )
        previous = acc["median"]
    lines += [
        "",
        f"Regenerate: `zoo experiment levers` ({results['seconds']:.0f} s on this run's machine; keras "
        f"{results['versions']['keras']}, tensorflow {results['versions']['tensorflow']}).",
        "",
    ]
    return "\n".join(lines)
