"""The CPU leaderboard's report.md, from its results (and the accelerator board's GPU rows, where committed).

Split from `zoo.experiments.leaderboard` (which trains the entries) so that each module stays small; this one
only writes words and tables.
"""

from __future__ import annotations

from typing import Any

from zoo.experiments.standings import standing_rows
from zoo.reports.report import trained_at

# The accelerator board's columns, and how the CPU board's GPU section names them.
GPU_COLUMNS = {
    "keras float32": "zoo's net, Keras (JAX) float32",
    "keras bfloat16": "the same, bfloat16",
    "keras.io example": "keras.io example convnet",
    "torch float32": "zoo's net, PyTorch float32",
}


def _gpu_section(accelerator: dict[str, Any]) -> list[str]:
    """The report's GPU rows, from the accelerator board committed beside it."""
    device = ", ".join(sorted(set(accelerator["devices"].values())))
    return [
        f"## On a GPU ({device})",
        "",
        "zoo's networks and the same budgets on one GPU, from the accelerator board "
        "([report](../accelerator/report.md), `zoo experiment accelerator`): the GPU machine has no "
        "TensorFlow, so zoo's networks train there as Keras programs on the JAX backend (`zoo.build`, "
        "the recipe's shifts as layers, `fit`) and as PyTorch twins; clocks hold training only.",
        "",
        *standing_rows(accelerator["standings"], list(GPU_COLUMNS), decimals=1, header=list(GPU_COLUMNS.values())),
        "",
    ]


def _trained_at(runs: list[dict[str, Any]]) -> list[str]:
    """A board assembled from several sittings says which entry trained at which commit (nothing for one)."""
    labelled = [(run_["label"], (run_.get("commit") or "not recorded")[:7]) for run_ in runs]
    return ["", trained_at(labelled)] if len({commit for _, commit in labelled}) > 1 else []


def board_report(results: dict[str, Any], accelerator: dict[str, Any] | None = None) -> str:
    contestants = list(dict.fromkeys(entry["contestant"] for entry in results["entries"]))
    lines = [
        "# Time to accuracy: Fashion-MNIST on this machine's CPU",
        "",
        "Seconds of training until the median test accuracy over seeds clears each threshold: the fastest "
        "fixed-budget entry of each contestant that clears it (`-`: none of its entries does). Budgets are "
        "fixed in advance, on validation (the protocol: docs/protocol.md; the budgets' selection: "
        "benchmarks/results/selection); the test set is read once per run and picks nothing.",
        "",
    ]
    lines += standing_rows(results["standings"], contestants)
    lines += [
        "",
        "Every entry (median, min-max over seeds):",
        "",
        "| contestant | entry | seeds | test accuracy | train time |",
        "|---|---|---|---|---|",
    ]
    for e in results["entries"]:
        lines.append(
            f"| {e['contestant']} | {e['label']} | {e['seeds']} | {e['accuracy']:.4f} ({e['low']:.4f}-"
            f"{e['high']:.4f}) | {e['seconds']:.0f} s |"
        )
    versions = results["versions"]
    lines += [f"\nWithdrawn: {gone['label']} ({gone['why']})." for gone in results.get("withdrawn", [])]
    lines += _trained_at(results["runs"])
    lines += [f"\nNote: {note}" for note in results.get("notes", [])]
    lines += [
        "",
        "![accuracy against time](leaderboard.png)",
        "",
    ]
    lines += _gpu_section(accelerator) if accelerator else []
    lines += [
        f"Regenerate: `zoo experiment leaderboard` ({results['seconds']:.0f} s"
        + (" of training, every entry's runs summed" if "trained_now_seconds" in results else " on this run's machine")
        + f"; keras "
        f"{versions['keras']}, tensorflow {versions['tensorflow']}, torch {versions.get('torch', 'absent')}"
        + (f", jax {versions.get('jax', 'not recorded')}" if "jax" in contestants else "")
        + ").",
        "",
    ]
    return "\n".join(lines)
