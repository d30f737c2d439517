"""Recipe vs its sigmoid/SGD baseline (and the ablation ladder between them) on real data.

For each recipe `bench` does, in order:

1. Trains the baseline once per learning rate of `recipe.baseline.learning_rates` (first seed)
   and picks the rate with the best *validation* accuracy. The test set plays no part.
2. With `ablation=True`, builds the ladder from the baseline to the recipe, one component at a
   time: + init & activation, + BatchNorm, + dropout, + optimizer (= the recipe). The steps
   that still use SGD get their own rate, picked from the same grid the same way.
3. Trains every variant for every seed: same split, batch size and epoch budget.
4. Writes `results.json`, `report.md` and `curves.png` to the results folder and prints the table.

Examples:
    (Not run by the doctests: a benchmark trains for minutes.)
    >>> results = bench("fashion_mlp", seeds=1, epochs=1)   # doctest: +SKIP
    >>> results["summary"]["recipe"]["test_accuracy"]["median"] > 0.8   # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.data.builtin import Splits
from zoo.data.sources import recipe_data
from zoo.errors import DataError
from zoo.nets.plain import BASELINE_OVERRIDES, baseline_recipe
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.reports.plots import bench_figure
from zoo.reports.progress import Progress
from zoo.reports.records import stamp, write_results, write_text
from zoo.reports.report import first_crossing, render_report, summarize
from zoo.training.trainer import train

RESULTS_SCHEMA_VERSION = 1


def ladder(recipe: Recipe, baseline_learning_rate: float) -> list[tuple[str, str, Recipe]]:
    """The ablation ladder: (variant id, label, recipe) from the baseline to the recipe itself.

    Each step restores one group of the recipe's own settings on top of the previous step,
    so consecutive steps differ in exactly that group. A group the recipe leaves as the baseline
    has it (no dropout, say) gets no step: that run would repeat the one below it.

    Examples:
        >>> [label for _, label, _ in ladder(get_recipe("mlp"), 0.1)]
        ['baseline (sigmoid, SGD)', '+ he_normal init & elu', '+ batch norm', '+ dropout 0.3', '+ adam (= recipe)']
    """
    groups = [
        (
            "init_activation",
            f"+ {recipe.stack.init} init & {recipe.stack.activation}",
            [
                "stack.name",
                "stack.init",
                "stack.init_std",
                "stack.activation",
                "stack.negative_slope",
                "stack.rrelu_lower",
                "stack.rrelu_upper",
            ],
        ),
        ("batch_norm", "+ batch norm", ["stack.batch_norm", "stack.bn_position"]),
        ("dropout", f"+ dropout {recipe.stack.dropout:g}", ["stack.dropout", "stack.dropout_kind"]),
        (
            "optimizer",
            f"+ {recipe.train.optimizer} (= recipe)",
            [
                "train.optimizer",
                "train.learning_rate",
                "train.clipnorm",
                "train.clipvalue",
                "train.schedule",
                "train.label_smoothing",
                "train.ema",
                "regularization.augment",
                "regularization.augment_amount",
                "regularization.l1",
                "regularization.l2",
                "regularization.max_norm",
            ],
        ),
    ]
    plain = baseline_recipe(recipe, baseline_learning_rate)
    steps = [("baseline", "baseline (sigmoid, SGD)", plain)]
    overrides = {**BASELINE_OVERRIDES, "train.learning_rate": baseline_learning_rate}
    for variant, label, keys in groups:
        for key in keys:
            overrides.pop(key, None)
        step = get_recipe(recipe, name=f"{recipe.name}_{variant}", **overrides)
        if _settings(step) != _settings(steps[-1][2]):
            steps.append((variant, label, step))
    # The last step restores everything: it *is* the recipe (only the name differs).
    steps[-1] = ("recipe", steps[-1][1], recipe)
    return steps


def _settings(recipe: Recipe) -> dict[str, Any]:
    return {key: value for key, value in recipe.training_dict().items() if key != "name"}


def recipe_label(recipe: Recipe) -> str:
    """The recipe's row in a benchmark without the ablation ladder: what it changes from the baseline.

    Examples:
        >>> recipe_label(get_recipe("fashion_selu"))
        'recipe (self_normalizing stack, adam)'
    """
    return f"recipe ({recipe.stack.name} stack, {recipe.train.optimizer})"


def _run_dir(runs_dir: Path, variant: str, recipe: Recipe) -> Path:
    return runs_dir / f"{variant}-lr{recipe.train.learning_rate:g}-seed{recipe.train.seed}"


def runs_folder(recipe: Recipe, seeds: list[int], data: Splits) -> Path:
    """runs/bench/<recipe>-<key>: the same recipe, seeds and data always map to the same folder,
    so an interrupted bench run again finds its finished runs there and does not retrain them
    (with or without the ablation ladder: its runs are the same).

    Examples:
        >>> runs_folder(get_recipe("fashion_mlp"), [0], None).parent
        PosixPath('runs/bench')
    """
    settings = json.dumps(
        [recipe.training_dict(), seeds, getattr(data, "source", None), getattr(data, "sizes", None)], sort_keys=True
    )
    return Path("runs") / "bench" / f"{recipe.name}-{hashlib.sha256(settings.encode()).hexdigest()[:10]}"


def _run(
    recipe: Recipe, data: Splits, seed: int, runs_dir: Path, variant: str, label: str, verbose: int
) -> dict[str, Any]:
    seeded = get_recipe(recipe, **{"train.seed": seed})
    run_dir = _run_dir(runs_dir, variant, seeded)
    done = finished_run(run_dir, seeded, data)
    if done:
        m = json.loads((done / "metrics.json").read_text())
    else:
        m = train(seeded, data=data, out_dir=run_dir, verbose=verbose).metrics
    target = recipe.bench.target_accuracy
    epoch, seconds = first_crossing(m["history"].get("val_accuracy", []), m["epoch_end_seconds"], target)
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
        "status": m["status"],
        "train_seconds": m["train_seconds"],
        "epochs_to_target": epoch,
        "seconds_to_target": seconds,
        "params": m["params"],
        "history": {key: m["history"].get(key, []) for key in ("loss", "accuracy", "val_loss", "val_accuracy")},
        "epoch_end_seconds": m["epoch_end_seconds"],
        "trained_at": m.get("versions", {}).get("git"),  # a run read back keeps the commit it trained at
    }


def finished_run(run_dir: Path, seeded: Recipe, data: Splits, beside: bool = True) -> Path | None:
    """The folder of a finished run of exactly `seeded` on exactly `data`, to read back instead of training again:
    `run_dir` (a bench interrupted and run again), else (`beside`) the same run in another bench's folder beside
    it. The baseline does not change when a recipe's stack or rate does, so a re-bench trains only what changed."""
    others = sorted(run_dir.parent.parent.glob(f"*/{run_dir.name}")) if beside else []
    for folder in (run_dir, *others):
        metrics = folder / "metrics.json"
        if not metrics.is_file() or get_recipe(folder / "recipe.toml").training_dict() != seeded.training_dict():
            continue
        if json.loads(metrics.read_text()).get("data") == data.record:
            return folder
    return None


