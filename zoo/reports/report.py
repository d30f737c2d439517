"""What a benchmark's numbers say: spreads over seeds, per-variant summaries, the Markdown report and index.

Pure Python over results data (the dicts `zoo.tools.bench` writes to results.json), so a committed
results file can be re-rendered without TensorFlow.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from zoo.errors import DataError
from zoo.reports.records import write_text


def score_label(score: str) -> str:
    """What a reader calls a run's score: "accuracy", or "R^2" for a regression's "r2".

    Examples:
        >>> score_label("accuracy"), score_label("r2")
        ('accuracy', 'R^2')
    """
    return "R^2" if score == "r2" else score


def first_crossing(values: list[float], seconds: list[float], target: float) -> tuple[int | None, float | None]:
    """(epoch, seconds) at which `values` first reach `target`, or (None, None).

    Examples:
        >>> first_crossing([0.5, 0.9, 0.95], [10.0, 20.0, 30.0], 0.9)
        (2, 20.0)
    """
    for epoch, value in enumerate(values):
        if value >= target:
            return epoch + 1, (seconds[epoch] if epoch < len(seconds) else None)
    return None, None


def spread(values: list[float]) -> dict[str, float]:
    """Median, min, max, mean, std and count of `values` (the summary every benchmark reports).

    Examples:
        >>> spread([0.8, 0.9, 1.0])["median"]
        0.9
    """
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
        "std": statistics.pstdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
    }


def commit_text(info: dict[str, Any] | None) -> str:
    """A run's commit as a report names it: short, and marked when the run had uncommitted changes (then the
    commit is not the code that ran); None (an installed zoo, no checkout) reads "an installed zoo".

    Examples:
        >>> commit_text({"commit": "ab83d5f0" * 5, "uncommitted_changes": True})
        'ab83d5f (with uncommitted changes)'
    """
    if not info:
        return "an installed zoo"
    return info["commit"][:7] + (" (with uncommitted changes)" if info.get("uncommitted_changes") else "")


def trained_at(labelled: list[tuple[str, str]]) -> str:
    """ "Trained at: " each commit (as the caller writes it) with the labels that trained there, in first-seen
    order: for results assembled from several sittings.

    Examples:
        >>> trained_at([("tiny", "ab83d5f"), ("cnn", "1a1620c"), ("cnn 14", "ab83d5f"), ("tiny", "ab83d5f")])
        'Trained at: ab83d5f: tiny, cnn 14; 1a1620c: cnn.'
    """
    commits: dict[str, list[str]] = {}
    for label, commit in labelled:
        labels = commits.setdefault(commit, [])
        labels += [label] if label not in labels else []
    return "Trained at: " + "; ".join(f"{commit}: {', '.join(labels)}" for commit, labels in commits.items()) + "."


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and spread of each variant's test accuracy, training time and time to target."""
    summary: dict[str, Any] = {}
    for variant in dict.fromkeys(run["variant"] for run in runs):
        mine = [run for run in runs if run["variant"] == variant]
        reached = [run["seconds_to_target"] for run in mine if run["seconds_to_target"] is not None]
        summary[variant] = {
            "label": mine[0]["label"],
            "test_accuracy": spread([run["test_accuracy"] for run in mine]),
            "train_seconds": spread([run["train_seconds"] for run in mine]),
            "reached_target": f"{len(reached)}/{len(mine)}",
            "median_seconds_to_target": statistics.median(reached) if reached else None,
            # Runs that diverged or stayed at chance (zoo.training.status.training_status); older files lack it.
            "failed_runs": {
                status: sum(run.get("status") == status for run in mine) for status in ("diverged", "chance")
            },
        }
    return summary


def goal_status(results: dict[str, Any]) -> str | None:
    """'met' / 'not met' for the recipe's claimed median test accuracy, or None without a claim."""
    goal = results.get("goal_test_accuracy")
    if not goal:
        return None
    return "met" if results["summary"]["recipe"]["test_accuracy"]["median"] >= goal else "not met"


