"""Exploding gradients and gradient clipping: a 10-layer ReLU net with a too-large init, and a
plain tanh recurrent net (SimpleRNN) reading Fashion-MNIST row by row with a large SGD rate,
where gradients explode through time (the case gradient clipping was invented for)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import keras

from zoo.data.builtin import load
from zoo.experiments.common import diagnosed_run, plain_mlp, write_gradient_results
from zoo.nets.network import build_for
from zoo.recipes.recipe import get_recipe
from zoo.reports.plots import iteration_curves_figure
from zoo.reports.records import run_folder, stamp
from zoo.training.diagnostics import fixed_batch, layer_stats


def run(
    out_dir: str | Path = Path("benchmarks/results/exploding"), runs_dir: str | Path | None = None, epochs: int = 3
) -> dict[str, Any]:
    """The exploding-gradient demonstration; returns the results written to `out_dir`."""
    out_dir = Path(out_dir)
    runs_dir = Path(runs_dir) if runs_dir else run_folder("exploding", "runs/experiments")
    started = time.perf_counter()
    unstable = plain_mlp(
        "relu_10x100_large_init",
        hidden=[100] * 10,
        activation="relu",
        init="random_normal",
        init_std=0.2,
        batch_norm=False,
        dropout=0.0,
        optimizer="sgd",
        learning_rate=0.05,
        epochs=epochs,
        early_stopping_patience=0,
    )
    data = load("fashion_mnist")
    runs = [
        diagnosed_run(unstable, data, runs_dir, "no-clipping"),
        diagnosed_run(
            get_recipe(unstable, name="relu_10x100_large_init_clipped", clipnorm=1.0), data, runs_dir, "clipnorm-1.0"
        ),
    ]
    recurrent = recurrent_runs(runs_dir, epochs)
    results = {"experiment": "exploding", "epochs": epochs, "runs": runs + recurrent, **stamp(started)}
    lines = _report(runs, recurrent, epochs, results["seconds"])
    steps = {
        run["label"]: [{"iteration": step["step"] + 1, "metric": step["weight_grad_norm"][0]} for step in run["steps"]]
        for run in recurrent
    }
    figure = iteration_curves_figure(
        steps, "tanh SimpleRNN, SGD 0.5: recurrent kernel's gradient norm", "||dC/dW|| on a fixed batch", log_y=True
    )
    figure.axes[0].set_xlabel("training step")
    write_gradient_results(out_dir, results, "\n".join(lines), {"rnn-steps.png": figure})
    return results


def _report(runs: list[dict[str, Any]], recurrent: list[dict[str, Any]], epochs: int, seconds: float) -> list[str]:
    """The report's lines: the dense net with and without clipping, then the recurrent runs."""
    lines = [
        "# Exploding gradients and gradient clipping (Fashion-MNIST)",
        "",
        "10 hidden ReLU layers of 100 units, weights N(0, 0.2^2) (He would be 0.14), no BatchNorm, plain SGD at 0.05,",
        f"{epochs} epochs. Gradient norms per layer on a fixed batch of 1,000 training examples.",
        "",
        "| run | largest layer ‖dC/dW‖ at init | training loss, epoch 1 | diverged (loss inf or NaN) | epochs run | "
        "test accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs[:2]:
        largest = max(run["speeds"][0]["weight_grad_norm"])
        lines.append(
            f"| {run['label']} | {largest:.3g} | {run['history']['loss'][0]:.4g} | "
            f"{'yes' if run['diverged'] else 'no'} | {run['epochs_run']} | {run['test_accuracy']:.4f} |"
        )
    lines += [
        "",
        "For scale: the same net built with the default stack starts with per-layer gradient norms of about 0.1 to 2",
        "(see the vanishing experiment). Without clipping, the first SGD steps on gradients this large throw the",
        "weights so far that the loss overflows within the first epoch; clipping each gradient to norm 1 keeps every",
        "step bounded and the same net trains.",
    ]
    lines += _recurrent_report(recurrent)
    lines += ["", f"Regenerate: `zoo experiment exploding` ({seconds} s on this run's machine).", ""]
    return lines


class StepNorms(keras.callbacks.Callback):
    """Each of the first `dense` training steps, then every `every`: the per-layer ||dC/dW|| on a fixed batch, and
    the training loss Keras logs there (its running mean over the steps so far)."""

    def __init__(self, x, y, every: int = 10, dense: int = 30):
        super().__init__()
        self.x, self.y, self.every, self.dense, self.steps = x, y, every, dense, []

    def on_train_batch_end(self, batch, logs=None):
        if batch < self.dense or batch % self.every == 0:
            rows = layer_stats(self.model, self.x, self.y)
            self.steps.append(
                {
                    "step": batch,
                    "loss": float((logs or {}).get("loss", float("nan"))),
                    "weight_grad_norm": [row["weight_grad_norm"] for row in rows],
                }
            )


def recurrent_runs(runs_dir: Path, epochs: int, steps: int = 300) -> list[dict[str, Any]]:
    """A tanh SimpleRNN (128 units, orthogonal recurrent init) at SGD 0.5: unclipped, clipnorm 1.0, clipvalue 0.01.

    Each is trained twice: by `zoo.train` for `epochs` (status, test accuracy, per-epoch diagnostics),
    and for its first `steps` steps with the recurrent kernel's gradient norm read after each of the
    first 30 steps, then every 10 (`StepNorms`; zoo.train runs 32 steps per call, too coarse for this).
    """
    plain = get_recipe(
        "rnn",
        name="tanh_rnn_sgd",
        cell="simple_rnn",
        recurrent=[128],
        optimizer="sgd",
        learning_rate=0.5,
        clipnorm=0.0,
        epochs=epochs,
        early_stopping_patience=0,
        batch_norm=False,
        dropout=0.0,
    )
    data = load("fashion_mnist")
    runs = []
    for label, clip in (
        ("rnn-no-clipping", {}),
        ("rnn-clipnorm-1.0", {"clipnorm": 1.0}),
        ("rnn-clipvalue-0.01", {"clipvalue": 0.01}),
    ):
        recipe = get_recipe(plain, **clip)
        run = diagnosed_run(recipe, data, runs_dir, label)
        keras.utils.set_random_seed(recipe.train.seed)
        model = build_for(recipe, data)
        model.compile(optimizer=model.optimizer, loss=model.loss, steps_per_execution=1)  # see every step
        probe = StepNorms(*fixed_batch(data, 256))
        x, y = data.arrays["train"]
        model.fit(
            x[: steps * recipe.train.batch_size],
            y[: steps * recipe.train.batch_size],
            batch_size=recipe.train.batch_size,
            epochs=1,
            verbose=0,
            callbacks=[probe],
        )
        runs.append({**run, "steps": probe.steps})
    return runs


def _recurrent_report(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "## A recurrent net: gradients exploding through time",
        "",
        "A plain tanh SimpleRNN of 128 units reads each image as 28 rows of 28 pixels (orthogonal recurrent init, no",
        "BatchNorm or dropout) and a softmax reads its last state; plain SGD at 0.5, batches of 128. The recurrent",
        "kernel's ||dC/dW|| on a fixed batch of 256 training images after each of the first 30 steps, then every 10 "
        "up to 300:",
        "",
        "| run | ‖dC/dW‖ after step 1 | largest (at step) | after step 300 | mean loss, steps 1-300 | training loss "
        "per epoch | status | test accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        norms = [step["weight_grad_norm"][0] for step in run["steps"]]
        losses = ", ".join(f"{loss:.3g}" for loss in run["history"]["loss"])
        peak = max(range(len(norms)), key=norms.__getitem__)
        lines.append(
            f"| {run['label']} | {norms[0]:.3g} | {norms[peak]:.3g} ({run['steps'][peak]['step'] + 1}) | "
            f"{norms[-1]:.3g} | "
            f"{run['steps'][-1]['loss']:.3g} | "
            f"{losses} | {'diverged' if run['diverged'] else 'trains'} | {run['test_accuracy']:.4f} |"
        )
    lines += [
        "",
        "Step by step: [rnn-steps.png](rnn-steps.png) (norms and losses: `steps` of each run in results.json).",
        f"What `zoo train` said about the unclipped run: {runs[0]['status_message'] or 'nothing (it trained)'}",
    ]
    return lines
