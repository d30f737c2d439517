"""Figures of boards: time to accuracy (the leaderboards) and rankings (the activation ranking).

Split from `zoo.reports.plots` (curves, bars of one benchmark) to keep each module small; both draw on
matplotlib's object API alone, so they work on any backend and in any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from zoo.reports.plots import _colors

SECONDS_TICKS = (1, 2, 5, 10, 20, 30, 60, 100, 200, 300, 600, 1200, 3600)  # a log axis of seconds, labelled plainly


def time_to_accuracy_figure(entries: list[dict[str, Any]], thresholds: Sequence[float], title: str = "") -> Figure:
    """Median test accuracy against median training seconds, one marker per entry, one colour per contestant.

    `entries` are dicts with "contestant", "label", "seconds" and "accuracy" (medians) and
    optional "low"/"high" accuracy bounds (drawn as error bars); dashed lines mark `thresholds`.
    Each marker carries a number (entries ordered by seconds) and a key under the axis names it: labels
    written beside a dozen markers overlapped, and ran off the axis.

    Examples:
        >>> entry = {"contestant": "zoo", "label": "a", "seconds": 50, "accuracy": 0.91}
        >>> figure = time_to_accuracy_figure([entry], [0.9])
        >>> figure.axes[0].get_xlabel()
        'training seconds (median over seeds, log scale)'
        >>> [text.get_text() for text in figure.axes[1].texts]
        ['1  zoo: a']
    """
    ordered = sorted(entries, key=lambda e: e["seconds"])
    key_height = 0.17 * len(ordered) + 0.1
    figure = Figure(figsize=(7.5, 4.6 + key_height), layout="constrained")
    axis, key = figure.subplots(2, 1, height_ratios=[4.6, key_height])
    colors = _colors()
    contestants = list(dict.fromkeys(entry["contestant"] for entry in entries))
    for number, entry in enumerate(ordered, start=1):
        color = colors[contestants.index(entry["contestant"]) % len(colors)]
        low, high = entry.get("low", entry["accuracy"]), entry.get("high", entry["accuracy"])
        axis.errorbar(
            entry["seconds"],
            entry["accuracy"],
            yerr=[[entry["accuracy"] - low], [high - entry["accuracy"]]],
            fmt="o",
            color=color,
            capsize=3,
        )
        axis.annotate(str(number), (entry["seconds"], entry["accuracy"]), xytext=(5, 2), textcoords="offset points")
        key.text(
            0,
            1 - (number - 1) / len(ordered),
            f"{number}  {entry['contestant']}: {entry['label']}",
            color=color,
            fontsize=7.5,
            va="top",
            transform=key.transAxes,
        )
    key.axis("off")
    for contestant in contestants:
        axis.plot([], [], "o", color=colors[contestants.index(contestant) % len(colors)], label=contestant)
    for threshold in thresholds:
        axis.axhline(threshold, color="grey", linestyle="--", linewidth=0.8)
    axis.set_xscale("log")
    # Plain seconds on the log axis (60, 100, 300), not 6x10^1.
    seconds = [entry["seconds"] for entry in entries]
    ticks = [t for t in SECONDS_TICKS if min(seconds) / 2 <= t <= 2 * max(seconds)]
    axis.set_xticks(ticks, [f"{t:g}" for t in ticks])
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.set_xlabel("training seconds (median over seeds, log scale)")
    axis.set_ylabel("test accuracy (median over seeds)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="lower right")
    return figure


def ranked_bars_figure(panels: dict[str, dict[str, dict[str, float]]], xlabel: str, title: str = "") -> Figure:
    """Small multiples of ranked horizontal bars: per panel, each label's median (min-max whiskers), best on top.

    `panels` maps a panel title to {label: {"median", "min", "max"}}. Each panel's axis keeps to the labels
    within 0.2 of its best; one further below gets no bar, and its value beside its name.

    Examples:
        >>> panel = {"elu": {"median": 0.87, "min": 0.86, "max": 0.88}, "sigmoid": {"median": 0.1, "min": 0.1,
        ...          "max": 0.1}}
        >>> figure = ranked_bars_figure({"depth 12": panel}, "test accuracy")
        >>> [text.get_text() for text in figure.axes[0].get_yticklabels()]
        ['sigmoid (0.10, off the axis)', 'elu']
    """
    rows = max(len(scores) for scores in panels.values())
    figure = Figure(figsize=(4.2 * len(panels), 0.32 * rows + 1.6), layout="constrained")
    for axis, (name, scores) in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels.items()):
        order = sorted(scores, key=lambda label: scores[label]["median"])  # barh draws bottom-up: best on top
        best = max(score["median"] for score in scores.values())
        shown = [label for label in order if scores[label]["median"] >= best - 0.2]
        left = min(scores[label]["min"] for label in shown) - 0.005
        for row, label in enumerate(order):
            if label not in shown:
                continue
            score = scores[label]
            whisker = [[score["median"] - max(score["min"], left)], [score["max"] - score["median"]]]
            axis.barh(row, score["median"] - left, left=left, xerr=whisker, capsize=2, color=_colors()[0])
        names = [
            label if label in shown else f"{label} ({scores[label]['median']:.2f}, off the axis)" for label in order
        ]
        axis.set_yticks(range(len(order)), names, fontsize=8)
        axis.set(xlabel=xlabel, title=name, xlim=(left, max(scores[label]["max"] for label in shown) + 0.003))
        axis.grid(alpha=0.3, axis="x")
    if title:
        figure.suptitle(title)
    return figure
