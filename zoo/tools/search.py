"""A hyperparameter search that starts from the recipe, on KerasTuner.

The recipe's [tune] section (zoo.recipes.space) is the search space; every trial trains
`recipe.replace(**values)` through zoo's own path (its pipeline and `fit_fast`) for the recipe's epochs, and
is scored on validation only (accuracy; R^2 for a regression, under the rows' key `val_accuracy`). The first
trial is exactly the recipe: its values are KerasTuner's defaults, and the oracle proposes them before any
random or Bayesian point (KerasTuner itself starts from a random point; keras-team/keras-tuner#604 asks for
this). The search lives in KerasTuner's project folder, so an interrupted search resumes where it stopped.
The best trial is written as a complete recipe that `zoo train` accepts.

Examples:
    (Not run by the doctests: a search trains several nets.)
    >>> result = tune("my_recipe.toml", trials=10, out_dir="runs/tune")   # doctest: +SKIP
    >>> result.best_recipe.train.learning_rate                             # doctest: +SKIP
    0.0021
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from zoo.data.builtin import Splits
from zoo.data.sources import recipe_data
from zoo.errors import RecipeError
from zoo.nets.network import build_for, score_name
from zoo.recipes.budget import adapted_space
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.recipes.schema import check_argument, count_field, unknown_word_error
from zoo.recipes.space import check_contains
from zoo.reports.records import run_folder, write_json, write_text
from zoo.reports.report import score_label
from zoo.training.board import write_run_summary
from zoo.training.diagnostics import fixed_batch
from zoo.training.fastpath import fit_fast
from zoo.training.pipelines import ShuffleEpoch, batches
from zoo.training.stopping import START_ROWS, validation_callbacks

ALGORITHMS = ("random", "bayesian", "hyperband")


@dataclass
class TuneResult:
    """The search's trials (values, validation accuracy, seconds), the best recipe and its files."""

    trials: list[dict[str, Any]]
    best: dict[str, Any]
    best_recipe: Recipe
    default_accuracy: float | None
    paths: dict[str, Path] = field(default_factory=dict)


def _encode(value: Any) -> Any:
    # KerasTuner's Choice holds numbers, strings and booleans only; lists travel as JSON text.
    return json.dumps(value) if isinstance(value, list) else value


def _decode(spec: dict[str, Any], value: Any) -> Any:
    return json.loads(value) if "choices" in spec and isinstance(spec["choices"][0], list) else value


def _hyperparameter(hp, key: str, spec: dict[str, Any], default: Any):
    kind, values = next(iter(spec.items()))
    if kind == "choices":
        return hp.Choice(key, [_encode(v) for v in values], default=_encode(default))
    make = hp.Int if isinstance(values[0], int) and not isinstance(values[0], bool) else hp.Float
    return make(key, values[0], values[1], sampling="log" if kind == "log" else "linear", default=default)