def finished_or_trained(
    recipe: Recipe, data: Splits, run_dir: Path, epochs: int | None = None, beside: bool = False
) -> dict[str, Any]:
    """The metrics.json of `recipe`'s run on `data` in `run_dir`: read back where it (or with `beside`, one beside
    it: `finished_run`) holds exactly this run finished, else trained there (an unfinished one resumes)."""
    budget = {"train.epochs": epochs, "train.steps": 0} if epochs is not None else {}
    fitted, _ = recipe_data(get_recipe(recipe, **budget), data)  # as the run folder records it
    done = finished_run(run_dir, fitted, data, beside=beside)
    if done:
        return json.loads((done / "metrics.json").read_text())
    return train(recipe, data=data, epochs=epochs, out_dir=run_dir, verbose=0).metrics


@dataclass
class _Session:
    """One benchmark's fixed context: the recipe, its data split, the seeds and where runs go."""

    recipe: Recipe
    data: Splits
    seeds: list[int]
    runs_dir: Path
    verbose: int
    progress: Progress
    started: float = field(default_factory=time.perf_counter)

    def say(self, text: str) -> None:
        self.progress.say(text)

    def run(self, step: Recipe, seed: int, variant: str, label: str) -> dict[str, Any]:
        return _run(step, self.data, seed, self.runs_dir, variant, label, self.verbose)

    def pick_rate(self, variant: str, label: str, make) -> tuple[list[dict], dict]:
        """Train `make(rate)` for each grid rate (first seed); the best validation accuracy wins."""
        grid = []
        for rate in self.recipe.baseline.learning_rates:
            grid.append(self.run(make(rate), self.seeds[0], variant, label))
            self.progress.done(f"{label} lr={rate:g}: best validation accuracy {grid[-1]['best_val_accuracy']:.4f}")
        best = max(grid, key=lambda run: (run["best_val_accuracy"] or 0.0, -run["learning_rate"]))
        self.say(f"{label}: picked SGD learning rate {best['learning_rate']:g} (on validation accuracy)")
        return grid, best


