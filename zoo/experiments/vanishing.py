"""Vanishing gradients, layer by layer: Nielsen's sigmoid nets vs the default stack (Fashion-MNIST)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from zoo.data.builtin import load
from zoo.experiments.common import diagnosed_run, plain_mlp, write_gradient_results
from zoo.recipes.recipe import get_recipe
from zoo.reports.records import run_folder, stamp


def run(
    out_dir: str | Path = Path("benchmarks/results/vanishing"),
    runs_dir: str | Path | None = None,
    epochs: int = 5,
    deep_epochs: int = 2,
) -> dict[str, Any]:
    """The vanishing-gradient experiment; returns the results written to `out_dir`."""
    out_dir = Path(out_dir)
    runs_dir = Path(runs_dir) if runs_dir else run_folder("vanishing", "runs/experiments")
    started = time.perf_counter()
    data = load("fashion_mnist")
    runs = []
    for depth in (2, 3, 4):
        # Nielsen's setting: 30 sigmoid units per layer, mini-batches of 10, SGD at 0.1.
        small = plain_mlp(
            f"sigmoid_{depth}x30",
            hidden=[30] * depth,
            batch_size=10,
            epochs=epochs,
            early_stopping_patience=0,
            **{"baseline.learning_rates": [0.1]},
        )
        runs.append(diagnosed_run(small, data, runs_dir, f"{depth}x30-baseline", baseline=True, learning_rate=0.1))
        runs.append(
            diagnosed_run(
                get_recipe(small, name=f"default_{depth}x30", dropout=0.0), data, runs_dir, f"{depth}x30-default"
            )
        )
        print(f"[{time.perf_counter() - started:6.0f} s] depth {depth} done", flush=True)
    # The default stack (He, ELU, BatchNorm, Adam) this experiment is about; fashion_deep_mlp itself now ships
    # the modern stack (Swish, AdamW), validation's pick (benchmarks/results/levers).
    deep = get_recipe("fashion_deep_mlp", epochs=deep_epochs, early_stopping_patience=0, **{"stack.name": "default"})
    runs.append(diagnosed_run(deep, data, runs_dir, "20x100-baseline", baseline=True, learning_rate=0.1))
    runs.append(diagnosed_run(deep, data, runs_dir, "20x100-default"))
    results = {"experiment": "vanishing", "epochs": epochs, "deep_epochs": deep_epochs, "runs": runs, **stamp(started)}
    write_gradient_results(out_dir, results, _vanishing_report(results))
    return results


def _speeds(values) -> str:
    return ", ".join(f"{v:.2g}" for v in values)


def _vanishing_report(results: dict[str, Any]) -> str:
    lines = [
        "# Vanishing gradients, layer by layer (Fashion-MNIST)",
        "",
        "Speed of learning of each hidden layer = ||dC/db||, the norm of the bias-gradient vector on a fixed batch of",
        "1,000 training examples (Nielsen, *Neural Networks and Deep Learning*, ch. 5; with BatchNorm the Dense has no",
        "bias and BN's beta is used). Layer 1 is nearest the input. Baseline: sigmoid, N(0, 1/fan_in) init, SGD at "
        "0.1,",
        f"mini-batches of 10. Default: He init, BatchNorm, ELU, Adam (no dropout here). {results['epochs']} epochs;",
        f"the 20-layer nets {results['deep_epochs']}.",
        "",
        "| net | stack | speed per layer at initialization | after training | first/last ‖dC/dW‖ at init | test "
        "accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for run in results["runs"]:
        init, last = run["speeds"][0], run["speeds"][-1]
        shown = lambda speeds: (
            _speeds(speeds) if len(speeds) <= 6 else _speeds(speeds[:3]) + ", ..., " + _speeds(speeds[-2:])
        )
        lines.append(
            f"| {len(run['hidden'])} x {run['hidden'][0]} | {run['stack']} | {shown(init['bias_grad_norm'])} | "
            f"{shown(last['bias_grad_norm'])} | {init['first_last_ratio']:.2g} | {run['test_accuracy']:.4f} |"
        )
    lines += [
        "",
        "Reading it: at initialization each sigmoid layer learns several times slower than the one above it, so the",
        "gap between the first and the last layer grows with depth. In the shallow sigmoid nets a few epochs of SGD",
        "even the speeds out; at 20 layers the first layer's gradient starts many orders of magnitude below the "
        "last's,",
        "stays there, and the net stays at chance. With the default stack the speeds stay within a small factor of "
        "each",
        "other at every depth, from the first step on. Nielsen reports the same initialization pattern on MNIST with",
        "[784, 30, ..., 30, 10] sigmoid nets (chapter 5).",
        "",
        f"Regenerate: `zoo experiment vanishing` ({results['seconds']} s on this run's machine).",
        "",
    ]
    return "\n".join(lines)