class _RecipeHyperModel:
    """Builds `recipe.replace(**trial values)` and trains it through zoo's path (a KerasTuner HyperModel)."""

    def __init__(self, recipe: Recipe, data: Splits, seconds_path: Path):
        self.recipe, self.data, self.seconds_path = recipe, data, seconds_path
        # Training seconds per configuration, kept on disk so a resumed search still reports them.
        self.seconds = json.loads(seconds_path.read_text()) if seconds_path.is_file() else {}
        epochs_path = seconds_path.with_name("epochs.json")
        self.epochs = json.loads(epochs_path.read_text()) if epochs_path.is_file() else {}  # epochs each trained

    def values(self, hp) -> dict[str, Any]:
        space = self.recipe.tune
        return {key: _decode(space[key], _hyperparameter(hp, key, space[key], self._default(key))) for key in space}

    def _default(self, key: str) -> Any:
        section, name = key.split(".")
        return getattr(self.recipe, section)[name]

    def build(self, hp) -> keras.Model:
        trial = get_recipe(self.recipe, **self.values(hp))
        keras.utils.set_random_seed(trial.train.seed)
        return build_for(trial, self.data, steps_per_epoch=batches(self.data, trial).steps_per_epoch)

    def fit(self, hp, model, *args, callbacks=(), epochs=None, initial_epoch=0, **kwargs):
        values = self.values(hp)
        trial = get_recipe(self.recipe, **values)
        served = batches(self.data, trial)  # the recipe's own batches, augmentation included
        key = json.dumps(values, sort_keys=True)
        # Each trial is a TensorBoard run of its own, named by its place in the search.
        board = self.seconds_path.parent / "tensorboard" / f"trial_{list({**self.seconds, key: 0}).index(key):02d}"
        # A trial continued from its checkpoint (Hyperband) has its BatchNorm statistics already.
        start = None if initial_epoch else fixed_batch(self.data, START_ROWS)[0]
        started = time.perf_counter()
        history = fit_fast(
            model,
            served.train,
            examples=self.data.sizes["train"],
            batch_size=served.batch_size,
            validation_data=served.validation,
            epochs=(epochs or trial.train.epochs) - initial_epoch,
            # As `zoo train` trains the recipe: early stopping (best weights restored) and plateau cuts.
            callbacks=[
                *callbacks,
                ShuffleEpoch(served.train),
                *validation_callbacks(trial, start_rows=start),
                keras.callbacks.TensorBoard(str(board), write_graph=False),
            ],
            verbose=0,
            fast=trial.train.fast_path,
        )
        best = max((v for v in history.history.get(f"val_{score_name(trial)}", []) if math.isfinite(v)), default=None)
        write_run_summary(board, values, {"best_val_score": best}, step=len(history.history.get("loss", [])))
        self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - started
        self.epochs[key] = len(history.history.get("loss", []))
        write_json(self.seconds_path, self.seconds)
        write_json(self.seconds_path.with_name("epochs.json"), self.epochs)
        return history


def _tuner(algorithm: str, hypermodel, recipe: Recipe, trials: int, folder: Path):
    import keras_tuner as kt  # imported only when a search runs

    class HyperModel(kt.HyperModel):
        def build(self, hp):
            return hypermodel.build(hp)

        def fit(self, hp, model, *args, **kwargs):
            return hypermodel.fit(hp, model, *args, **kwargs)

    common = {
        "hypermodel": HyperModel(),
        "objective": kt.Objective(f"val_{score_name(recipe)}", "max"),
        "directory": str(folder.parent),
        "project_name": folder.name,
        "overwrite": False,
        # KerasTuner reads a seed of 0 as no seed (`seed or random.randint(1, 10000)`): train.seed = 0, the
        # default, drew different trials on every run. Shifted by one, every seed fixes the trials it draws.
        "seed": recipe.train.seed + 1,
    }
    if algorithm == "hyperband":
        # Hyperband sizes its brackets from max_epochs and takes no max_trials (passing it raised a ValueError);
        # the oracle's own cap, which every KerasTuner oracle checks before a new trial, stops it at `trials`.
        tuner = kt.Hyperband(max_epochs=recipe.train.epochs, **common)
        tuner.oracle.max_trials = trials
    elif algorithm == "bayesian":
        tuner = kt.BayesianOptimization(max_trials=trials, **common)
    else:
        tuner = kt.RandomSearch(max_trials=trials, **common)
    oracle = tuner.oracle
    random_values = oracle._random_values

    def default_first(self):
        # The recipe's own values (KerasTuner's defaults) come first; `_duplicate` records them, so
        # they are proposed once, also across a resumed search.
        defaults = {hp.name: hp.default for hp in self.hyperparameters.space}
        return defaults if not self._duplicate(defaults) else random_values()

    oracle._random_values = types.MethodType(default_first, oracle)
    return tuner