def _tuned_steps(session: _Session, ablation: bool) -> tuple[list, dict, dict]:
    """The variants to train, each SGD one at its rate picked on validation; the grids; their first runs."""
    recipe = session.recipe
    # 1. The baseline's learning rate, picked on validation accuracy with the first seed.
    grids, first_runs = {}, {}
    grids["baseline"], first_runs["baseline"] = session.pick_rate(
        "baseline", "baseline (sigmoid, SGD)", lambda rate: baseline_recipe(recipe, rate)
    )
    # 2. The ladder. Its middle steps still train with SGD, and a rate tuned for sigmoid units is
    # not theirs (He/ELU nets can diverge at it), so each SGD step gets its own pick from the grid.
    steps = ladder(recipe, first_runs["baseline"]["learning_rate"])
    if not ablation:
        # Without the ladder's middle steps the recipe's row differs from the baseline in the whole
        # stack, not only in the optimizer the ladder's last step adds.
        steps = [steps[0], ("recipe", recipe_label(recipe), recipe)]
    for index, (variant, label, step) in enumerate(steps):
        if variant not in ("baseline", "recipe") and step.train.optimizer == "sgd":
            grids[variant], first_runs[variant] = session.pick_rate(
                variant, label, lambda rate, s=step: get_recipe(s, **{"train.learning_rate": rate})
            )
            steps[index] = (
                variant,
                label,
                get_recipe(step, **{"train.learning_rate": first_runs[variant]["learning_rate"]}),
            )
    return steps, grids, first_runs


def run_count(recipe: Recipe, seeds: int) -> int:
    """How many runs `bench` trains: each SGD variant's learning-rate grid, then every other seed of every variant.

    Examples:
        >>> run_count(get_recipe("fashion_mlp", ablation=False), seeds=3)   # baseline: 3 rates + 2 seeds; recipe: 3
        8
    """
    steps = ladder(recipe, recipe.baseline.learning_rates[0])  # the rate does not change which steps use SGD
    if not recipe.bench.ablation:
        steps = [steps[0], steps[-1]]
    grid = len(recipe.baseline.learning_rates)
    picks = lambda variant, step: variant == "baseline" or (variant != "recipe" and step.train.optimizer == "sgd")
    return sum(grid + seeds - 1 if picks(variant, step) else seeds for variant, _, step in steps)


def _every_seed(session: _Session, steps: list, first_runs: dict) -> list[dict[str, Any]]:
    """Every variant for every seed; a grid's run at the picked rate is that variant's first seed."""
    runs = list(first_runs.values())
    for variant, label, step in steps:
        for seed in session.seeds:
            if variant in first_runs and seed == session.seeds[0]:
                continue
            run = session.run(step, seed, variant, label)
            runs.append(run)
            flag = "" if run["status"] == "ok" else f" ({'DIVERGED' if run['status'] == 'diverged' else 'at chance'})"
            session.progress.done(
                f"{label}, seed {seed}: test accuracy {run['test_accuracy']:.4f} in {run['train_seconds']:.0f} s{flag}"
            )
    order = {variant: index for index, (variant, _, _) in enumerate(steps)}
    return sorted(runs, key=lambda run: (order[run["variant"]], run["seed"]))


