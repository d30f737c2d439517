"""Where is a deep net the right default for a table? (`zoo experiment tabular`)

The `tabular` recipe against its sigmoid/SGD baseline (rate picked on validation), scikit-learn's
own `MLPClassifier` / `MLPRegressor` and a gradient-boosting model (`HistGradientBoosting*`), on
the tables that ship inside scikit-learn: breast cancer, wine and digits (64 pixel columns) for
classification, diabetes for regression. Each table is written to a CSV file and read back through
`zoo.load_data`, the path `--data FILE --target COLUMN` takes, so every model sees the same split
and the same standardized features; the scikit-learn models fit on the training rows only (the nets
use the validation rows to stop early). Scores: test accuracy, or test R^2 for regression; median
(min-max) over seeds.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from zoo.data.sources import load_data
from zoo.recipes.recipe import get_recipe
from zoo.reports.records import run_folder, stamp, write_results
from zoo.reports.report import spread
from zoo.training.trainer import train

TABLES = {  # name -> (scikit-learn loader, task)
    "breast_cancer": ("load_breast_cancer", "classification"),
    "wine": ("load_wine", "classification"),
    "digits_rows": ("load_digits", "classification"),
    "diabetes": ("load_diabetes", "regression"),
}


def table_csv(name: str, folder: Path) -> Path:
    """Write scikit-learn's table `name` (a key of TABLES) to `folder`/<name>.csv, target column "target"."""
    import sklearn.datasets

    frame = getattr(sklearn.datasets, TABLES[name][0])(as_frame=True).frame
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def _sklearn_scores(splits, task: str, seeds: list[int]) -> dict[str, dict[str, Any]]:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    (x, y), (x_test, y_test) = splits.arrays["train"], splits.arrays["test"]
    y, y_test = y.ravel(), y_test.ravel()
    makers = (
        {
            "sklearn_mlp": lambda s: MLPClassifier(max_iter=1000, random_state=s),
            "gradient_boosting": lambda s: HistGradientBoostingClassifier(random_state=s),
        }
        if task == "classification"
        else {
            "sklearn_mlp": lambda s: MLPRegressor(max_iter=2000, random_state=s),
            "gradient_boosting": lambda s: HistGradientBoostingRegressor(random_state=s),
        }
    )
    out = {}
    for label, make in makers.items():
        scores, seconds = [], []
        for seed in seeds:
            started = time.perf_counter()
            model = make(seed).fit(x, y)
            seconds.append(time.perf_counter() - started)
            scores.append(float(model.score(x_test, y_test)))  # accuracy, or R^2 for regressors
        out[label] = {"test_score": spread(scores), "seconds": spread(seconds)}
    return out


def _zoo_scores(recipe, splits, seeds: list[int], runs_dir: Path) -> dict[str, dict[str, Any]]:
    def run(seed: int, baseline: bool, rate=None) -> dict[str, Any]:
        label = f"baseline-lr{rate:g}" if baseline else "recipe"
        return train(
            get_recipe(recipe, **{"train.seed": seed}),
            data=splits,
            baseline=baseline,
            learning_rate=rate,
            out_dir=runs_dir / f"{label}-seed{seed}",
            verbose=0,
        ).metrics

    grid = {rate: run(seeds[0], True, rate) for rate in recipe.baseline.learning_rates}
    best_rate = max(grid, key=lambda rate: (grid[rate]["best_val_score"] or -1e9, -rate))
    out = {}
    for label, runs in (
        ("zoo_tabular", [run(seed, False) for seed in seeds]),
        ("zoo_baseline", [grid[best_rate]] + [run(seed, True, best_rate) for seed in seeds[1:]]),
    ):
        out[label] = {
            "test_score": spread([m["test_score"] for m in runs]),
            "seconds": spread([m["train_seconds"] for m in runs]),
            "epochs": spread([m["epochs_run"] for m in runs]),
        }
    out["zoo_baseline"]["learning_rate"] = best_rate
    return out


def run(
    out_dir: str | Path = Path("benchmarks/results/tabular"),
    runs_dir: str | Path | None = None,
    tables: tuple[str, ...] = tuple(TABLES),
    seeds: int = 3,
    recipe: str = "tabular",
) -> dict[str, Any]:
    """Score the recipe, its baseline and the scikit-learn models on each table; write the report."""
    runs_dir = Path(runs_dir) if runs_dir else run_folder("tabular", "runs/experiments")
    started = time.perf_counter()
    seed_list = list(range(seeds))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in tables:
            task = TABLES[name][1]
            base = get_recipe(recipe, task=task)
            splits = load_data(table_csv(name, Path(folder)), target="target", task=task)
            scores = {
                **_zoo_scores(base, splits, seed_list, runs_dir / name),
                **_sklearn_scores(splits, task, seed_list),
            }
            rows.append(
                {
                    "table": name,
                    "task": task,
                    "score": "accuracy" if task == "classification" else "r2",
                    "sizes": splits.sizes,
                    "features": splits.info.input_shape[0],
                    "models": scores,
                }
            )
            print(
                f"[{time.perf_counter() - started:6.0f} s] {name}: "
                + ", ".join(f"{label} {s['test_score']['median']:.4f}" for label, s in scores.items()),
                flush=True,
            )
    results = {
        "experiment": "tabular",
        "recipe": get_recipe(recipe).to_dict(),
        "seeds": seed_list,
        "tables": rows,
        **stamp(started),
    }
    write_results(out_dir, results, _report(results))
    return results


MODELS = {
    "zoo_tabular": "zoo tabular recipe",
    "zoo_baseline": "sigmoid/SGD baseline",
    "sklearn_mlp": "scikit-learn MLP (defaults)",
    "gradient_boosting": "HistGradientBoosting (defaults)",
}


def _report(results: dict[str, Any]) -> str:
    lines = [
        "# Tables: the tabular recipe against its baseline, scikit-learn's MLP and gradient boosting",
        "",
        "Test accuracy (classification) or test R^2 (diabetes, regression), median (min-max) over seeds "
        f"{results['seeds']}; seconds of fitting, median. Same split and standardized features for all.",
        "",
        "| table | rows train/val/test | " + " | ".join(MODELS.values()) + " | best |",
        "|---|---|" + "---|" * (len(MODELS) + 1),
    ]
    for row in results["tables"]:
        cells = []
        for key in MODELS:
            s = row["models"][key]
            cells.append(
                f"{s['test_score']['median']:.4f} ({s['test_score']['min']:.4f}-{s['test_score']['max']:.4f}), "
                f"{s['seconds']['median']:.1f} s"
            )
        medians = {key: round(row["models"][key]["test_score"]["median"], 4) for key in MODELS}
        best = " = ".join(MODELS[key] for key in MODELS if medians[key] == max(medians.values()))  # ties: all of them
        sizes = row["sizes"]
        lines.append(
            f"| {row['table']} ({row['score']}) | {sizes['train']}/{sizes['validation']}/{sizes['test']} | "
            + " | ".join(cells)
            + f" | {best} |"
        )
    lines += ["", f"Regenerate: `zoo experiment tabular` ({results['seconds']:.0f} s on this run's machine).", ""]
    return "\n".join(lines)
