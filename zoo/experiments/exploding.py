"""Exploding gradients and gradient clipping: a 10-layer ReLU net with a too-large init."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from zoo.data import load
from zoo.experiments.common import diagnosed_run, write_gradient_results
from zoo.recipe import get_recipe
from zoo.records import run_folder, stamp


def run(out_dir: str | Path = Path("benchmarks/results/exploding"), runs_dir: str | Path | None = None,
        epochs: int = 3) -> dict[str, Any]:
    """The exploding-gradient demonstration; returns the results written to `out_dir`."""
    out_dir = Path(out_dir)
    runs_dir = Path(runs_dir) if runs_dir else run_folder("exploding", "runs/experiments")
    started = time.perf_counter()
    unstable = get_recipe(
        "fashion_mlp", name="relu_10x100_large_init", hidden=[100] * 10, activation="relu", init="random_normal",
        init_std=0.2, batch_norm=False, dropout=0.0, optimizer="sgd", learning_rate=0.05, epochs=epochs,
        early_stopping_patience=0,
    )
    data = load("fashion_mnist", batch_size=unstable.train.batch_size)
    runs = [diagnosed_run(unstable, data, runs_dir, "no-clipping"),
            diagnosed_run(get_recipe(unstable, name="relu_10x100_large_init_clipped", clipnorm=1.0), data, runs_dir, "clipnorm-1.0")]
    results = {"experiment": "exploding", "epochs": epochs, "runs": runs, **stamp(started)}
    lines = [
        "# Exploding gradients and gradient clipping (Fashion-MNIST)",
        "",
        "10 hidden ReLU layers of 100 units, weights N(0, 0.2^2) (He would be 0.14), no BatchNorm, plain SGD at 0.05,",
        f"{epochs} epochs. Gradient norms per layer on a fixed batch of 1,000 training examples.",
        "",
        "| run | largest layer ||dC/dW|| at init | training loss, epoch 1 | diverged (loss inf or NaN) | epochs run | test accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        largest = max(run["speeds"][0]["weight_grad_norm"])
        lines.append(f"| {run['label']} | {largest:.3g} | {run['history']['loss'][0]:.4g} | "
                     f"{'yes' if run['diverged'] else 'no'} | {run['epochs_run']} | {run['test_accuracy']:.4f} |")
    lines += ["", "For scale: the same net built with the default stack starts with per-layer gradient norms of about 0.1 to 2",
              "(see the vanishing experiment). Without clipping, the first SGD steps on gradients this large throw the",
              "weights so far that the loss overflows within the first epoch; clipping each gradient to norm 1 keeps every",
              "step bounded and the same net trains."]
    lines += ["", f"Regenerate: `zoo experiment exploding` ({results['seconds']} s on this run's machine).", ""]
    write_gradient_results(out_dir, results, "\n".join(lines))
    return results
