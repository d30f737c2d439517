"""Train a recipe (or its baseline) into a run folder, resumable, and evaluate it on test data.

A run folder holds:

* ``recipe.toml``: the fully resolved recipe that was trained;
* ``log.csv``: per-epoch loss and accuracy (train and validation);
* ``tensorboard/``: the same as TensorBoard event files (``tensorboard --logdir RUN``);
* ``backup/``: while training, the state an interrupted run resumes from (deleted at the end);
* ``model.keras``: the final model, best validation weights restored when early stopping is on;
* ``diagnostics.json`` / ``.png``: per-layer gradient norms at initialization and after each epoch;
* ``pretrain.json`` / ``filters.png``: with a [pretrain] method, the greedy layer-wise
  pretraining's per-layer history and the first layer's learned filters;
* ``metrics.json``: test loss and accuracy, validation history, epochs, wall time, versions.

Train again into the same folder after an interruption and training resumes from the last
finished epoch. A folder holding a finished run is never overwritten.

Example:
    >>> import zoo
    >>> result = zoo.train("fashion_mlp", epochs=1)  # doctest: +SKIP
    >>> result.test["accuracy"] > 0.8                 # doctest: +SKIP
    True
"""

from __future__ import annotations

import csv
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import keras
import numpy as np
import tensorflow as tf

from zoo.build import baseline_recipe, build
from zoo.data import Splits, augmented, load
from zoo.diagnostics import GradientDiagnostics, fixed_batch
from zoo.errors import RunError
from zoo.fastpath import fit_fast
from zoo.files import atomic_write, write_json
from zoo.pretrain import load_into, pretrain_recipe, write_pretraining
from zoo.recipe import Recipe, get_recipe


@dataclass
class TrainResult:
    """What one training run produced."""

    model: keras.Model
    history: dict[str, list[float]]
    test: dict[str, float]
    run_dir: Path
    paths: dict[str, Path] = field(default_factory=dict)
    epochs_run: int = 0
    seconds: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)


def versions() -> dict[str, str]:
    """Versions of the libraries a result depends on, for metrics files and model cards."""
    from zoo import __version__

    return {"zoo": __version__, "keras": keras.__version__, "tensorflow": tf.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0]}


def _read_csv_history(path: Path) -> dict[str, list[float]]:
    # The CSV log spans every epoch, including those run before a resume; fit()'s history does not.
    if not path.is_file():
        return {}
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else {}) if key != "epoch"}


class EpochClock(keras.callbacks.Callback):
    """Records the wall-clock seconds from the start of fit() to the end of each epoch."""

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.seconds: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self.started, 3))


