"""Train a recipe (or its baseline) into a run folder, resumable, and evaluate it on test data.

A run folder holds:

* ``recipe.toml``: the fully resolved recipe that was trained;
* ``log.csv``: per-epoch loss and accuracy (train and validation);
* ``tensorboard/``: the same as TensorBoard event files (``tensorboard --logdir RUN``);
* ``backup/``: while training, the state an interrupted run resumes from (deleted at the end);
* ``model.keras``: the final model, best validation weights restored when early stopping is on,
  with the data's encoder in front when it has one (it then takes raw pixels or table rows);
* ``diagnostics.json`` / ``.png``: per-layer gradient norms at initialization and after each epoch;
* ``pretrain.json`` / ``filters.png``: with a [pretrain] method, the greedy layer-wise
  pretraining's per-layer history and the first layer's learned filters;
* ``metrics.json``: test loss and score (accuracy; R^2 and MAE for regression), validation
  history, epochs, wall time, versions; ``curves.png``: loss and score per epoch, training and validation.

Train again into the same folder after an interruption and training resumes from the last
finished epoch. A folder holding a finished run is never overwritten.

Examples:
    (Not run by the doctests: it trains on Fashion-MNIST for about a minute.)
    >>> result = train("fashion_mlp", epochs=1)  # doctest: +SKIP
    >>> result.test["accuracy"] > 0.8                 # doctest: +SKIP
    True
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from zoo.data.builtin import Splits
from zoo.data.sources import recipe_data
from zoo.errors import RunError
from zoo.nets.network import build_for, score_name
from zoo.nets.plain import baseline_recipe
from zoo.nets.portable import needs_zoo, portable
from zoo.nets.precision import resolve_precision
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.reports.plots import run_curves_figure
from zoo.reports.progress import interactive
from zoo.reports.records import atomic_write, save_figure, versions, write_json, write_text
from zoo.training.board import hparams, write_run_summary
from zoo.training.diagnostics import GradientDiagnostics, fixed_batch
from zoo.training.distribute import cluster_from_tf_config, is_chief, make_strategy
from zoo.training.fastpath import fit_fast
from zoo.training.pipelines import Batches, ShuffleEpoch, batches
from zoo.training.pretrain import load_into, pretrain_recipe, write_pretraining
from zoo.training.resume import AtomicBackup, EpochClock, RunState
from zoo.training.runfolder import claimed, read_history, run_paths
from zoo.training.status import training_status
from zoo.training.stopping import START_ROWS, RawScore, validation_callbacks


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


def placement(recipe: Recipe, strategy, out_dir) -> tuple[Any, str | Path | None, bool]:
    """(strategy, run folder, chief): the recipe's `train.distribute` strategy unless one is given;
    under several workers, `out_dir` is required (all workers must name the same run) and each
    worker but the chief trains in a folder of its own beside it, deleted at the end."""
    if strategy is None:
        strategy = make_strategy(recipe.train.distribute)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return strategy, out_dir, True
    if out_dir is None:
        raise RunError("train.distribute = 'multi_worker' needs an output folder (--out), the same on every worker")
    config = cluster_from_tf_config()
    chief = is_chief(config)
    task = config["task"]
    return strategy, out_dir if chief else f"{out_dir}.{task['type']}{task['index']}", chief


def _callbacks(
    recipe: Recipe, data: Splits, served: Batches, paths: dict[str, Path], resuming: bool, verbose: int, strategy=None
) -> list:
    """zoo's callbacks for one run: the clock, early stopping, gradient diagnostics, backups, logs."""
    callbacks: list = [EpochClock(), ShuffleEpoch(served.train)]
    # After a resume RunState gives early stopping and the plateau schedule back their state. Both come before
    # the backup, so an epoch's checkpoint holds the rate its end set (else an interrupt lost a cut).
    # BatchNorm's statistics start at the data's (train.bn_start); a resumed run has its own already, and under a
    # strategy the pass would run outside the replicas.
    start = None if resuming or strategy is not None else fixed_batch(data, START_ROWS)[0]
    # The raw weights' last score beside their average's (train.ema); not under a strategy (as the diagnostics).
    raw = served.validation if strategy is None else None
    callbacks += validation_callbacks(recipe, verbose, start_rows=start, validation=raw)
    # Per-layer gradient norms on a fixed batch at initialization and after every epoch; warns
    # when the first/last hidden-layer ratio shows vanishing or exploding gradients. They are
    # taken with tf.GradientTape, so other backends train without them.
    if keras.backend.backend() != "tensorflow":
        if verbose:
            print(f"Gradient diagnostics need the TensorFlow backend (this is {keras.backend.backend()}); skipped")
    elif strategy is not None:
        if verbose:  # the diagnostics' tape runs outside the strategy's replicas
            print("Gradient diagnostics are skipped under a tf.distribute strategy")
    elif recipe.model.kind == "resnet":
        if verbose:  # the per-layer table follows a chain of layers; a residual net's shortcuts are not one
            print("Gradient diagnostics read a chain of layers, and a residual net is not one; skipped")
    else:
        callbacks.append(GradientDiagnostics(*fixed_batch(data), paths["diagnostics"], paths["tensorboard"]))
    # Weights, optimizer state and the epoch after every epoch, written so no interrupt breaks
    # them; fit() resumes from the newest checkpoint that loads (across workers: that every worker holds).
    agree = None
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        from zoo.training.workers import common_epoch

        agree = common_epoch(strategy)
    backup = AtomicBackup(paths["backup"], agree=agree)
    callbacks += [
        backup,
        keras.callbacks.CSVLogger(str(paths["csv_log"]), append=resuming),
        keras.callbacks.TensorBoard(str(paths["tensorboard"]), write_graph=False),
        keras.callbacks.TerminateOnNaN(),
    ]
    # Last, so that on a resume it restores the others after they have reset themselves.
    return callbacks + [RunState(paths["backup"], callbacks)]


