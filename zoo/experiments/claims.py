"""The founding claims, each tested: one row per claim, our measurement, and a verdict.

The claims come from the default-configuration material zoo was built from. This experiment
measures three of them itself and reads two more from the committed results of their own
experiments (`activations`, `pretrain`), so the table always quotes what those last produced:

* "Dropout stably improves a network by about 2%": the default stack with and without dropout
  0.5, on a net that overfits (10,000 training images), at two widths.
* "Adam instead of plain gradient descent greatly speeds up convergence": the same net trained
  by Adam and by plain SGD (no momentum) at two rates; epochs and seconds to a validation target.
* "A deep net trained from random init performs about like the shallow net made of its last few
  layers, because the first layers barely learn": a deep sigmoid net against the shallow net of
  its last two hidden layers, and how far each layer's weights moved from their initialization.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from zoo.data.builtin import load
from zoo.experiments.activations import epochs_to
from zoo.experiments.common import plain_mlp
from zoo.nets.network import build_for
from zoo.nets.plain import BASELINE_OVERRIDES
from zoo.recipes.recipe import get_recipe
from zoo.reports.records import run_folder, stamp, write_results
from zoo.training.pretrain import hidden_dense_layers
from zoo.training.trainer import train

RESULTS = Path("benchmarks/results")


def _run(recipe, data, seed: int, folder: Path, target: float | None = None) -> dict[str, Any]:
    result = train(get_recipe(recipe, seed=seed), data=data, verbose=0, out_dir=folder / f"{recipe.name}-seed{seed}")
    m = result.metrics
    curve = m["history"].get("val_accuracy", [])
    reached = epochs_to(curve, target) if target else None
    return {
        "name": recipe.name,
        "seed": seed,
        "test_accuracy": m["test_accuracy"],
        "train_seconds": m["train_seconds"],
        "val_accuracy": curve,
        "train_accuracy": m["history"].get("accuracy", []),
        "epochs_to_target": reached,
        "seconds_to_target": m["epoch_end_seconds"][reached - 1] if reached else None,
        "model": result.model,
    }


def _median(rows, key):
    values = [row[key] for row in rows if row[key] is not None]
    return statistics.median(values) if len(values) * 2 > len(rows) else None


def dropout_claim(
    folder: Path, seeds, epochs: int = 20, train_size: int = 10_000, widths=(256, 1024)
) -> dict[str, Any]:
    """Test accuracy with and without dropout 0.5 (default stack otherwise), per width."""
    data = load("fashion_mnist", train_size=train_size)
    rows = {}
    for width in widths:
        for rate in (0.0, 0.5):
            recipe = plain_mlp(
                f"dropout{round(rate * 100)}_2x{width}",
                hidden=[width, width],
                dropout=rate,
                batch_size=64,
                epochs=epochs,
                early_stopping_patience=0,
            )
            runs = [_run(recipe, data, seed, folder) for seed in seeds]
            # How much the net overfits: training accuracy (dropout on) minus validation accuracy, last epoch.
            gap = statistics.median(r["train_accuracy"][-1] - r["val_accuracy"][-1] for r in runs)
            rows[f"{width}/{rate:g}"] = {
                "width": width,
                "dropout": rate,
                "test_accuracy": [r["test_accuracy"] for r in runs],
                "overfit_gap": gap,
            }
    return {"epochs": epochs, "train_size": train_size, "rows": rows}


def optimizer_claim(folder: Path, seeds, epochs: int = 10, target: float = 0.87) -> dict[str, Any]:
    """Adam (1e-3) against plain SGD (0.01 and 0.1) on the default-stack net: time and epochs to a validation target."""
    data = load("fashion_mnist")
    rows = {}
    for optimizer, rate in (("adam", 1e-3), ("sgd", 0.01), ("sgd", 0.1)):
        recipe = plain_mlp(
            f"{optimizer}_{str(rate).replace('.', 'p')}",
            hidden=[256, 128],
            optimizer=optimizer,
            learning_rate=rate,
            batch_size=64,
            epochs=epochs,
            early_stopping_patience=0,
        )
        runs = [_run(recipe, data, seed, folder, target) for seed in seeds]
        rows[f"{optimizer} {rate:g}"] = {
            "epochs_to_target": _median(runs, "epochs_to_target"),
            "seconds_to_target": _median(runs, "seconds_to_target"),
            "reached": sum(r["epochs_to_target"] is not None for r in runs),
            "test_accuracy": [r["test_accuracy"] for r in runs],
        }
    return {"epochs": epochs, "target": target, "rows": rows}


def depth_claim(
    folder: Path, seeds, depth: int = 6, width: int = 256, epochs: int = 10, rate: float = 1.0
) -> dict[str, Any]:
    """A deep sigmoid net (the plain practice: N(0, 1/fan_in), SGD) against the shallow net of its last two hidden
    layers.

    The rate, 1.0, is the one the pretrain experiment picked on validation for this 6 x 256 net from random init.
    """
    data = load("fashion_mnist")
    common = dict(**BASELINE_OVERRIDES, learning_rate=rate, batch_size=64, epochs=epochs, early_stopping_patience=0)
    deep = plain_mlp(f"sigmoid_{depth}x{width}", hidden=[width] * depth, **common)
    shallow = plain_mlp(f"sigmoid_2x{width}", hidden=[width] * 2, **common)
    deep_runs, moved = [], []
    for seed in seeds:
        start = [layer.kernel.numpy() for layer in hidden_dense_layers(build_for(get_recipe(deep, seed=seed), data))]
        run = _run(deep, data, seed, folder)
        end = [layer.kernel.numpy() for layer in hidden_dense_layers(run["model"])]
        moved.append([float(np.linalg.norm(b - a) / np.linalg.norm(a)) for a, b in zip(start, end)])
        deep_runs.append(run)
    shallow_runs = [_run(shallow, data, seed, folder) for seed in seeds]
    return {
        "depth": depth,
        "width": width,
        "epochs": epochs,
        "learning_rate": rate,
        "deep": [r["test_accuracy"] for r in deep_runs],
        "shallow": [r["test_accuracy"] for r in shallow_runs],
        "relative_weight_change": [statistics.median(layer) for layer in zip(*moved)],
    }


def run(
    out_dir: str | Path = RESULTS / "claims", runs_dir: str | Path | None = None, seeds=(0, 1, 2)
) -> dict[str, Any]:
    """Measure the three claims, read the other two, write the claims table; returns the results."""
    folder = Path(runs_dir) if runs_dir else run_folder("claims", "runs/experiments")
    started = time.perf_counter()
    measured = {}
    for name, claim in (("dropout", dropout_claim), ("optimizer", optimizer_claim), ("depth", depth_claim)):
        measured[name] = claim(folder, list(seeds))
        print(f"[{time.perf_counter() - started:6.0f} s] {name} measured", flush=True)
    results = {"experiment": "claims", "seeds": list(seeds), **measured, "read": _read_committed(), **stamp(started)}
    write_results(out_dir, results, report(results))
    return results


def _read_committed() -> dict[str, Any]:
    read = {}
    for name in ("activations", "pretrain"):
        path = RESULTS / name / "results.json"
        read[name] = json.loads(path.read_text())["summary"] if path.exists() else None
    return read


def report(results: dict[str, Any]) -> str:
    """The claims table: claim, measurement, verdict."""
    lines = [
        "# The founding claims, each tested (Fashion-MNIST)",
        "",
        "One row per claim from zoo's founding material: the claim in its own words, what we measured (command, "
        "setting,",
        f"seeds {results['seeds']}, numbers: medians over seeds unless stated), and a verdict. Rows marked *read* "
        "quote the",
        "committed results of their own experiment.",
        "",
        "| claim | measurement | verdict |",
        "|---|---|---|",
    ]
    lines += [f"| {claim} | {measurement} | {verdict} |" for claim, measurement, verdict in rows(results)]
    lines += [
        "",
        f"Regenerate: `zoo experiment claims` ({results['seconds']} s on this run's machine; it reads "
        "benchmarks/results/activations and pretrain, so run those first).",
        "",
    ]
    return "\n".join(lines)


def rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(claim, measurement, verdict) for every claim, from the measured and read results."""
    table = [
        _activation_row(results["read"]["activations"]),
        _dropout_row(results["dropout"]),
        _optimizer_row(results["optimizer"]),
        _depth_row(results["depth"]),
        _pretrain_row(results["read"]["pretrain"]),
    ]
    return [row for row in table if row]