def render_report(results: dict[str, Any]) -> str:
    """The Markdown report: setup, one table row per variant, and a verdict."""
    summary = results["summary"]
    seeds = len(results["seeds"])
    lines = [
        f"# {results['recipe']}: recipe vs sigmoid/SGD baseline",
        "",
        f"{results['description']}.",
        "",
        f"Data: {results['dataset']['name']} ({results['dataset']['source']}); "
        f"{results['dataset']['train_size']} train / {results['dataset']['validation_size']} validation (fixed-seed "
        "split) / "
        f"{results['dataset']['test_size']} test. Budget: {results['epochs_budget']} epochs, batch "
        f"{results['resolved_recipe']['train']['batch_size']}, early stopping patience "
        f"{results['resolved_recipe']['train']['early_stopping_patience']} on validation accuracy; seeds "
        f"{results['seeds']}.",
        "",
        "Baseline learning rate picked on validation accuracy (seed "
        f"{results['baseline_grid'][0]['seed']}) from the grid: "
        + ", ".join(f"{g['learning_rate']:g} -> {g['best_val_accuracy']:.4f}" for g in results["baseline_grid"])
        + f"; picked **{results['baseline_learning_rate']:g}**.",
        "",
        f"| variant | optimizer, rate | test accuracy, median of {seeds} (min-max) | train time, median | reached "
        f"val {results['target_val_accuracy']:g} | median s to reach it | params |",
        "|---|---|---|---|---|---|---|",
    ]
    variants = {v["variant"]: v for v in results["variants"]}
    for variant, row in summary.items():
        acc = row["test_accuracy"]
        to_target = f"{row['median_seconds_to_target']:.0f}" if row["median_seconds_to_target"] is not None else "never"
        lines.append(
            f"| {row['label']} | {variants[variant]['optimizer']} {variants[variant]['learning_rate']:g} | "
            f"{acc['median']:.4f} ({acc['min']:.4f}-{acc['max']:.4f}) | "
            f"{row['train_seconds']['median']:.0f} s | {row['reached_target']} | {to_target} | "
            f"{variants[variant]['params']:,} |"
        )
    lines += _failures(summary) + _ladder_rates(results, variants)
    gain = summary["recipe"]["test_accuracy"]["median"] - summary["baseline"]["test_accuracy"]["median"]
    lines += ["", f"**Verdict:** the recipe's median test accuracy is {100 * gain:+.1f} points against the baseline's."]
    status = goal_status(results)
    if status:
        lines.append(f"Claimed median test accuracy >= {results['goal_test_accuracy']:.3f}: **{status}**.")
    regenerate = results.get("regenerate") or (
        f"zoo bench {results['recipe']} --seeds {seeds} "
        f"--{'' if results['ablation'] else 'no-'}ablation --epochs {results['epochs_budget']}"
    )
    cost = (
        f"{results['train_seconds_all_runs']:,.0f} s of training in its {results['runs_trained_or_read']} runs"
        if "train_seconds_all_runs" in results
        else f"{results['total_seconds']:.0f} s"
    )  # older results: one invocation
    lines += [
        "",
        f"Regenerate: `{regenerate}` ({cost} on this run's machine; "
        f"keras {results['versions']['keras']}, tensorflow {results['versions']['tensorflow']}).",
        "",
        *_bench_commits(results),
    ]
    return "\n".join(lines)


def _bench_commits(results: dict[str, Any]) -> list[str]:
    """ "Trained at: ..." where some runs were read back from another commit's bench (the baseline after a
    recipe's stack changed); nothing where every run trained at the commit the results record.

    Examples:
        >>> runs = [{"label": "baseline", "trained_at": {"commit": "a" * 40}}, {"label": "recipe", "trained_at": None}]
        >>> _bench_commits({"runs": runs, "versions": {"git": None}})
        ['Trained at: aaaaaaa: baseline; an installed zoo: recipe.', '']
        >>> _bench_commits({"runs": runs[1:], "versions": {"git": None}})
        []
    """
    labelled = [(run["label"], commit_text(run["trained_at"])) for run in results["runs"] if "trained_at" in run]
    if {commit for _, commit in labelled} <= {commit_text(results["versions"].get("git"))}:
        return []
    return [trained_at(labelled), ""]


def _failures(summary: dict[str, Any]) -> list[str]:
    """Report lines naming the runs that diverged or stayed at chance (none: no lines)."""
    failures = []
    for row in summary.values():
        counts = ", ".join(
            f"{count} of {row['test_accuracy']['n']} seeds {word}"
            for word, count in row.get("failed_runs", {}).items()
            if count
        )
        if counts:
            failures.append(f"{row['label']}: {counts}")
    if not failures:
        return []
    return [
        "",
        "Runs that did not train (diverged: the loss went non-finite or blew up; chance: the net learned "
        "nothing): " + "; ".join(failures) + ".",
    ]