def _metrics(
    recipe: Recipe,
    baseline: bool,
    test: dict[str, float],
    history: dict[str, list[float]],
    seconds: float,
    model: keras.Model,
    data: Splits,
    callbacks: list,
    pretrained,
) -> dict[str, Any]:
    """What metrics.json records about one finished run."""
    clock = next(c for c in callbacks if isinstance(c, EpochClock))
    diagnostics = next((c for c in callbacks if isinstance(c, GradientDiagnostics)), None)
    raw = next((c for c in callbacks if isinstance(c, RawScore)), None)
    score = score_name(recipe)
    val_scores = [v for v in history.get(f"val_{score}", []) if not math.isnan(v)]
    status, message = training_status(history, data.info.num_classes, recipe.task)
    return {
        "recipe": recipe.name,
        "variant": "baseline" if baseline else "recipe",
        "task": recipe.task,
        "learning_rate": recipe.train.learning_rate,
        "precision": resolve_precision(recipe.train.precision),  # "auto" as this machine resolved it
        "test_loss": test.get("loss"),
        "test_accuracy": test.get("accuracy"),
        "best_val_accuracy": max(val_scores) if val_scores and score == "accuracy" else None,
        # The task's own score ("accuracy", or "r2" for regression), so readers need not know the task.
        "score": score,
        "test_score": test.get(score),
        "best_val_score": max(val_scores) if val_scores else None,
        # With train.ema: the raw weights' validation score after the last epoch, what train.ema = false ends on.
        **({"raw_weights_val_score": raw.score} if raw else {}),
        **({"test_mae": test.get("mae")} if recipe.task == "regression" else {}),
        "epochs_run": len(history.get("loss", [])),
        # "diverged" keeps its meaning for readers of older files: NaN or inf, or a loss blown far up.
        "status": status,
        "status_message": message,
        "diverged": status == "diverged",
        # The whole run's: a resumed run adds the seconds trained before the interruption.
        "train_seconds": round(clock.before + seconds, 2),
        "pretrain_seconds": pretrained.seconds if pretrained else 0.0,
        # Training seconds from the start of the run to the end of each epoch, across resumes.
        "epoch_end_seconds": clock.seconds,
        "params": int(model.count_params()),
        "data": data.record,
        "seed": recipe.train.seed,
        "history": history,
        "gradient_warning": diagnostics.warning if diagnostics else None,
        "versions": versions(),
    }


def _pretrain(recipe: Recipe, data: Splits, model: keras.Model, paths: dict[str, Path], verbose):
    """The recipe's [pretrain] method, if any, loaded into `model`; its files join `paths`.

    Unsupervised: only the training images are seen, never their labels. A resumed run skips
    this, since its weights come back from the backup.
    """
    if recipe.pretrain.method == "none":
        return None
    pretrained = pretrain_recipe(recipe, data.arrays["train"][0], verbose=bool(verbose))
    load_into(model, pretrained)
    paths.update(write_pretraining(pretrained, paths["recipe"].parent))
    return pretrained


