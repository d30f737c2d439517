"""Every figure zoo draws, as a `matplotlib.figure.Figure`: no pyplot, no global backend switch.

Building a `Figure` directly (matplotlib's documented way for code that only writes files)
leaves a notebook's plotting backend and pyplot's figure list alone; `zoo.reports.records.save_figure`
writes the PNG. Each function takes plain results data, so a committed results.json can be
redrawn without training anything.

Examples:
    >>> figure = learning_curves_figure({"recipe": [[0.80, 0.85, 0.88]]}, title="example")
    >>> len(figure.axes)
    1
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps, rcParams
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from zoo.errors import DataError


def _colors() -> list[str]:
    return rcParams["axes.prop_cycle"].by_key()["color"]


def _draw_curves(axis, groups: dict[str, Sequence[Sequence[float]]], spread: bool = False) -> None:
    """One colour per group, one line per run in it; the legend names each group once. With `spread`, one
    line per group instead, the median over its runs, in a band from their lowest to their highest value."""
    colors = _colors()
    if len(groups) > len(colors):  # more groups than the default cycle's colours: no two may share one
        colors = [colormaps["tab20"](i) for i in range(20)]
    for index, (label, runs) in enumerate(groups.items()):
        color = colors[index % len(colors)]
        if spread and runs:
            length = min(len(values) for values in runs)
            table = np.array([values[:length] for values in runs], dtype=float)
            epochs = range(1, length + 1)
            axis.plot(epochs, np.median(table, axis=0), color=color, label=label)
            axis.fill_between(epochs, table.min(axis=0), table.max(axis=0), color=color, alpha=0.15)
            continue
        for number, values in enumerate(runs):
            axis.plot(range(1, len(values) + 1), values, color=color, alpha=0.8, label=label if number == 0 else None)
    axis.xaxis.get_major_locator().set_params(integer=True)  # whole epochs only
    axis.grid(alpha=0.3)
    # Many groups: the legend beside the axis, where it hides no curve.
    axis.legend(fontsize=8, **({"loc": "upper left", "bbox_to_anchor": (1.01, 1)} if len(groups) > 6 else {}))


def learning_curves_figure(
    groups: dict[str, Sequence[Sequence[float]]],
    title: str = "",
    xlabel: str = "epoch",
    ylabel: str = "validation accuracy",
    spread: bool = False,
) -> Figure:
    """Validation curves: `groups` maps a label to one value list per run (seed); with `spread`, each
    group's median over its runs in a min-max band (readable where many groups share a narrow range).

    Examples:
        >>> figure = learning_curves_figure({"elu": [[0.5, 0.8], [0.6, 0.9]]}, spread=True)
        >>> len(figure.axes[0].lines), len(figure.axes[0].collections)   # one median line, one band
        (1, 1)
    """
    figure = Figure(figsize=(8.5 if len(groups) > 6 else 7, 4.5), layout="tight")
    axis = figure.subplots()
    finals = {label: float(np.median([values[-1] for values in runs])) for label, runs in groups.items() if runs}
    # A group far below the rest (a net at chance) would squeeze the others into one band: the axis keeps
    # to the rest, and the legend gives the low group's final value instead.
    low = {label for label, value in finals.items() if value < max(finals.values(), default=0) - 0.2}
    if spread and low and len(low) < len(finals):
        groups = {
            (f"{label} (below the axis: {finals[label]:.2f})" if label in low else label): runs
            for label, runs in groups.items()
        }
        kept = [v for label, runs in groups.items() if "below the axis" not in label for r in runs for v in r]
        axis.set_ylim(min(kept) - 0.005, max(kept) + 0.005)
    _draw_curves(axis, groups, spread)
    axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return figure


def run_curves_figure(history: dict[str, Sequence[float]], score: str, title: str = "") -> Figure:
    """One run's learning curves: loss and its score (accuracy or R^2), training and validation, per epoch.

    Examples:
        >>> history = {"loss": [1.0, 0.6], "val_loss": [0.9, 0.7], "accuracy": [0.6, 0.8], "val_accuracy": [0.6, 0.7]}
        >>> [axis.get_ylabel() for axis in run_curves_figure(history, "accuracy").axes]
        ['loss', 'accuracy']
    """
    figure = Figure(figsize=(8, 3.4), layout="constrained")
    for axis, name in zip(figure.subplots(1, 2), ("loss", score)):
        for key, label, style in ((name, "training", "--"), (f"val_{name}", "validation", "-")):
            values = history.get(key) or []
            if values:
                axis.plot(range(1, len(values) + 1), values, style, marker="o", markersize=3, label=label)
        axis.set(xlabel="epoch", ylabel=name)
        axis.xaxis.get_major_locator().set_params(integer=True)  # whole epochs only
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    return figure


def bench_figure(results: dict[str, Any]) -> Figure:
    """A benchmark's validation curves of every run (left) and test accuracy per variant (right)."""
    summary = results["summary"]
    variants = list(summary)
    groups = {
        summary[v]["label"]: [r["history"]["val_accuracy"] for r in results["runs"] if r["variant"] == v]
        for v in variants
    }
    recipe_runs = groups[summary[variants[-1]]["label"]]
    later = [value for values in recipe_runs for value in values[len(values) // 2 :]]
    everything = [value for runs in groups.values() for values in runs for value in values]
    # Far-apart variants (a baseline at chance) squeeze the recipe's seeds into one line: zoom on them too.
    zoom = bool(later) and min(everything) < min(later) - 0.2
    figure = Figure(figsize=(17 if zoom else 12, 4.5), layout="tight")
    panels = figure.subplots(1, 3 if zoom else 2)
    curves, bars = panels[0], panels[-1]
    _draw_curves(curves, groups)
    curves.set(xlabel="epoch", ylabel="validation accuracy", title=f"{results['recipe']}: learning curves (every seed)")
    if zoom:
        close = panels[1]
        _draw_curves(close, {summary[variants[-1]]["label"]: recipe_runs})
        close.set(
            xlabel="epoch",
            ylabel="validation accuracy",
            ylim=(min(later) - 0.01, max(later) + 0.005),
            title="the recipe's seeds, zoomed on their second half",
        )
    colors = _colors()
    medians = [summary[v]["test_accuracy"]["median"] for v in variants]
    low = [m - summary[v]["test_accuracy"]["min"] for m, v in zip(medians, variants)]
    high = [summary[v]["test_accuracy"]["max"] - m for m, v in zip(medians, variants)]
    bars.bar(
        range(len(variants)),
        medians,
        yerr=[low, high],
        capsize=4,
        color=[colors[i % len(colors)] for i in range(len(variants))],
    )
    bars.set_xticks(range(len(variants)), [summary[v]["label"] for v in variants], rotation=20, ha="right", fontsize=8)
    # Close results get a zoomed axis (the values are printed on the bars); far-apart ones start at 0.
    lowest = min(summary[v]["test_accuracy"]["min"] for v in variants)
    bottom = 0.0 if max(medians) - lowest > 0.2 else max(0.0, lowest - 0.02)
    bars.set(
        ylabel="test accuracy (median, min-max)",
        ylim=(bottom, min(1.0, max(medians) + 0.03)),
        title="test accuracy per variant" + (f" (axis from {bottom:.2f})" if bottom else ""),
    )
    for index, value in enumerate(medians):  # inside the bar's foot, clear of the error bars
        bars.text(
            index,
            bottom + 0.03 * (bars.get_ylim()[1] - bottom),
            f"{value:.4f}",
            ha="center",
            color="white",
            fontsize=8,
            fontweight="bold",
        )
    return figure


def gradient_norms_figure(records: list[dict[str, Any]], title: str = "") -> Figure:
    """Per-layer ||dC/dW|| on a log scale, one line per recorded epoch (zoo.training.diagnostics records)."""
    figure = Figure(figsize=(7, 4), layout="tight")
    axis = figure.subplots()
    colors = colormaps["viridis"](np.linspace(0, 1, max(len(records), 2)))
    for color, record in zip(colors, records):
        norms = [max(row["weight_grad_norm"], 1e-30) for row in record["layers"]]
        axis.plot(
            range(1, len(norms) + 1),
            norms,
            marker="o",
            color=color,
            label="initialization" if record["epoch"] == 0 else f"epoch {record['epoch']}",
        )
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set(
        yscale="log",
        xlabel="hidden layer (1 = nearest the input)",
        ylabel="||dC/dW||",
        title=f"{title}: per-layer gradient norm".strip(": "),
    )
    axis.grid(alpha=0.3, which="both")
    if len(records) <= 12:
        axis.legend(fontsize=7)
    return figure


def filters_figure(kernel: np.ndarray, title: str = "", count: int = 100) -> Figure:
    """The first `count` hidden units' incoming weights as square tiles (28x28 for Fashion-MNIST).

    Examples:
        >>> len(filters_figure(np.random.rand(64, 10)).axes)  # 10 tiles on a 4 x 3 grid
        12
    """
    side = math.isqrt(kernel.shape[0])
    if side * side != kernel.shape[0]:
        raise DataError(f"a kernel with {kernel.shape[0]} inputs is not a square image; filters need e.g. 784 = 28x28")
    count = min(count, kernel.shape[1])
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(columns * 0.8, rows * 0.8 + 0.4), layout="tight")
    for index, axis in enumerate(np.atleast_1d(figure.subplots(rows, columns)).ravel()):
        axis.axis("off")
        if index < count:
            tile = kernel[:, index].reshape(side, side)
            limit = np.abs(tile).max() or 1.0  # each tile on its own symmetric scale: grey is zero
            axis.imshow(tile, cmap="gray", vmin=-limit, vmax=limit)
    figure.suptitle(title or f"first-layer filters ({count} of {kernel.shape[1]} units)", fontsize=9)
    return figure


def lr_find_figure(rates: Sequence[float], losses: Sequence[float], suggestion: float, title: str = "") -> Figure:
    """The learning-rate finder's smoothed loss against the rate (log scale), the suggestion marked.

    Examples:
        >>> lr_find_figure([1e-4, 1e-3, 1e-2], [2.3, 1.5, 3.0], 1e-3).axes[0].get_xscale()
        'log'
    """
    figure = Figure(figsize=(6, 4), layout="constrained")
    axis = figure.add_subplot()
    axis.plot(rates, losses)
    axis.axvline(suggestion, color="grey", linestyle="--", label=f"suggested {suggestion:.3g} (steepest descent)")
    axis.set_xscale("log")
    axis.set_xlabel("learning rate")
    axis.set_ylabel("training loss (smoothed)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return figure


def iteration_curves_figure(curves: dict[str, list[dict[str, Any]]], title: str, ylabel: str, log_y: bool = False):
    """One line per label: a metric against training iterations (`zoo.experiments.online.online_fit`'s points).

    Examples:
        >>> curve = [{"iteration": 0, "metric": 0.5}, {"iteration": 9, "metric": 0.9}]
        >>> figure = iteration_curves_figure({"a": curve}, "t", "acc")
        >>> figure.axes[0].get_xlabel()
        'iteration'
    """
    figure = Figure(figsize=(7, 4.5), layout="tight")
    axis = figure.subplots()
    for label, points in curves.items():
        axis.plot([p["iteration"] for p in points], [p["metric"] for p in points], label=label)
    axis.set(xlabel="iteration", ylabel=ylabel, title=title)
    if log_y:
        axis.set_yscale("log")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return figure


def parity_variance_figure(variance: list[dict[str, Any]]) -> Figure:
    """The parity experiment's gradient variance over target parities against d, with Theorem 1's bound."""
    figure = Figure(figsize=(6, 4), layout="tight")
    axis = figure.subplots()
    dims = [row["d"] for row in variance]
    axis.plot(dims, [row["variance"] for row in variance], "o-", label="variance over target parities (measured)")
    axis.plot(dims, [row["bound"] for row in variance], "--", label="Theorem 1 bound E||grad||^2 / 2^d")
    axis.set(
        yscale="log",
        xlabel="d (input bits)",
        ylabel="gradient variance at initialization",
        title="how much the gradient says about the target parity",
    )
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8)
    return figure


def gradient_snr_figure(snr: list[dict[str, Any]]) -> Figure:
    """The tuples experiment's gradient SNR against k per approach; estimates below their resolution drawn hollow."""
    figure = Figure(figsize=(6, 4), layout="tight")
    axis = figure.subplots()
    for approach, color in (("end-to-end", "C0"), ("decomposition", "C1")):
        rows = [row for row in snr if row["approach"] == approach]
        resolved = [r for r in rows if r["snr"] >= r["resolution"]]
        axis.plot([r["k"] for r in resolved], [r["snr"] for r in resolved], "o-", color=color, label=approach)
        hidden = [r for r in rows if r["snr"] < r["resolution"]]
        if hidden:  # below the resolution the estimate cannot be told from 0: drawn hollow, at 1/100 of it when 0
            axis.plot(
                [r["k"] for r in hidden],
                [r["snr"] or r["resolution"] / 100 for r in hidden],
                "v",
                color=color,
                markerfacecolor="none",
                label=f"{approach}: below resolution",
            )
    rows = [row for row in snr if row["approach"] == "end-to-end"]
    axis.plot(
        [r["k"] for r in rows], [r["resolution"] for r in rows], ":", color="grey", label="estimator resolution 1/N"
    )
    axis.axhline(np.finfo(np.float32).eps, color="red", linestyle="--", linewidth=0.8, label="float32 epsilon")
    axis.set(
        yscale="log",
        xlabel="k (images per input)",
        ylabel="gradient SNR at initialization",
        title="signal-to-noise ratio of the score layer's gradient",
    )
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=7, loc="center right")
    return figure