def _activation_row(summary):
    if not summary:
        return (
            "ELU > leaky ReLU (RReLU, PReLU) > ReLU > tanh > sigmoid",
            "not measured yet: run `zoo experiment activations`",
            "—",
        )
    from zoo.experiments.activations import _agreement

    parts, verdicts = [], []
    for depth, rows_ in summary.items():
        order = sorted(rows_, key=lambda a: rows_[a]["rank"])
        agree, pairs = _agreement(rows_)
        parts.append(f"{depth} layers: {' > '.join(order[:4])} ... {order[-1]} ({agree}/{pairs} guide pairs agree)")
        verdicts.append(agree / pairs)
    verdict = (
        "holds"
        if min(verdicts) == 1
        else "holds only in part: "
        + ", ".join(f"{depth} layers {100 * v:.0f}% of pairs" for depth, v in zip(summary, verdicts))
    )
    return (
        "ELU > leaky ReLU (RReLU, PReLU) > ReLU > tanh > sigmoid",
        "*read* `zoo experiment activations` ([report](../activations/report.md)): " + "; ".join(parts),
        verdict,
    )


def _dropout_row(dropout):
    parts, gains = [], []
    for width in sorted({row["width"] for row in dropout["rows"].values()}):
        off, on = dropout["rows"][f"{width}/0"], dropout["rows"][f"{width}/0.5"]
        gain = 100 * (statistics.median(on["test_accuracy"]) - statistics.median(off["test_accuracy"]))
        gains.append(gain)
        parts.append(
            f"2 x {width}: {statistics.median(off['test_accuracy']):.4f} without, "
            f"{statistics.median(on['test_accuracy']):.4f} with ({gain:+.1f} "
            f"points; train-validation gap without dropout {100 * off['overfit_gap']:.1f} points)"
        )
    verdict = (
        "holds, on a net that overfits"
        if all(1.0 <= g <= 3.0 for g in gains)
        else "holds only in part"
        if any(g > 0.5 for g in gains)
        else "does not hold here"
    )
    return (
        "Dropout stably improves a network by about 2%",
        f"default stack with dropout 0 vs 0.5, {dropout['train_size']:,} training images, {dropout['epochs']} epochs: "
        + "; ".join(parts),
        verdict + f" (gains {', '.join(f'{g:+.1f}' for g in gains)} points)",
    )