def servable(model: keras.Model, encoder) -> keras.Model:
    """`model` with the data's raw-input `encoder` in front (or `model` itself when there is none).

    Examples:
        >>> net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> pixels = keras.Input((2,))
        >>> scale = keras.Model(pixels, keras.layers.Rescaling(1 / 255)(pixels))
        >>> servable(net, scale).predict(keras.ops.ones((1, 2)), verbose=0).shape
        (1, 1)
    """
    if encoder is None:
        return model
    # Not compiled: it is for predicting; the optimizer state stays in the run's backup while training.
    return keras.Model(encoder.input, model(encoder.output), name=model.name)


def input_record(saved: keras.Model, data: Splits) -> dict[str, Any]:
    """What the saved model takes: a table's columns (its own names) and their types, or an array's shape and
    value range.

    Examples:
        >>> import numpy as np
        >>> from zoo.data.sources import load_data
        >>> splits = load_data((np.full((40, 4, 4, 1), 200, "uint8"), np.arange(40) % 2))
        >>> record = input_record(servable(build_for(get_recipe("mlp", hidden=[4]), splits), splits.encoder), splits)
        >>> record["kind"], record["shape"], record["range"]
        ('image', [4, 4, 1], [0, 255])
    """
    if isinstance(saved.input, dict):
        dates = dict(data.info.dates)  # numbers to the model: days since 1970-01-01, and how the table spelled them
        types = {
            name: "text" if tensor.dtype == "string" else "date" if name in dates else "number"
            for name, tensor in saved.input.items()
        }
        spelled = {"date_formats": dict(sorted(dates.items()))} if dates else {}
        return {"kind": "table", "columns": sorted(saved.input), "types": dict(sorted(types.items())), **spelled}
    shape = [int(d) for d in saved.input_shape[1:]]
    x = data.arrays["train"][0]
    # With the pixel encoder in front, the saved model takes 0-255 and scales them itself.
    value_range = [0, 255] if data.encoder is not None else [float(x.min()), float(x.max())]
    return {"kind": "image" if len(shape) == 3 else "array", "shape": shape, "range": value_range}


def _variant(recipe: Recipe | str, epochs: int | None, baseline: bool, learning_rate: float | None) -> Recipe:
    """The recipe `train` runs: its epochs overridden, or its baseline, or another learning rate."""
    # Epochs asked for by name replace a step budget (train.steps): `--epochs 8` means 8 epochs.
    recipe = get_recipe(recipe, **({"train.epochs": epochs, "train.steps": 0} if epochs is not None else {}))
    if baseline:
        return baseline_recipe(recipe, learning_rate)
    return get_recipe(recipe, **{"train.learning_rate": learning_rate}) if learning_rate is not None else recipe


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
    strategy=None,
) -> TrainResult:
    """Train `recipe` (or, with `baseline=True`, its sigmoid/SGD baseline) and test it.

    `data` defaults to the recipe's dataset; it takes what `zoo.load_data` takes, or its `Splits`.
    Batches always come from the recipe (`zoo.batches`: its batch size, seed and augmentation), so
    the learning-rate schedule is sized for the batches it trains on. Where the data has an
    encoder (images, tables), the saved model.keras takes raw input: the encoder runs in front.
    `learning_rate` sets the baseline's SGD rate (default: the median of its grid) or, without
    `baseline`, overrides the recipe's. Progress bars print when `verbose` allows.

    Examples:
        (Not run by the doctests: it trains on Fashion-MNIST for about a minute.)
        >>> result = train("fashion_mlp", epochs=1, out_dir="runs/try")  # doctest: +SKIP
        >>> sorted(result.paths)                                          # doctest: +SKIP
        ['csv_log', 'diagnostics', 'metrics', 'model', 'recipe', 'tensorboard']
    """
    recipe, data = recipe_data(_variant(recipe, epochs, baseline, learning_rate), data)
    keras.utils.set_random_seed(recipe.train.seed)
    strategy, out_dir, chief = placement(recipe, strategy, out_dir)
    paths, resuming = run_paths(recipe, out_dir)
    served = batches(data, recipe)  # the one place batch size, seed and augmentation are read
    # Built before the run folder is made, so a recipe that cannot be built leaves nothing behind.
    model = build_for(recipe, data, steps_per_epoch=served.steps_per_epoch, strategy=strategy)
    verbose = (1 if interactive() else 2) if verbose == "auto" else verbose  # the live bar in a terminal or notebook
    with claimed(paths, recipe):  # one process at a time in a run folder
        run = _Run(recipe, data, served, model, paths, resuming, verbose, strategy)
        return run.fit(baseline, list(callbacks), chief)


