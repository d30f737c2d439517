"""Is the default good enough, or does a search buy accuracy, and at what CPU cost? (`zoo experiment tuning`)

For each recipe: a KerasTuner search of its [tune] space (`zoo.tune`; the first trial is the recipe
itself), every trial on the recipe's own budget and scored on validation accuracy (on a built-in
dataset, its 5,000-image selection split, whatever the recipe keeps for its curves: docs/protocol.md);
then the recipe and the best configuration found are each trained again for several seeds on the
recipe's own split, as its bench trains, and tested once (where the search keeps the recipe, the two are
one set of runs, and where its committed bench trained the recipe as it ships, on clean commits, the bench's runs
are read back instead of trained again: `zoo.experiments.committed`). The test set picks nothing: it only
reports the two medians.

A recipe's search and retrainings take hours; run from a clean checkout, they live in
runs/experiments/tuning-<commit>, so the same command run again after an interruption resumes the search
(KerasTuner's project) and reads the finished retrainings back instead of training them again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from zoo.data.builtin import load
from zoo.data.sources import load_data
from zoo.errors import RecipeError
from zoo.experiments.committed import benched_runs
from zoo.experiments.levers import RECIPES as BENCHMARKED
from zoo.experiments.probe import selection_split
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.reports.progress import Progress
from zoo.reports.records import git_commit, resumable_folder, stamp, write_results
from zoo.reports.report import commit_text, spread, trained_at
from zoo.tools.bench import finished_or_trained
from zoo.tools.search import tune

# The data of a recipe with `dataset = "any"`: one of scikit-learn's tables (zoo.experiments.tabular).
TABLE_FOR = {"tabular": "breast_cancer"}
# Every benchmarked recipe, cheapest first: a run given some (`zoo experiment tuning --recipes ...`) keeps the
# others' committed rows. On 2 CPU cores one trial is about the recipe's bench time a seed (fashion_selu under
# a minute, fashion_resnet about 28 minutes), and a recipe costs its trials plus 2 x seeds retrainings.
RECIPES = ("tabular", *BENCHMARKED)


def _data(recipe, folder: Path) -> tuple[Any, Any]:
    """(what the search reads, what the final runs train on): a built-in dataset's 5,000-image selection split
    and the recipe's own split (docs/protocol.md, rules 2 and 4); a table's one split for both."""
    if recipe.dataset != "any":
        return selection_split(recipe), load(recipe.dataset, recipe.validation_size)
    from zoo.experiments.tabular import table_csv

    table = load_data(table_csv(TABLE_FOR[recipe.name], folder), target="target")
    return table, table


def _kept_rows(out_dir: Path, recipes: tuple[str, ...]) -> list[dict[str, Any]]:
    """The committed rows of recipes this run leaves out: each recipe's study stands on its own."""
    path = out_dir / "results.json"
    previous = json.loads(path.read_text())["recipes"] if path.is_file() else []
    return [row for row in previous if row["recipe"] not in recipes]


def _tune_one(
    name: str, runs_dir: Path, trials: int, algorithm: str, seeds: int, progress, results_root: Path
) -> dict[str, Any]:
    """One recipe's row: the search, then the default and the best retrained `seeds` times, tested once each (the
    default's runs read from its committed bench under `results_root` where the search keeps the recipe and the
    bench trained it as it ships: `zoo.experiments.committed`)."""
    recipe = get_recipe(name)
    choose_on, data = _data(recipe, runs_dir)
    search_dir = runs_dir / f"{name}-search"
    # A search resumed in a later sitting: the trials finished before count with their training seconds.
    earlier = json.loads((search_dir / "seconds.json").read_text()) if (search_dir / "seconds.json").is_file() else {}
    search_started = time.perf_counter()
    found = tune(recipe, data=choose_on, trials=trials, algorithm=algorithm, out_dir=search_dir, verbose=False)
    search_seconds = time.perf_counter() - search_started + sum(earlier.values())
    progress.done(f"{name}: {len(found.trials)} trials searched in {search_seconds:.0f} s")
    kept = found.best["is_recipe"]
    benched = benched_runs(recipe, seeds, results_root) if kept else None
    if benched:
        # The recipe's final runs are its committed bench's (same recipe, split and seeds): read, not trained again.
        tested = {"default": spread(benched["accuracies"])}
        progress.done(f"{name} default, {seeds} seeds: test {tested['default']['median']:.4f} ({benched['source']})")
    else:
        tested = {"default": _tested(recipe, data, runs_dir / f"{name}-default", seeds)}
        progress.done(f"{name} default, {seeds} seeds: test {tested['default']['median']:.4f}")
    if kept:
        # Training is seeded and repeats itself to the digit (the tabular and fashion_deep_mlp rows showed it), so
        # the kept recipe's final runs are the default's. A search that picks something else retrains it here, at
        # the same commit's code as the default.
        tested["tuned"] = tested["default"]
        progress.done(f"{name}: the search kept the recipe; tuned = default")
    else:
        tested["tuned"] = _tested(found.best_recipe, data, runs_dir / f"{name}-tuned", seeds)
        progress.done(f"{name} tuned, {seeds} seeds: test {tested['tuned']['median']:.4f}")
    return {
        "recipe": name,
        "data": data.source,
        "search_validation": choose_on.sizes["validation"],
        "date": time.strftime("%Y-%m-%d"),
        "trials": found.trials,
        "search_seconds": round(search_seconds, 1),
        "best_values": found.best["values"],
        "default_val_accuracy": found.default_accuracy,
        "test_accuracy": tested,
        "trained_at": git_commit(),  # a later run that keeps this row keeps where it came from
        **({"final_runs": {"source": benched["source"], "commits": benched["commits"]}} if benched else {}),
    }