def _ladder_rates(results: dict[str, Any], variants: dict[str, Any]) -> list[str]:
    """Report lines with the SGD rates picked for the ladder's middle steps (no ladder: no lines)."""
    middle = {v: g for v, g in results["learning_rate_grids"].items() if v != "baseline"}
    if not middle:
        return []
    picked = "; ".join(
        f"{variants[v]['label']}: " + ", ".join(f"{g['learning_rate']:g} -> {g['best_val_accuracy']:.4f}" for g in grid)
        for v, grid in middle.items()
    )
    return ["", f"The ladder's SGD steps had their rates picked the same way: {picked}."]


def write_index(results_root: str | Path = Path("benchmarks") / "results", path: str | Path | None = None) -> str:
    """One Markdown table over every recipe's results.json under `results_root`; written to `path`.

    `path` defaults to the README.md beside `results_root` (benchmarks/README.md).
    """
    results_root = Path(results_root)
    path = Path(path) if path is not None else results_root.parent / "README.md"
    rows = [
        f"| [{results['recipe']}](results/{folder}/report.md) | {accuracy(results, 'recipe')} | "
        f"{accuracy(results, 'baseline')} | {results['baseline_learning_rate']:g} | {len(results['seeds'])} | "
        f"{results['epochs_budget']} | {_goal(results)} |"
        for folder, results in _benchmarks(results_root)
    ]
    text = "\n".join(
        [
            "# Benchmarks",
            "",
            "Every recipe against the same network trained the plain pre-2010 way (sigmoid units, N(0, 1/fan_in) init,",
            "no BatchNorm or dropout, plain SGD with its learning rate picked on validation data). Test accuracy on",
            "Fashion-MNIST's 10,000 test images, median (min-max) over seeds. Generated by `zoo bench --all`",
            "from the `results.json` files below; each report has the learning curves and the full setup.",
            "",
            "| recipe | recipe test accuracy | baseline test accuracy | baseline SGD rate | seeds | epoch budget | "
            "goal |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    write_text(path, text)
    return text


HEADLINE_START = "<!-- headline rows: generated from benchmarks/results/*/results.json -->"
HEADLINE_END = "<!-- end headline rows -->"


def headline_rows(results_root: str | Path = Path("benchmarks") / "results") -> list[str]:
    """The README's headline table rows: recipe, its test accuracy, the baseline's, the claimed goal.

    Examples:
        >>> headline_rows("/nowhere")
        []
    """
    return [
        f"| [{results['recipe']}](benchmarks/results/{folder}/report.md) | {accuracy(results, 'recipe')} | "
        f"{accuracy(results, 'baseline')} | {_goal(results)} |"
        for folder, results in _benchmarks(Path(results_root))
    ]


def write_headline(readme: str | Path = "README.md", results_root: str | Path = Path("benchmarks") / "results") -> None:
    """Rewrite the rows between the README's headline markers from the committed results."""
    readme = Path(readme)
    text = readme.read_text()
    if HEADLINE_START not in text or HEADLINE_END not in text:
        raise DataError(f"{readme} has no headline table markers ({HEADLINE_START} ... {HEADLINE_END})")
    before, rest = text.split(HEADLINE_START, 1)
    after = rest.split(HEADLINE_END, 1)[1]
    write_text(readme, "\n".join([before + HEADLINE_START, *headline_rows(results_root), HEADLINE_END]) + after)


def accuracy(results: dict[str, Any], variant: str) -> str:
    """A variant's median test accuracy and its spread over seeds, as the tables print it: 0.9094 (0.9090-0.9116)."""
    spread = results["summary"][variant]["test_accuracy"]
    return f"{spread['median']:.4f} ({spread['min']:.4f}-{spread['max']:.4f})"


def _goal(results: dict[str, Any]) -> str:
    goal = results.get("goal_test_accuracy")
    return f">= {goal:.3f}: {goal_status(results)}" if goal else "-"


def _benchmarks(results_root: Path):
    """(folder name, results) of every recipe benchmark under `results_root`, by folder name."""
    for results_file in sorted(results_root.glob("*/results.json")):
        results = json.loads(results_file.read_text())
        if "schema_version" in results:  # other experiments (vanishing gradients, transfer...) keep their own reports
            yield results_file.parent.name, results