def tune(
    recipe: Recipe | str,
    data: Splits | None = None,
    *,
    trials: int = 10,
    algorithm: str = "random",
    out_dir: str | Path | None = None,
    verbose: bool = True,
) -> TuneResult:
    """Search the recipe's [tune] space for `trials` trials (Hyperband: at most that many, its brackets sized
    from the recipe's epochs); the first trial is the recipe itself, and `train.seed` fixes the trials drawn.

    Writes `<out_dir>/best.toml` (a complete recipe), `trials.json` and `trials.md` (every trial:
    values, validation accuracy, seconds) and keeps KerasTuner's project in `<out_dir>/search`,
    so calling it again with the same `out_dir` resumes, and a larger `trials` extends the search.
    """
    recipe = get_recipe(recipe)
    trials = check_argument("trials", trials, count_field(1))
    if algorithm not in ALGORITHMS:
        raise unknown_word_error("algorithm", algorithm, ALGORITHMS)
    if not recipe.tune:
        raise RecipeError(
            f"{recipe.name} has no [tune] section; add one, e.g. [tune] "
            '"train.learning_rate" = { log = [1e-4, 1e-2] }'
        )
    recipe, data = recipe_data(recipe, data)
    # The data may have adapted the recipe's batch: its batch choices adapt the same way.
    recipe = dataclasses.replace(recipe, tune=adapted_space(recipe.tune, recipe, data.sizes["train"]))
    check_contains(recipe.tune, recipe)
    out_dir = Path(out_dir) if out_dir else run_folder(f"{recipe.name}-tune")
    out_dir.mkdir(parents=True, exist_ok=True)
    hypermodel = _RecipeHyperModel(recipe, data, out_dir / "seconds.json")
    tuner = _tuner(algorithm, hypermodel, recipe, trials, out_dir / "search")
    tuner.search(verbose=int(verbose))
    return _write(tuner, hypermodel, recipe, out_dir)


def _write(tuner, hypermodel: _RecipeHyperModel, recipe: Recipe, out_dir: Path) -> TuneResult:
    rows = []
    for trial in sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id):
        values = hypermodel.values(trial.hyperparameters)
        rows.append(
            {
                "trial": trial.trial_id,
                "values": values,
                "status": trial.status,
                "val_accuracy": trial.score,
                "is_recipe": values == {k: hypermodel._default(k) for k in values},
                "seconds": round(hypermodel.seconds.get(json.dumps(values, sort_keys=True), float("nan")), 1),
                "epochs": hypermodel.epochs.get(json.dumps(values, sort_keys=True)),
            }
        )
    scored = [row for row in rows if row["val_accuracy"] is not None]
    if not scored:
        raise RecipeError("no trial finished; nothing to choose from")
    best = max(scored, key=lambda row: row["val_accuracy"])
    best_recipe = get_recipe(recipe, **best["values"])
    default = next((row["val_accuracy"] for row in rows if row["is_recipe"]), None)
    paths = {"best": out_dir / "best.toml", "trials": out_dir / "trials.json", "table": out_dir / "trials.md"}
    write_text(paths["best"], best_recipe.to_toml())
    write_json(
        paths["trials"],
        {
            "recipe": recipe.name,
            "objective": f"val_{score_name(recipe)}",
            "trials": rows,
            "best": best,
            "recipe_val_accuracy": default,
        },
    )
    lines = [
        "| trial | " + " | ".join(recipe.tune) + f" | validation {score_label(score_name(recipe))} | seconds |",
        "|---|" + "---|" * (len(recipe.tune) + 2),
    ]
    for row in rows:
        mark = " (recipe)" if row["is_recipe"] else ""
        accuracy = f"{row['val_accuracy']:.4f}" if row["val_accuracy"] is not None else row["status"]
        lines.append(
            f"| {row['trial']}{mark} | "
            + " | ".join(f"{v}" for v in row["values"].values())
            + f" | {accuracy} | {row['seconds']} |"
        )
    write_text(paths["table"], "\n".join(lines) + "\n")
    return TuneResult(rows, best, best_recipe, default, paths)