def _optimizer_row(optimizer):
    rows_ = optimizer["rows"]
    parts = [
        f"{name}: epoch {row['epochs_to_target']:g}, {row['seconds_to_target'] or 0:.0f} s "
        f"({row['reached']} of {len(row['test_accuracy'])} seeds reach it; test "
        f"{statistics.median(row['test_accuracy']):.4f})"
        if row["epochs_to_target"]
        else f"{name}: does not reach it in {optimizer['epochs']} epochs "
        f"(test {statistics.median(row['test_accuracy']):.4f})"
        for name, row in rows_.items()
    ]
    adam = rows_["adam 0.001"]["epochs_to_target"]
    sgd = [row["epochs_to_target"] for name, row in rows_.items() if name.startswith("sgd")]
    best_sgd = min((e for e in sgd if e), default=None)
    if adam and (best_sgd is None or best_sgd >= 2 * adam):
        verdict = "holds"
    elif adam and best_sgd and best_sgd > adam:
        verdict = "holds, but the speed-up is modest"
    else:
        verdict = "does not hold here"
    return (
        "Adam instead of plain gradient descent greatly speeds up convergence",
        f"default-stack 2 x (256, 128) net, batch 64, epochs to validation accuracy {optimizer['target']}: "
        + "; ".join(parts),
        verdict,
    )


def _depth_row(depth):
    deep, shallow = statistics.median(depth["deep"]), statistics.median(depth["shallow"])
    moved = depth["relative_weight_change"]
    change = ", ".join(f"{v:.2g}" for v in moved)
    lower_still = moved[0] < 0.5 * moved[-1]  # the first layer moved less than half as far as the last
    if max(deep, shallow) < 0.2:
        verdict = "inconclusive: neither net left chance"
    elif abs(deep - shallow) <= 0.01:
        verdict = "holds" if lower_still else "holds in accuracy, but the first layers do learn"
    elif deep < shallow:
        verdict = (
            "holds only in part: the first layers barely learn, but the deep net does worse than the shallow one, "
            "not about as well"
            if lower_still
            else "does not hold here: the deep net does worse than the shallow one"
        )
    else:
        verdict = "does not hold here: the deep net does better than the shallow one"
    return (
        "A deep net trained from random init performs about like the shallow net made of its last few layers, "
        "because the first layers barely learn",
        f"sigmoid {depth['depth']} x {depth['width']} vs 2 x {depth['width']}, N(0, 1/fan_in), SGD "
        f"{depth['learning_rate']:g}, "
        f"{depth['epochs']} epochs: test {deep:.4f} vs {shallow:.4f}; ‖W_end - W_0‖ / ‖W_0‖ per hidden layer of the "
        f"deep net, input side first: {change}",
        verdict,
    )


def _pretrain_row(summary):
    if not summary:
        return None
    acc = {v: summary[v]["test_accuracy"]["mean"] for v in ("random", "rbm", "dae")}
    verdict = (
        "holds"
        if acc["dae"] >= acc["rbm"] - 0.03 and acc["dae"] > acc["random"] + 0.05
        else "holds only in part"
        if acc["dae"] > acc["random"] + 0.05
        else "does not hold here"
    )
    return (
        "Stacked denoising autoencoders pretrain a deep net about as well as RBMs (Vincent et al. 2008, 2010)",
        f"*read* `zoo experiment pretrain` ([report](../pretrain/report.md)): sigmoid 6 x 256, mean test accuracy "
        f"random init {acc['random']:.4f}, RBM {acc['rbm']:.4f}, DAE {acc['dae']:.4f}",
        verdict,
    )
