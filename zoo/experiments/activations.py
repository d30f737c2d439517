"""The activation ranking, measured: ELU > leaky ReLU (and RReLU, PReLU) > ReLU > tanh > sigmoid?

That ranking is the default-configuration guide's (Géron, *Hands-On Machine Learning*, ch. 11).
Every activation zoo has trains the same dense net on Fashion-MNIST at two depths, with the
initializer it calls for (Glorot for sigmoid and tanh, LeCun for SELU, He for the rest), no
BatchNorm and no dropout (so the activation alone carries the signal through the depth), Adam
at 1e-3, batches of 64, the same fixed epoch budget for all, several seeds. Reported: median
test accuracy, and the first epoch whose validation accuracy reaches a target.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from zoo.data.builtin import load
from zoo.experiments.common import plain_mlp
from zoo.recipes.stacks import ACTIVATIONS
from zoo.reports.boards import ranked_bars_figure
from zoo.reports.plots import learning_curves_figure
from zoo.reports.records import run_folder, stamp, write_results
from zoo.reports.report import spread
from zoo.training.trainer import train

INIT_FOR = {"sigmoid": "glorot_normal", "tanh": "glorot_normal", "selu": "lecun_normal"}  # the rest: he_normal
# The guide's order, best first; RReLU and PReLU share leaky ReLU's place.
GUIDE = {"elu": 1, "leaky_relu": 2, "rrelu": 2, "prelu": 2, "relu": 3, "tanh": 4, "sigmoid": 5}


def recipe_for(activation: str, depth: int, width: int, epochs: int, seed: int = 0):
    """The shared net (`depth` x `width`, no BatchNorm or dropout, Adam 1e-3) with `activation` and its initializer.

    Examples:
        >>> recipe = recipe_for("tanh", 3, 50, 2)
        >>> recipe.stack.init, recipe.model.hidden, recipe.stack.batch_norm
        ('glorot_normal', [50, 50, 50], False)
    """
    return plain_mlp(
        f"{activation}_{depth}x{width}",
        hidden=[width] * depth,
        activation=activation,
        init=INIT_FOR.get(activation, "he_normal"),
        batch_norm=False,
        dropout=0.0,
        optimizer="adam",
        learning_rate=1e-3,
        batch_size=64,
        epochs=epochs,
        early_stopping_patience=0,
        seed=seed,
    )


def epochs_to(curve: list[float], target: float) -> int | None:
    """The first epoch (from 1) whose validation accuracy is at least `target`.

    Examples:
        >>> epochs_to([0.80, 0.86, 0.88], 0.85), epochs_to([0.80], 0.85)
        (2, None)
    """
    return next((epoch for epoch, value in enumerate(curve, 1) if value >= target), None)


def run(
    out_dir: str | Path = Path("benchmarks/results/activations"),
    runs_dir: str | Path | None = None,
    depths=(2, 12),
    width: int = 100,
    epochs: int = 5,
    seeds=(0, 1, 2),
    target: float = 0.85,
    activations=ACTIVATIONS,
) -> dict[str, Any]:
    """Train every activation at every depth for every seed; returns the results written to `out_dir`."""
    runs_dir = Path(runs_dir) if runs_dir else run_folder("activations", "runs/experiments")
    started = time.perf_counter()
    data = load("fashion_mnist")
    runs = []
    for depth in depths:
        for activation in activations:
            for seed in seeds:
                recipe = recipe_for(activation, depth, width, epochs, seed)
                result = train(recipe, data=data, verbose=0, out_dir=runs_dir / f"{recipe.name}-seed{seed}")
                curve = result.metrics["history"]["val_accuracy"]
                runs.append(
                    {
                        "activation": activation,
                        "depth": depth,
                        "seed": seed,
                        "init": recipe.stack.init,
                        "test_accuracy": result.metrics["test_accuracy"],
                        "val_accuracy": curve,
                        "epochs_to_target": epochs_to(curve, target),
                        "train_seconds": result.metrics["train_seconds"],
                        "status": result.metrics["status"],
                    }
                )
                print(
                    f"[{time.perf_counter() - started:6.0f} s] {depth} x {width} {activation} seed {seed}: "
                    f"test {runs[-1]['test_accuracy']:.4f}",
                    flush=True,
                )
    results = {
        "experiment": "activations",
        "depths": list(depths),
        "width": width,
        "epochs": epochs,
        "seeds": list(seeds),
        "target": target,
        "summary": _summary(runs, depths, activations),
        "runs": runs,
        **stamp(started),
    }
    write_results(out_dir, results, report(results), figures(results))
    return results


def figures(results: dict[str, Any]) -> dict[str, Any]:
    """depth-N.png per depth: each activation's validation curve, the median over seeds in a min-max band; and
    ranking.png: the activations ranked by test accuracy, a panel per depth."""
    runs = results["runs"]
    activations = list(dict.fromkeys(r["activation"] for r in runs))
    return {
        f"depth-{depth}.png": learning_curves_figure(
            {a: [r["val_accuracy"] for r in runs if r["activation"] == a and r["depth"] == depth] for a in activations},
            title=f"{depth} x {results['width']} dense net, no BatchNorm, Adam (median of "
            f"{len(results['seeds'])} seeds, min-max band)",
            spread=True,
        )
        for depth in results["depths"]
    } | {
        "ranking.png": ranked_bars_figure(
            {
                f"{depth} x {results['width']}": {
                    a: row["test_accuracy"] for a, row in results["summary"][str(depth)].items()
                }
                for depth in results["depths"]
            },
            xlabel="test accuracy (median, min-max)",
            title="The activation ranking, deepest nets right",
        )
    }


def _summary(runs, depths, activations) -> dict[str, Any]:
    summary = {}
    for depth in depths:
        rows = {}
        for activation in activations:
            mine = [r for r in runs if r["depth"] == depth and r["activation"] == activation]
            reached = [r["epochs_to_target"] for r in mine if r["epochs_to_target"] is not None]
            rows[activation] = {
                "test_accuracy": spread([r["test_accuracy"] for r in mine]),
                "epochs_to_target": statistics.median(reached) if len(reached) * 2 > len(mine) else None,
                "train_seconds": statistics.median(r["train_seconds"] for r in mine),
            }
        ranked = sorted(rows, key=lambda a: -rows[a]["test_accuracy"]["median"])
        for place, activation in enumerate(ranked, 1):
            rows[activation]["rank"] = place
        summary[str(depth)] = rows
    return summary


def _agreement(rows: dict[str, Any]) -> tuple[int, int]:
    """Pairs of the guide's ranked activations (different places) that our medians order the same way, and all such
    pairs."""
    ranked = [a for a in GUIDE if a in rows]
    pairs = [(a, b) for i, a in enumerate(ranked) for b in ranked[i + 1 :] if GUIDE[a] < GUIDE[b]]
    agree = sum(rows[a]["test_accuracy"]["median"] > rows[b]["test_accuracy"]["median"] for a, b in pairs)
    return agree, len(pairs)


def report(results: dict[str, Any]) -> str:
    width, epochs = results["width"], results["epochs"]
    lines = [
        "# The activation ranking, measured (Fashion-MNIST)",
        "",
        f"A dense net of {width}-unit layers at depths {', '.join(map(str, results['depths']))}; each activation "
        "with its own",
        "initializer (Glorot: sigmoid, tanh; LeCun: SELU; He: the rest), no BatchNorm, no dropout, Adam 1e-3, "
        "batches of 64,",
        f"{epochs} epochs for every run; seeds {results['seeds']}. Epochs to target: the median first epoch whose "
        "validation",
        f"accuracy reaches {results['target']} (— when most seeds never do).",
        "",
    ]
    for depth, rows in results["summary"].items():
        agree, pairs = _agreement(rows)
        lines += [
            f"## {depth} hidden layers",
            "",
            "| our rank | activation | guide's place | test accuracy, median (min-max) | epochs to target | seconds |",
            "|---|---|---|---|---|---|",
        ]
        for activation in sorted(rows, key=lambda a: rows[a]["rank"]):
            row, acc = rows[activation], rows[activation]["test_accuracy"]
            lines.append(
                f"| {row['rank']} | {activation} | {GUIDE.get(activation, 'not ranked')} | {acc['median']:.4f} "
                f"({acc['min']:.4f}-{acc['max']:.4f}) | {row['epochs_to_target'] or '—'} | {row['train_seconds']:.0f} |"
            )
        lines += ["", f"Of the {pairs} pairs the guide orders, our medians agree on {agree}.", ""]
    lines += _verdict(results)
    lines += [
        "",
        f"Curves: {', '.join(f'[depth-{d}.png](depth-{d}.png)' for d in results['depths'])}; the ranking at a "
        "glance: [ranking.png](ranking.png).",
        "",
        f"Regenerate: `zoo experiment activations` ({results['seconds']} s on this run's machine).",
        "",
    ]
    return "\n".join(lines)


def _verdict(results: dict[str, Any]) -> list[str]:
    lines = ["## Verdict", ""]
    for depth, rows in results["summary"].items():
        best = min(rows, key=lambda a: rows[a]["rank"])
        worst = max(rows, key=lambda a: rows[a]["rank"])
        agree, pairs = _agreement(rows)
        spread_points = 100 * (rows[best]["test_accuracy"]["median"] - rows[worst]["test_accuracy"]["median"])
        word = "holds" if agree == pairs else "holds mostly" if agree >= 0.75 * pairs else "does not hold"
        # The typical seed-to-seed range: when every median sits within it, the order is noise.
        noise = 100 * statistics.median(r["test_accuracy"]["max"] - r["test_accuracy"]["min"] for r in rows.values())
        lines.append(
            f"- {depth} layers: the guide's ranking {word} here ({agree} of {pairs} ordered pairs agree); best {best}, "
            f"worst {worst}, {spread_points:.1f} points apart"
            + (
                f", about the typical seed-to-seed range of {noise:.1f} points: at this depth the activation "
                "hardly matters and the order is mostly noise."
                if spread_points <= 2 * noise
                else f" (typical seed-to-seed range {noise:.1f} points)."
            )
        )
    return lines