def default_run_dir(recipe: Recipe) -> Path:
    """runs/<recipe>-<date-time>: a fresh folder per run unless an output folder is named."""
    return Path("runs") / f"{recipe.name}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(
    recipe: Recipe | str,
    *,
    data: Splits | None = None,
    epochs: int | None = None,
    out_dir: str | Path | None = None,
    baseline: bool = False,
    learning_rate: float | None = None,
    verbose: int | str = "auto",
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainResult:
    """Train `recipe` (or, with `baseline=True`, its sigmoid/SGD baseline) and test it.

    `data` defaults to the recipe's dataset; pass `zoo.data.from_arrays(...)` for your own.
    `learning_rate` sets the baseline's SGD rate (default: the median of its grid) or, without
    `baseline`, overrides the recipe's. Progress bars print when `verbose` allows.

    Example:
        >>> result = train("fashion_mlp", epochs=1, out_dir="runs/try")  # doctest: +SKIP
        >>> sorted(result.paths)                                          # doctest: +SKIP
        ['csv_log', 'diagnostics', 'metrics', 'model', 'recipe', 'tensorboard']
    """
    recipe = recipe if isinstance(recipe, Recipe) else get_recipe(recipe)
    if epochs is not None:
        recipe = get_recipe(recipe, **{"train.epochs": epochs})
    if baseline:
        recipe = baseline_recipe(recipe, learning_rate)
    elif learning_rate is not None:
        recipe = get_recipe(recipe, **{"train.learning_rate": learning_rate})
    run_dir = Path(out_dir) if out_dir is not None else default_run_dir(recipe)
    paths = {
        "recipe": run_dir / "recipe.toml",
        "csv_log": run_dir / "log.csv",
        "tensorboard": run_dir / "tensorboard",
        "model": run_dir / "model.keras",
        "metrics": run_dir / "metrics.json",
        "diagnostics": run_dir / "diagnostics.json",
    }
    if paths["metrics"].exists():
        raise RunError(f"{run_dir} already holds a finished run ({paths['metrics']}); choose another output folder")
    backup_dir = run_dir / "backup"
    resuming = backup_dir.is_dir() and any(backup_dir.iterdir())
    if paths["recipe"].exists() and resuming:
        previous = get_recipe(paths["recipe"])
        if previous.to_dict() != recipe.to_dict():
            raise RunError(
                f"{run_dir} holds an interrupted run of a different recipe; resume it with "
                f"`zoo train {paths['recipe']} --out {run_dir}` or choose another output folder"
            )
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(paths["recipe"], lambda tmp: tmp.write_text(recipe.to_toml()))

    keras.utils.set_random_seed(recipe.train.seed)
    if data is None:
        data = load(recipe.dataset, recipe.train.batch_size, recipe.validation_size, recipe.train.seed)
    data = augmented(data, recipe.regularization.augment, recipe.regularization.augment_amount, recipe.train.seed)
    steps_per_epoch = math.ceil(data.sizes["train"] / recipe.train.batch_size)
    model = build(recipe, input_shape=data.info.input_shape, num_classes=data.info.num_classes, steps_per_epoch=steps_per_epoch)
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    pretrained = None
    if recipe.pretrain.method != "none" and not resuming:
        # Unsupervised: only the training images are seen, never their labels. A resumed run
        # skips this, since its weights come back from the backup.
        pretrained = pretrain_recipe(recipe, data.arrays["train"][0], verbose=bool(verbose))
        load_into(model, pretrained)
        paths.update(write_pretraining(pretrained, run_dir))

    clock = EpochClock()
    # Per-layer gradient norms on a fixed batch at initialization and after every epoch; warns
    # when the first/last hidden-layer ratio shows vanishing or exploding gradients.
    # The per-layer gradients are taken with tf.GradientTape; other backends train without them.
    diagnostics = None
    if keras.backend.backend() == "tensorflow":
        diagnostics = GradientDiagnostics(*fixed_batch(data), path=paths["diagnostics"])
    else:
        paths.pop("diagnostics")
        if verbose:
            print(f"Gradient diagnostics need the TensorFlow backend (this is {keras.backend.backend()}); skipped")
    run_callbacks = [
        clock,
        *([diagnostics] if diagnostics else []),
        # Saves weights, optimizer state and the epoch after every epoch; fit() resumes from it.
        keras.callbacks.BackupAndRestore(str(backup_dir)),
        keras.callbacks.CSVLogger(str(paths["csv_log"]), append=resuming),
        keras.callbacks.TensorBoard(str(paths["tensorboard"]), write_graph=False),
        keras.callbacks.TerminateOnNaN(),
        *callbacks,
    ]
    patience = recipe.train.early_stopping_patience
    if patience:
        # Restores the best validation weights at the end, whether or not training stopped early.
        # After a resume it only knows the epochs run since then.
        run_callbacks.insert(1, keras.callbacks.EarlyStopping(
            monitor="val_accuracy", mode="max", patience=patience, restore_best_weights=True, verbose=int(verbose != 0)))
    if recipe.train.schedule == "plateau":
        run_callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=recipe.train.plateau_factor, patience=recipe.train.plateau_patience,
            verbose=int(verbose != 0)))
    if verbose:
        print(f"Resuming the interrupted run in {run_dir}" if resuming else
              f"Run folder: {run_dir} (if interrupted, train again with the same output folder to resume)")

    started = time.perf_counter()
    # The fast path: train.steps_per_execution steps per XLA call, fed in chunks (zoo.fastpath).
    # The tf.data pipeline already reshuffles every epoch from the run's seed.
    fit_fast(model, data.train, examples=data.sizes["train"], batch_size=data.batch_size, validation_data=data.validation,
             epochs=recipe.train.epochs, callbacks=run_callbacks, verbose=verbose)
    seconds = time.perf_counter() - started
    test = {key: float(value) for key, value in model.evaluate(data.test, verbose=0, return_dict=True).items()}

    history = _read_csv_history(paths["csv_log"])
    atomic_write(paths["model"], lambda tmp: model.save(tmp))
    val_accuracy = [v for v in history.get("val_accuracy", []) if not math.isnan(v)]
    metrics = {
        "recipe": recipe.name,
        "variant": "baseline" if baseline else "recipe",
        "learning_rate": recipe.train.learning_rate,
        "test_loss": test.get("loss"),
        "test_accuracy": test.get("accuracy"),
        "best_val_accuracy": max(val_accuracy) if val_accuracy else None,
        "epochs_run": len(history.get("loss", [])),
        "diverged": any(not math.isfinite(v) for v in history.get("loss", [])),  # NaN or inf
        "train_seconds": round(seconds, 2),
        "pretrain_seconds": pretrained.seconds if pretrained else 0.0,
        # Seconds from the start of this fit() call to the end of each epoch it ran.
        "epoch_end_seconds": clock.seconds,
        "params": int(model.count_params()),
        "data": {"source": data.source, **{f"{k}_size": v for k, v in data.sizes.items()}},
        "seed": recipe.train.seed,
        "history": history,
        "gradient_warning": diagnostics.warning if diagnostics else None,
        "versions": versions(),
    }
    write_json(paths["metrics"], metrics)
    return TrainResult(model, history, test, run_dir, paths, metrics["epochs_run"], seconds, metrics)