def per_set_scores_figure(rows: list[dict[str, Any]], title: str = "", highlight: str = "zoo") -> Figure:
    """One line per set, one marker per contestant at its score rescaled to the set's worst (0) and best (1);
    `rows` are {"set": name, "scores": {contestant: score}}. `highlight` is drawn large and on top."""
    names = sorted({k for row in rows for k in row["scores"]}, key=lambda k: (k != highlight, k))
    colors = _colors()
    figure = Figure(figsize=(7.5, 0.45 * len(rows) + 1.6), layout="constrained")
    axis = figure.subplots()
    for y, row in enumerate(reversed(rows)):
        low, high = min(row["scores"].values()), max(row["scores"].values())
        for index, name in enumerate(names):
            if name in row["scores"]:
                x = 1.0 if high == low else (row["scores"][name] - low) / (high - low)
                big = name == highlight
                axis.scatter(
                    x, y, s=90 if big else 30, color=colors[index % len(colors)], zorder=3 if big else 2,
                    marker="D" if big else "o", label=name if y == 0 else None, edgecolors="black" if big else "none",
                )  # fmt: skip
    axis.set_yticks(range(len(rows)), [row["set"] for row in reversed(rows)])
    axis.set(xlim=(-0.05, 1.05), xlabel="score, from the set's worst contestant (0) to its best (1)", title=title)
    axis.grid(axis="x", alpha=0.3)
    handles, labels = axis.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4), fontsize=8)
    return figure


def accuracy_against_seconds_figure(panels: dict[str, dict[str, Sequence[Sequence[float]]]], title: str = "") -> Figure:
    """One panel per set: each contestant's (seconds, test accuracy) points, one line per contestant."""
    count = max(len(panels), 1)
    figure = Figure(figsize=(4 * count, 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, count))
    colors = _colors()
    for axis, (name, curves) in zip(axes, panels.items()):
        for index, (label, points) in enumerate(curves.items()):
            seconds, accuracy = zip(*points)
            axis.plot(seconds, accuracy, marker=".", color=colors[index % len(colors)], label=label)
        finals = [points[-1][1] for points in curves.values()]
        axis.set(title=name, xlabel="seconds of training", ylabel="test accuracy")
        axis.set_ylim(max(0.0, min(finals) - 0.1), min(1.0, max(finals) + 0.02))  # the last points, not the start
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(title)
    return figure
