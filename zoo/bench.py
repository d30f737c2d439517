"""Recipe vs its sigmoid/SGD baseline (and the ablation ladder between them) on real data.

For each recipe `bench` does, in order:

1. Trains the baseline once per learning rate of `recipe.baseline.learning_rates` (first seed)
   and picks the rate with the best *validation* accuracy. The test set plays no part.
2. With `ablation=True`, builds the ladder from the baseline to the recipe, one component at a
   time: + init & activation, + BatchNorm, + dropout, + optimizer (= the recipe). The steps
   that still use SGD get their own rate, picked from the same grid the same way.
3. Trains every variant for every seed: same split, batch size and epoch budget.
4. Writes `results.json`, `report.md` and `curves.png` to the results folder and prints the table.

Example:
    >>> results = bench("fashion_mlp", seeds=1, epochs=1)   # doctest: +SKIP
    >>> results["summary"]["recipe"]["test_accuracy"]["median"] > 0.8   # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from zoo.build import BASELINE_OVERRIDES, baseline_recipe, build
from zoo.data import Splits, load, reshuffled
from zoo.errors import RecipeError
from zoo.recipe import Recipe, get_recipe
from zoo.files import atomic_write, write_json
from zoo.train import train, versions

RESULTS_SCHEMA_VERSION = 1


def ladder(recipe: Recipe, baseline_learning_rate: float) -> list[tuple[str, str, Recipe]]:
    """The ablation ladder: (variant id, label, recipe) from the baseline to the recipe itself.

    Each step restores one group of the recipe's own settings on top of the previous step,
    so consecutive steps differ in exactly that group.

    Example:
        >>> [label for _, label, _ in ladder(get_recipe("fashion_mlp"), 0.1)]
        ['baseline (sigmoid, SGD)', '+ he_normal init & elu', '+ batch norm', '+ dropout 0.2', '+ adam (= recipe)']
    """
    groups = [
        ("init_activation", f"+ {recipe.stack.init} init & {recipe.stack.activation}", ["stack.init", "stack.activation"]),
        ("batch_norm", "+ batch norm", ["stack.batch_norm"]),
        ("dropout", f"+ dropout {recipe.stack.dropout:g}", ["stack.dropout", "stack.dropout_kind"]),
        ("optimizer", f"+ {recipe.train.optimizer} (= recipe)",
         ["train.optimizer", "train.learning_rate", "train.clipnorm", "train.clipvalue", "train.schedule",
          "regularization.augment",
          "regularization.l1", "regularization.l2", "regularization.max_norm"]),
    ]
    plain = baseline_recipe(recipe, baseline_learning_rate)
    steps = [("baseline", "baseline (sigmoid, SGD)", plain)]
    overrides = {**BASELINE_OVERRIDES, "train.learning_rate": baseline_learning_rate}
    for variant, label, keys in groups:
        for key in keys:
            overrides.pop(key, None)
        step = get_recipe(recipe, name=f"{recipe.name}_{variant}", **overrides)
        steps.append((variant, label, step))
    # The last step restores everything: it *is* the recipe (only the name differs).
    steps[-1] = ("recipe", steps[-1][1], recipe)
    return steps


def _first_crossing(values: list[float], seconds: list[float], target: float) -> tuple[int | None, float | None]:
    for epoch, value in enumerate(values):
        if value >= target:
            return epoch + 1, (seconds[epoch] if epoch < len(seconds) else None)
    return None, None


def _run_dir(runs_dir: Path, variant: str, recipe: Recipe) -> Path:
    return runs_dir / f"{variant}-lr{recipe.train.learning_rate:g}-seed{recipe.train.seed}"


def _run(recipe: Recipe, data: Splits, seed: int, runs_dir: Path, variant: str, label: str, verbose: int) -> dict[str, Any]:
    seeded = get_recipe(recipe, **{"train.seed": seed})
    result = train(seeded, data=reshuffled(data, seed), out_dir=_run_dir(runs_dir, variant, seeded), verbose=verbose)
    m = result.metrics
    target = recipe.bench.target_accuracy
    epoch, seconds = _first_crossing(m["history"].get("val_accuracy", []), m["epoch_end_seconds"], target)
    return {
        "variant": variant,
        "label": label,
        "seed": seed,
        "learning_rate": seeded.train.learning_rate,
        "optimizer": seeded.train.optimizer,
        "test_accuracy": m["test_accuracy"],
        "test_loss": m["test_loss"],
        "best_val_accuracy": m["best_val_accuracy"],
        "epochs_run": m["epochs_run"],
        "diverged": m["diverged"],
        "train_seconds": m["train_seconds"],
        "epochs_to_target": epoch,
        "seconds_to_target": seconds,
        "params": m["params"],
        "history": {key: m["history"].get(key, []) for key in ("loss", "accuracy", "val_loss", "val_accuracy")},
        "epoch_end_seconds": m["epoch_end_seconds"],
    }


def spread(values: list[float]) -> dict[str, float]:
    """Median, min, max, mean, std and count of `values` (the summary every benchmark reports).

    Example:
        >>> spread([0.8, 0.9, 1.0])["median"]
        0.9
    """
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "mean": statistics.fmean(values), "std": statistics.pstdev(values) if len(values) > 1 else 0.0, "n": len(values)}


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
        }
    return summary


def bench(
    recipe: Recipe | str,
    *,
    seeds: int | None = None,
    epochs: int | None = None,
    ablation: bool | None = None,
    out_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    data: Splits | None = None,
    verbose: int = 0,
    save: bool = False,
) -> dict[str, Any]:
    """Benchmark `recipe` against its baseline; write results.json, report.md, curves.png.

    `seeds` and `ablation` default to the recipe's [bench] section; `epochs` overrides `train.epochs` for every run.
    Results go to `out_dir` (default benchmarks/results/<recipe>); the per-run folders (models,
    logs) to `runs_dir` (default runs/bench/<recipe>-<time>), which is not meant to be committed.

    Example:
        >>> results = bench("fashion_mlp", seeds=1, epochs=1, out_dir="/tmp/b")   # doctest: +SKIP
        >>> sorted(results["summary"])                                             # doctest: +SKIP
        ['baseline', 'recipe']
    """
    recipe = recipe if isinstance(recipe, Recipe) else get_recipe(recipe)
    if epochs is not None:
        recipe = get_recipe(recipe, **{"train.epochs": epochs})
    seeds = recipe.bench.seeds if seeds is None else seeds
    ablation = recipe.bench.ablation if ablation is None else ablation
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise RecipeError(f"seeds = {seeds!r} is not allowed; expected an integer >= 1")
    seed_list = [recipe.train.seed + index for index in range(seeds)]
    out_dir = Path(out_dir) if out_dir is not None else Path("benchmarks") / "results" / recipe.name
    runs_dir = Path(runs_dir) if runs_dir is not None else Path("runs") / "bench" / f"{recipe.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if data is None:
        data = load(recipe.dataset, recipe.train.batch_size, recipe.validation_size)
    started = time.perf_counter()

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - started:7.0f} s] {recipe.name}: {text}", flush=True)

    def pick_rate(variant: str, label: str, make) -> tuple[list[dict], dict]:
        """Train `make(rate)` for each grid rate (first seed); the best validation accuracy wins."""
        grid = []
        for rate in recipe.baseline.learning_rates:
            grid.append(_run(make(rate), data, seed_list[0], runs_dir, variant, label, verbose))
            say(f"{label} lr={rate:g}: best validation accuracy {grid[-1]['best_val_accuracy']:.4f}")
        best = max(grid, key=lambda run: (run["best_val_accuracy"] or 0.0, -run["learning_rate"]))
        say(f"{label}: picked SGD learning rate {best['learning_rate']:g} (on validation accuracy)")
        return grid, best

    # 1. The baseline's learning rate, picked on validation accuracy with the first seed.
    grids, first_runs = {}, {}
    grids["baseline"], first_runs["baseline"] = pick_rate("baseline", "baseline (sigmoid, SGD)", lambda r: baseline_recipe(recipe, r))
    picked = first_runs["baseline"]["learning_rate"]

    # 2. The ladder. Its middle steps still train with SGD, and a rate tuned for sigmoid units is
    # not theirs (He/ELU nets can diverge at it), so each SGD step gets its own pick from the grid.
    steps = ladder(recipe, picked)
    if not ablation:
        steps = [steps[0], steps[-1]]
    for index, (variant, label, step) in enumerate(steps):
        if variant not in ("baseline", "recipe") and step.train.optimizer == "sgd":
            grids[variant], first_runs[variant] = pick_rate(variant, label, lambda r, s=step: get_recipe(s, learning_rate=r))
            steps[index] = (variant, label, get_recipe(step, learning_rate=first_runs[variant]["learning_rate"]))

    # 3. Every variant for every seed; a grid's run at the picked rate is that variant's first seed.
    runs = list(first_runs.values())
    for variant, label, step in steps:
        for seed in seed_list:
            if variant in first_runs and seed == seed_list[0]:
                continue
            run = _run(step, data, seed, runs_dir, variant, label, verbose)
            runs.append(run)
            say(f"{label}, seed {seed}: test accuracy {run['test_accuracy']:.4f} in {run['train_seconds']:.0f} s")
    order = {variant: index for index, (variant, _, _) in enumerate(steps)}
    runs.sort(key=lambda run: (order[run["variant"]], run["seed"]))

    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "recipe": recipe.name,
        "description": recipe.description,
        "resolved_recipe": recipe.to_dict(),
        "dataset": {"name": recipe.dataset, "source": data.source, **{f"{k}_size": v for k, v in data.sizes.items()}},
        "seeds": seed_list,
        "epochs_budget": recipe.train.epochs,
        "target_val_accuracy": recipe.bench.target_accuracy,
        "goal_test_accuracy": recipe.bench.goal_test_accuracy or None,
        "baseline_grid": [{"learning_rate": run["learning_rate"], "best_val_accuracy": run["best_val_accuracy"],
                           "seed": run["seed"]} for run in grids["baseline"]],
        "baseline_learning_rate": picked,
        # Every SGD variant's rate grid (validation accuracy, first seed): the baseline's and, with
        # the ablation ladder, its middle steps'.
        "learning_rate_grids": {variant: [{"learning_rate": run["learning_rate"], "best_val_accuracy": run["best_val_accuracy"]}
                                          for run in grid] for variant, grid in grids.items()},
        "ablation": ablation,
        "variants": [{"variant": v, "label": label, "optimizer": step.train.optimizer, "learning_rate": step.train.learning_rate,
                      "params": build(step).count_params()} for v, label, step in steps],
        "runs": runs,
        "summary": summarize(runs),
        "total_seconds": round(time.perf_counter() - started, 1),
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "results.json", results)
    report = render_report(results)
    atomic_write(out_dir / "report.md", lambda tmp: tmp.write_text(report))
    plot_results(results, out_dir / "curves.png")
    print(report)
    if save:
        from zoo.hub import save_run

        first = get_recipe(recipe, **{"train.seed": seed_list[0]})
        print(f"Saved for reuse: {save_run(_run_dir(runs_dir, 'recipe', first))}")
    return results


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
        f"{results['dataset']['train_size']} train / {results['dataset']['validation_size']} validation (fixed-seed split) / "
        f"{results['dataset']['test_size']} test. Budget: {results['epochs_budget']} epochs, batch "
        f"{results['resolved_recipe']['train']['batch_size']}, early stopping patience "
        f"{results['resolved_recipe']['train']['early_stopping_patience']} on validation accuracy; seeds {results['seeds']}.",
        "",
        "Baseline learning rate picked on validation accuracy (seed "
        f"{results['baseline_grid'][0]['seed']}) from the grid: "
        + ", ".join(f"{g['learning_rate']:g} -> {g['best_val_accuracy']:.4f}" for g in results["baseline_grid"])
        + f"; picked **{results['baseline_learning_rate']:g}**.",
        "",
        f"| variant | optimizer, rate | test accuracy, median of {seeds} (min-max) | train time, median | reached val {results['target_val_accuracy']:g} | median s to reach it | params |",
        "|---|---|---|---|---|---|---|",
    ]
    variants = {v["variant"]: v for v in results["variants"]}
    for variant, row in summary.items():
        acc = row["test_accuracy"]
        to_target = f"{row['median_seconds_to_target']:.0f}" if row["median_seconds_to_target"] is not None else "never"
        lines.append(
            f"| {row['label']} | {variants[variant]['optimizer']} {variants[variant]['learning_rate']:g} | "
            f"{acc['median']:.4f} ({acc['min']:.4f}-{acc['max']:.4f}) | "
            f"{row['train_seconds']['median']:.0f} s | {row['reached_target']} | {to_target} | {variants[variant]['params']:,} |"
        )
    gain = summary["recipe"]["test_accuracy"]["median"] - summary["baseline"]["test_accuracy"]["median"]
    middle = {v: g for v, g in results["learning_rate_grids"].items() if v != "baseline"}
    if middle:
        lines += ["", "The ladder's SGD steps had their rates picked the same way: " + "; ".join(
            f"{variants[v]['label']}: " + ", ".join(f"{g['learning_rate']:g} -> {g['best_val_accuracy']:.4f}" for g in grid)
            for v, grid in middle.items()) + "."]
    lines += ["", f"**Verdict:** the recipe's median test accuracy is {100 * gain:+.1f} points against the baseline's."]
    status = goal_status(results)
    if status:
        lines.append(f"Claimed median test accuracy >= {results['goal_test_accuracy']:.3f}: **{status}**.")
    lines += ["", f"Regenerate: `zoo bench {results['recipe']} --seeds {seeds} --{'' if results['ablation'] else 'no-'}ablation"
              f" --epochs {results['epochs_budget']}` ({results['total_seconds']:.0f} s on this run's machine; "
              f"keras {results['versions']['keras']}, tensorflow {results['versions']['tensorflow']}).", ""]
    return "\n".join(lines)


def plot_results(results: dict[str, Any], path: Path) -> None:
    """Validation-accuracy curves of every run (left) and test accuracy per variant (right)."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a screen
    import matplotlib.pyplot as plt

    figure, (curves, bars) = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    variants = list(results["summary"])
    for index, variant in enumerate(variants):
        for number, run in enumerate(r for r in results["runs"] if r["variant"] == variant):
            values = run["history"]["val_accuracy"]
            curves.plot(range(1, len(values) + 1), values, color=colors[index % len(colors)], alpha=0.8,
                        label=results["summary"][variant]["label"] if number == 0 else None)
    curves.set(xlabel="epoch", ylabel="validation accuracy", title=f"{results['recipe']}: learning curves (every seed)")
    curves.grid(alpha=0.3)
    curves.legend(fontsize=8)
    medians = [results["summary"][v]["test_accuracy"]["median"] for v in variants]
    low = [m - results["summary"][v]["test_accuracy"]["min"] for m, v in zip(medians, variants)]
    high = [results["summary"][v]["test_accuracy"]["max"] - m for m, v in zip(medians, variants)]
    bars.bar(range(len(variants)), medians, yerr=[low, high], capsize=4, color=[colors[i % len(colors)] for i in range(len(variants))])
    bars.set_xticks(range(len(variants)), [results["summary"][v]["label"] for v in variants], rotation=20, ha="right", fontsize=8)
    # Close results get a zoomed axis (the values are printed on the bars); far-apart ones start at 0.
    lowest = min(results["summary"][v]["test_accuracy"]["min"] for v in variants)
    bottom = 0.0 if max(medians) - lowest > 0.2 else max(0.0, lowest - 0.02)
    bars.set(ylabel="test accuracy (median, min-max)", ylim=(bottom, min(1.0, max(medians) + 0.03)),
             title="test accuracy per variant" + (f" (axis from {bottom:.2f})" if bottom else ""))
    for index, value in enumerate(medians):  # inside the bar's foot, clear of the error bars
        bars.text(index, bottom + 0.03 * (bars.get_ylim()[1] - bottom), f"{value:.4f}", ha="center", color="white",
                  fontsize=8, fontweight="bold")
    figure.tight_layout()
    atomic_write(path, lambda tmp: figure.savefig(tmp, dpi=110))
    plt.close(figure)