def _results(session: _Session, steps: list, grids: dict, runs: list, ablation: bool) -> dict[str, Any]:
    recipe, data = session.recipe, session.data
    params = {run["variant"]: run["params"] for run in runs}
    # A grid's picked run is also a seed's run: count each run once.
    every_run = {id(run): run for run in [*runs, *(run for grid in grids.values() for run in grid)]}
    stamped = stamp(session.started)
    return {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "recipe": recipe.name,
        "description": recipe.description,
        "resolved_recipe": recipe.to_dict(),
        "dataset": {"name": recipe.dataset, "source": data.source, **{f"{k}_size": v for k, v in data.sizes.items()}},
        "seeds": session.seeds,
        "epochs_budget": recipe.train.epochs,
        "target_val_accuracy": recipe.bench.target_accuracy,
        "goal_test_accuracy": recipe.bench.goal_test_accuracy or None,
        "baseline_grid": [
            {"learning_rate": run["learning_rate"], "best_val_accuracy": run["best_val_accuracy"], "seed": run["seed"]}
            for run in grids["baseline"]
        ],
        "baseline_learning_rate": steps[0][2].train.learning_rate,
        # Every SGD variant's rate grid (validation accuracy, first seed): the baseline's and, with
        # the ablation ladder, its middle steps'.
        "learning_rate_grids": {
            variant: [
                {"learning_rate": run["learning_rate"], "best_val_accuracy": run["best_val_accuracy"]} for run in grid
            ]
            for variant, grid in grids.items()
        },
        "ablation": ablation,
        "variants": [
            {
                "variant": v,
                "label": label,
                "optimizer": step.train.optimizer,
                "learning_rate": step.train.learning_rate,
                "params": params[v],
            }
            for v, label, step in steps
        ],
        "runs": runs,
        "summary": summarize(runs),
        "total_seconds": stamped.pop("seconds"),
        # What a run from scratch costs: this invocation's seconds leave out the runs it read back.
        "train_seconds_all_runs": round(sum(run["train_seconds"] for run in every_run.values()), 1),
        "runs_trained_or_read": len(every_run),
        **stamped,
    }


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
    force: bool = False,
    data_flags: str = "",
) -> dict[str, Any]:
    """Benchmark `recipe` against its baseline; write results.json, report.md, curves.png.

    `seeds` and `ablation` default to the recipe's [bench] section; `epochs` overrides `train.epochs` for every
    run. Per-run folders go to `runs_dir` (default runs/bench/<recipe>-<key>, hashing recipe, seeds and data);
    a finished run of the same settings and data there or in a bench folder beside it is read back (`finished_run`).
    results.json, report.md and curves.png go to `out_dir` (default: that folder; benchmarks/results/<recipe>/ only
    when named, or by --all). `data_flags` (" --data pets.csv") go into the report's "Regenerate:" line; `save`
    ships the first-seed model (`force`).

    Examples:
        (Not run by the doctests: a benchmark trains for minutes.)
        >>> results = bench("fashion_mlp", seeds=1, epochs=1, out_dir="/tmp/b")   # doctest: +SKIP
        >>> sorted(results["summary"])                                             # doctest: +SKIP
        ['baseline', 'recipe']
    """
    given = {"train.epochs": epochs, "bench.seeds": seeds, "bench.ablation": ablation}
    recipe = get_recipe(recipe, **{key: value for key, value in given.items() if value is not None})
    seed_list = [recipe.train.seed + index for index in range(recipe.bench.seeds)]
    recipe, data = recipe_data(recipe, data)
    if recipe.task == "regression":
        raise DataError(
            f"zoo bench compares accuracies; {data.source} is a regression task. Compare a regression "
            "recipe with its baseline through `zoo train` and `zoo train --baseline` (R^2 and MAE in "
            "metrics.json), as `zoo experiment tabular` does"
        )
    runs_dir = Path(runs_dir) if runs_dir is not None else runs_folder(recipe, seed_list, data)
    # Committed results under benchmarks/results/ change only when asked for by name (--out, --all).
    out_dir = Path(out_dir) if out_dir is not None else runs_dir
    with Progress(run_count(recipe, len(seed_list)), recipe.name) as progress:
        session = _Session(recipe, data, seed_list, runs_dir, verbose, progress)
        steps, grids, first_runs = _tuned_steps(session, recipe.bench.ablation)
        runs = _every_seed(session, steps, first_runs)
    results = _results(session, steps, grids, runs, recipe.bench.ablation)
    write_text(out_dir / "recipe.toml", recipe.to_toml())  # what the report's "Regenerate:" line runs
    results["regenerate"] = (
        f"zoo bench {out_dir / 'recipe.toml'} --seeds {len(seed_list)} "
        f"--{'' if recipe.bench.ablation else 'no-'}ablation --out {out_dir}{data_flags}"
    )
    results["report"] = str(out_dir / "report.md")
    write_results(out_dir, results, render_report(results), {"curves.png": bench_figure(results)})
    if save:
        print(f"Saved for reuse: {_save_first(recipe, seed_list[0], runs_dir, data, force)}")
    return results


def _save_first(recipe: Recipe, seed: int, runs_dir: Path, data: Splits, force: bool) -> Path:
    """The first seed's recipe run, saved to the local model collection (`zoo bench --save`)."""
    from zoo.hub.saved import save_run

    first = get_recipe(recipe, **{"train.seed": seed})
    return save_run(finished_run(_run_dir(runs_dir, "recipe", first), first, data), force=force)