@dataclass
class _Run:
    """One training run in its claimed folder: fit, record, and leave the folder finished."""

    recipe: Recipe
    data: Splits
    served: Batches
    model: keras.Model
    paths: dict[str, Path]
    resuming: bool
    verbose: int
    strategy: Any

    def fit(self, baseline: bool, callbacks: list, chief: bool) -> TrainResult:
        recipe, data, model, paths = self.recipe, self.data, self.model, dict(self.paths)
        run_dir = paths.pop("run_dir")
        paths.pop("mark")
        write_text(paths["recipe"], recipe.to_toml())
        pretrained = _pretrain(recipe, data, model, paths, self.verbose) if not self.resuming else None
        run_callbacks = _callbacks(recipe, data, self.served, paths, self.resuming, self.verbose, self.strategy)
        run_callbacks += callbacks
        if not any(isinstance(c, GradientDiagnostics) for c in run_callbacks):
            paths.pop("diagnostics")
        if self.verbose:
            resume = "if interrupted, train again with the same output folder to resume"
            print(
                f"Resuming the interrupted run in {run_dir}" if self.resuming else f"Run folder: {run_dir} ({resume})"
            )
        started = time.perf_counter()
        test = _fit_and_test(model, recipe, data, self.served, self.strategy, run_callbacks, self.verbose)
        seconds = time.perf_counter() - started
        history = read_history(paths["csv_log"])
        backup = AtomicBackup(paths.pop("backup"))
        metrics = _metrics(recipe, baseline, test, history, seconds, model, data, run_callbacks, pretrained)
        if not chief:  # a worker other than the chief leaves nothing behind: the chief writes the run
            shutil.rmtree(run_dir, ignore_errors=True)
            return TrainResult(model, history, test, run_dir, {}, metrics["epochs_run"], seconds, metrics)
        scores = {f"test/{key}": value for key, value in test.items()} | {"best_val_score": metrics["best_val_score"]}
        write_run_summary(paths["tensorboard"], hparams(recipe), scores, step=metrics["epochs_run"])
        saved = portable(servable(model, data.encoder))  # loads with plain Keras where it can
        metrics["needs_zoo"] = needs_zoo(saved)  # the zoo layers it keeps: loading it needs `import zoo`
        metrics["classes"] = list(data.info.class_names) if recipe.task == "classification" else None
        metrics["input"] = input_record(saved, data)
        if data.info.target:
            metrics["target"] = data.info.target
        atomic_write(paths["model"], saved.save)
        save_figure(run_curves_figure(history, score_name(recipe), recipe.name), paths["curves"])
        write_json(paths["metrics"], metrics)
        # Only now, with the model and metrics on disk: an interrupt before this point resumes.
        backup.remove()
        return TrainResult(model, history, test, run_dir, paths, metrics["epochs_run"], seconds, metrics)


def _fit_and_test(
    model, recipe: Recipe, data: Splits, served: Batches, strategy, callbacks: list, verbose
) -> dict[str, float]:
    """Train (zoo's fast path; a plain fit under a mirrored strategy; zoo.training.workers across workers), then
    test."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        from zoo.nets.augment import augmenter
        from zoo.training.workers import evaluate_local, fit_workers

        words = recipe.regularization.augment
        augment = (
            augmenter(words, recipe.regularization.augment_amount, recipe.train.seed, data.info.input_shape)
            if words
            else None
        )
        fit_workers(
            model,
            strategy,
            *data.arrays["train"],
            batch_size=recipe.train.batch_size,
            seed=recipe.train.seed,
            validation_data=served.validation,
            epochs=recipe.train.epochs,
            callbacks=callbacks,
            verbose=verbose,
            augment=augment,
        )
        return evaluate_local(model, served.test) if data.sizes["test"] else {}
    # The fast path: train.steps_per_execution steps per XLA call, fed in chunks (zoo.training.fastpath); it
    # falls back to a plain fit under a strategy. The tf.data pipeline reshuffles every epoch itself.
    fit_fast(
        model,
        served.train,
        examples=data.sizes["train"],
        batch_size=served.batch_size,
        validation_data=served.validation,
        epochs=recipe.train.epochs,
        callbacks=callbacks,
        verbose=verbose,
        fast=recipe.train.fast_path,
    )
    if not data.sizes["test"]:  # data loaded with test_size=0: nothing held out, nothing to test
        return {}
    return {key: float(value) for key, value in model.evaluate(served.test, verbose=0, return_dict=True).items()}