def _tested(recipe: Recipe, data, stem: Path, seeds: int) -> dict[str, Any]:
    """`recipe` trained on `data` once per seed (or read back from a finished run under `stem`-seedN), tested once."""
    return spread(
        [
            finished_or_trained(get_recipe(recipe, **{"train.seed": seed}), data, Path(f"{stem}-seed{seed}"))[
                "test_accuracy"
            ]
            for seed in range(seeds)
        ]
    )


def run(
    out_dir: str | Path = Path("benchmarks/results/tuning"),
    runs_dir: str | Path | None = None,
    recipes: tuple[str, ...] = RECIPES,
    trials: int = 10,
    algorithm: str = "random",
    seeds: int = 3,
) -> dict[str, Any]:
    """Search each recipe's [tune] space, then retrain the default and the best `seeds` times each.

    Rows already in `out_dir`/results.json for recipes not named in `recipes` are kept."""
    for name in recipes:  # a bad name, or a recipe with nothing to search, is one clear line before anything trains
        if not get_recipe(name).tune:
            raise RecipeError(
                f"recipe {name!r} has no [tune] section; the tuning experiment searches {', '.join(RECIPES)}"
            )
    runs_dir = Path(runs_dir) if runs_dir else resumable_folder("tuning", "runs/experiments")
    started = time.perf_counter()
    rows = _kept_rows(Path(out_dir), recipes)
    with Progress(len(recipes) * 3, "tuning") as progress:  # per recipe: the search, the default, the best
        for name in recipes:
            rows.append(_tune_one(name, Path(runs_dir), trials, algorithm, seeds, progress, Path(out_dir).parent))
    results = {
        "experiment": "tuning",
        "algorithm": algorithm,
        "trials": trials,
        "seeds": list(range(seeds)),
        # In RECIPES' order, whichever sitting trained each row: the report reads cheapest first every time.
        "recipes": sorted(
            rows, key=lambda row: RECIPES.index(row["recipe"]) if row["recipe"] in RECIPES else len(RECIPES)
        ),
        **stamp(started),
    }
    write_results(out_dir, results, _report(results))
    return results


def _verdict(row: dict[str, Any]) -> str:
    default, tuned = row["test_accuracy"]["default"], row["test_accuracy"]["tuned"]
    gain = 100 * (tuned["median"] - default["median"])
    noise = 100 * max(default["max"] - default["min"], tuned["max"] - tuned["min"])
    if abs(gain) <= noise:
        return (
            f"the search moved the median test accuracy by {gain:+.2f} points, within the seed-to-seed spread "
            f"({noise:.2f} points): the default is as good as what {_minutes(row['search_seconds'])} of search found"
        )
    better = "bought" if gain > 0 else "lost"
    return f"the search {better} {abs(gain):.2f} points of median test accuracy for {_minutes(row['search_seconds'])}"


def _commits(row: dict[str, Any]) -> str:
    return ", ".join(commit[:7] for commit in row["final_runs"]["commits"])


def _minutes(seconds: float) -> str:
    """ "1 CPU-minute", "37 CPU-minutes".

    Examples:
        >>> _minutes(70), _minutes(2234)
        ('1 CPU-minute', '37 CPU-minutes')
    """
    minutes = round(seconds / 60)
    return f"{minutes} CPU-minute{'' if minutes == 1 else 's'}"


def _report(results: dict[str, Any]) -> str:
    lines = [
        "# Default vs tuned: does a search beat the recipe?",
        "",
        f"{results['algorithm']} search, {results['trials']} trials per recipe (trial 1 = the recipe), each on the "
        "recipe's budget, chosen on validation accuracy (Fashion-MNIST: the 5,000-image selection split); then "
        f"default and best retrained for seeds {results['seeds']} on the recipe's own split, median (min-max) test "
        "accuracy.",
        "",
        "| recipe (data) | default | tuned | search time | best values | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["recipes"]:
        d, t = row["test_accuracy"]["default"], row["test_accuracy"]["tuned"]
        data = Path(row.get("data", "fashion_mnist")).stem  # rows from before the field existed were Fashion-MNIST
        lines.append(
            f"| {row['recipe']} ({data}) | {d['median']:.4f} ({d['min']:.4f}-{d['max']:.4f}) | {t['median']:.4f} "
            f"({t['min']:.4f}-{t['max']:.4f}) | {row['search_seconds']:.0f} s | {row['best_values']} | "
            f"{_verdict(row)} |"
        )
    total = sum(row["search_seconds"] for row in results["recipes"])
    trained = [(row["recipe"], commit_text(row["trained_at"])) for row in results["recipes"] if row.get("trained_at")]
    read = [
        f"{row['recipe']} ({row['final_runs']['source']}, trained at {_commits(row)})"
        for row in results["recipes"]
        if row.get("final_runs")
    ]
    lines += [
        "",
        *([trained_at(trained), ""] if trained else []),
        *(
            [f"Final runs read from the recipe's committed bench (the search kept the recipe): {'; '.join(read)}.", ""]
            if read
            else []
        ),
        f"Regenerate: `zoo experiment tuning` (the searches alone: {_minutes(total)} here; a run "
        "given some recipes keeps the other recipes' committed rows).",
        "",
    ]
    return "\n".join(lines)