def write_index(results_root: str | Path = Path("benchmarks") / "results", path: str | Path | None = None) -> str:
    """One Markdown table over every recipe's results.json under `results_root`; written to `path`.

    `path` defaults to the README.md beside `results_root` (benchmarks/README.md).
    """
    results_root = Path(results_root)
    path = Path(path) if path is not None else results_root.parent / "README.md"
    rows = []
    for results_file in sorted(results_root.glob("*/results.json")):
        results = json.loads(results_file.read_text())
        if "schema_version" not in results:
            continue  # other experiments (vanishing gradients, transfer...) keep their own reports
        recipe, plain = results["summary"]["recipe"]["test_accuracy"], results["summary"]["baseline"]["test_accuracy"]
        goal = results.get("goal_test_accuracy")
        rows.append(
            f"| [{results['recipe']}](results/{results_file.parent.name}/report.md) | {recipe['median']:.4f} "
            f"({recipe['min']:.4f}-{recipe['max']:.4f}) | {plain['median']:.4f} ({plain['min']:.4f}-{plain['max']:.4f}) | "
            f"{results['baseline_learning_rate']:g} | {len(results['seeds'])} | {results['epochs_budget']} | "
            f"{f'>= {goal:.3f}: ' + goal_status(results) if goal else '-'} |"
        )
    text = "\n".join([
        "# Benchmarks",
        "",
        "Every recipe against the same network trained the plain pre-2010 way (sigmoid units, N(0, 1/fan_in) init,",
        "no BatchNorm or dropout, plain SGD with its learning rate picked on validation data). Test accuracy on",
        "Fashion-MNIST's 10,000 test images, median (min-max) over seeds. Generated by `zoo bench --all`",
        "from the `results.json` files below; each report has the learning curves and the full setup.",
        "",
        "| recipe | recipe test accuracy | baseline test accuracy | baseline SGD rate | seeds | epoch budget | goal |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])
    atomic_write(path, lambda tmp: tmp.write_text(text))
    return text
