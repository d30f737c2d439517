"""The held-out suite's contestants: each fits on a set's training rows and scores its test rows.

Tables: zoo's `tabular` recipe (through `zoo.load_data` and `zoo.train`, as a user's DataFrame goes),
and, where they install, HistGradientBoosting, LightGBM, XGBoost and CatBoost with their defaults,
scikit-learn's MLP (defaults, after one-hot and standard scaling) and RealMLP-TD from pytabkit.
Every model sees the same training rows (zoo carves its validation rows out of them; the GBDTs
and RealMLP carve their own where their defaults do). Images: zoo's `cnn`, its sigmoid/SGD
baseline (its SGD rate fixed on meta-train's validation, `heldout.BASELINE_RATE`) and keras.io's
"Simple MNIST convnet" unchanged.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo.data import tables
from zoo.data.sources import fitted, load_data
from zoo.data.splitting import test_split
from zoo.recipes.recipe import get_recipe
from zoo.training.stopping import SwapAverage
from zoo.training.trainer import train

TABLE_CONTESTANTS = ("zoo", "hgb", "lightgbm", "xgboost", "catboost", "sklearn_mlp", "realmlp_td")
IMAGE_CONTESTANTS = ("zoo", "keras_example", "zoo_baseline")
THREADS = 2


def table_rows(frame, target: str, task: str):
    """(x_train, y_train, x_test, y_test) as DataFrames/arrays on zoo's own train/test rows, categories as
    pandas categoricals (what the GBDTs read natively)."""
    train_rows, test_rows = test_split(len(frame))
    x = frame.drop(columns=[target]).copy()
    for column in x.columns:
        if x[column].dtype == object or str(x[column].dtype) in ("str", "string"):
            x[column] = x[column].astype("category")
    y = frame[target].to_numpy()
    y = y.astype(np.float64) if task == "regression" else y.astype(str)
    return x.iloc[train_rows], y[train_rows], x.iloc[test_rows], y[test_rows]


def score(task: str, y_true, y_pred) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    return float(r2_score(y_true, y_pred) if task == "regression" else accuracy_score(y_true, y_pred))


def zoo_table(frame, target: str, task: str, seed: int, runs_dir: Path, overrides: dict | None = None):
    """zoo's tabular recipe (with `overrides`) on the table: (test score, best validation score, seconds)."""
    overrides = dict(overrides or {})
    # "data.scaling" is not a recipe key: it picks the table encoder's numeric scaling (zoo.data.tables.SCALING),
    # so that meta-train can measure robust scaling against standardizing.
    scaling = overrides.pop("data.scaling", tables.SCALING)
    recipe = get_recipe("tabular", task=task, **{"train.seed": seed, **overrides})
    kept, tables.SCALING = tables.SCALING, scaling
    try:
        splits = load_data(frame, target=target, task=task)
    finally:
        tables.SCALING = kept
    result = train(recipe, data=splits, out_dir=runs_dir, verbose=0)
    metrics = result.metrics
    return metrics["test_score"], metrics["best_val_score"], metrics["train_seconds"]


def _other(name: str, task: str, seed: int, categorical: list[str]):
    regression = task == "regression"
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        return (HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier)(random_state=seed)
    if name == "lightgbm":
        import lightgbm

        model = lightgbm.LGBMRegressor if regression else lightgbm.LGBMClassifier
        return model(random_state=seed, n_jobs=THREADS, verbose=-1)
    if name == "xgboost":
        import xgboost

        model = xgboost.XGBRegressor if regression else xgboost.XGBClassifier
        return model(random_state=seed, n_jobs=THREADS, enable_categorical=True, tree_method="hist")
    if name == "catboost":
        import catboost

        model = catboost.CatBoostRegressor if regression else catboost.CatBoostClassifier
        # allow_writing_files=False: CatBoost would otherwise leave a catboost_info/ folder wherever it runs.
        return model(
            random_seed=seed,
            thread_count=THREADS,
            verbose=0,
            cat_features=categorical or None,
            allow_writing_files=False,
        )
    if name == "sklearn_mlp":
        from sklearn.compose import make_column_transformer
        from sklearn.neural_network import MLPClassifier, MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        encode = make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
            remainder=StandardScaler(),
        )
        return make_pipeline(encode, (MLPRegressor if regression else MLPClassifier)(random_state=seed))
    if name == "realmlp_td":
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

        model = RealMLP_TD_Regressor if regression else RealMLP_TD_Classifier
        return model(random_state=seed, device="cpu", n_threads=THREADS, verbosity=0)
    raise ValueError(f"unknown contestant {name!r}; known: {', '.join(TABLE_CONTESTANTS)}")


def other_table(name: str, rows, task: str, seed: int) -> tuple[float, float]:
    """A non-zoo contestant fitted on the training rows: (test score, seconds of fitting)."""
    import warnings

    x, y, x_test, y_test = rows
    categorical = [c for c in x.columns if str(x[c].dtype) == "category"]
    if name in ("catboost", "sklearn_mlp") and categorical:  # they take text, not pandas categoricals
        x, x_test = x.copy(), x_test.copy()
        for column in categorical:
            x[column], x_test[column] = x[column].astype(str), x_test[column].astype(str)
    target = y
    labels = None
    if task == "classification" and name in ("xgboost",):  # XGBoost wants class ids
        labels, target = np.unique(y, return_inverse=True)
    model = _other(name, task, seed, categorical)
    # scikit-learn's MLP warns when its 200 default iterations end early, and pytabkit's Lightning of its own
    # deprecations on every fit and predict: a suite's console keeps to its progress lines.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        model.fit(x, target)
        seconds = time.perf_counter() - started
        predicted = np.asarray(model.predict(x_test)).reshape(len(x_test), -1)[:, 0]
    if labels is not None:
        predicted = labels[predicted.astype(int)]
    if task == "classification":
        predicted = predicted.astype(str)
    return score(task, y_test, predicted), seconds


def available(name: str) -> bool:
    """Whether the contestant's package imports here."""
    module = {"lightgbm": "lightgbm", "xgboost": "xgboost", "catboost": "catboost", "realmlp_td": "pytabkit"}
    if name not in module:
        return True
    import importlib.util

    return importlib.util.find_spec(module[name]) is not None


def evaluation_epochs(epochs: int, points: int) -> set[int]:
    """The epochs (1-based) after which a `TestCurve` evaluates: at most `points`, log-spaced, the last included.

    Examples:
        >>> sorted(evaluation_epochs(15, 40)) == list(range(1, 16)), len(evaluation_epochs(223, 40))
        (True, 40)
        >>> sorted(evaluation_epochs(223, 40))[:8], max(evaluation_epochs(223, 40))
        ([1, 2, 3, 4, 5, 6, 7, 8], 223)
    """
    import numpy as np

    if epochs <= points:
        return set(range(1, epochs + 1))
    marks: set[int] = set()
    for count in range(points, 10 * points):  # rounding merges the early marks: ask for more until `points` remain
        wider = set(np.round(np.geomspace(1, epochs, count)).astype(int).tolist()) | {epochs}
        if len(wider) > points:
            break
        marks = wider
    return marks


class TestCurve(keras.callbacks.Callback):
    """Test accuracy against seconds of training (the evaluations' own time left out): what the time-to-accuracy
    column reads. It measures; nothing is chosen from it. At most `points` evaluations, spaced evenly on a log
    scale of epochs (every early epoch, where a curve climbs and a time to a threshold is decided; sparser
    later), and always the last one: a 1,000-image set trains for hundreds of short epochs, and evenly spread
    points first looked at a 223-epoch run after its 6th epoch, 2.7 s in, when the example had finished."""

    def __init__(self, x_test, y_test, points: int = 40):
        super().__init__()
        self.x_test, self.y_test, self.most = x_test, y_test, points
        self.points: list[tuple[float, float]] = []
        self.spent = 0.0

    def on_train_begin(self, logs=None):
        self.started, self.spent = time.perf_counter(), 0.0
        self.marks = evaluation_epochs(self.params.get("epochs") or 1, self.most)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 not in self.marks:
            return
        now = time.perf_counter()
        # With train.ema the model holds its raw weights between validation passes; the curve reads the
        # average, which is what the run ships.
        swap = [SwapAverage()] if getattr(self.model.optimizer, "use_ema", False) else []
        accuracy = self.model.evaluate(
            self.x_test, self.y_test, verbose=0, batch_size=1024, return_dict=True, callbacks=swap
        )
        self.points.append((round(now - self.started - self.spent, 2), float(accuracy["accuracy"])))
        self.spent += time.perf_counter() - now


def zoo_images(
    data, seed: int, runs_dir: Path, baseline: bool = False, rate=None, overrides=None, curve_on: str = "test"
) -> dict[str, Any]:
    """zoo's generic cnn (or its baseline at `rate`) on images handed over as 0-255 arrays or a folder. Its
    accuracy-against-seconds curve reads the `curve_on` rows: "test" on meta-test, "validation" on meta-train,
    where a time is something defaults are chosen from."""
    recipe = get_recipe("cnn", **{"train.seed": seed, **(overrides or {})})
    splits = load_data(data)
    curve = TestCurve(*splits.arrays[curve_on])
    result = train(
        recipe,
        data=splits,
        out_dir=runs_dir,
        verbose=0,
        baseline=baseline,
        learning_rate=rate,
        callbacks=[] if baseline else [curve],
    )
    m = result.metrics
    used = fitted(recipe, splits)  # the batch and epochs the data's size gave it (zoo.recipes.budget)
    return {
        "test": m["test_score"],
        "val": m["best_val_score"],
        # The clock also ran through the test-curve evaluations; they are not training.
        "seconds": round(m["train_seconds"] - (curve.spent if curve.points else 0.0), 2),
        "curve": curve.points,
        "epochs": m["epochs_run"],
        "batch_size": used.train.batch_size,
    }


def keras_example(arrays, seed: int, curve_on: str = "test") -> dict[str, Any] | None:
    """keras.io's "Simple MNIST convnet" as written: x / 255, batch 128, 15 epochs, validation_split 0.1.
    None where the images are too small for its two conv+pool stages (under 10 pixels a side).

    With `curve_on="validation"` (meta-train) it fits on the rows zoo trains on and holds out zoo's validation
    rows in place of its own last tenth (the same share), so that both nets' validation curves read the same
    rows, which neither trained on: its entry adds `validation`, its last epoch's accuracy there."""
    from zoo.experiments.standings import keras_example_convnet

    x, y, x_test, y_test = arrays
    if min(x.shape[1:3]) < 10:
        return None
    x_test = x_test.astype("float32") / 255
    if curve_on == "validation":
        # zoo's own split of these arrays: the rows its cnn trains and validates on, already at x / 255.
        splits = load_data(arrays)
        (x, y), held = splits.arrays["train"], {"validation_data": splits.arrays["validation"]}
    else:
        x, held = x.astype("float32") / 255, {"validation_split": 0.1}
    keras.utils.set_random_seed(seed)
    model = keras_example_convnet(x.shape[1:], int(max(y.max(), y_test.max())) + 1)
    curve = TestCurve(*held.get("validation_data", (x_test, y_test)))
    started = time.perf_counter()
    history = model.fit(x, y, batch_size=128, epochs=15, verbose=0, callbacks=[curve], **held)
    seconds = time.perf_counter() - started - curve.spent
    test = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    entry = {"test": float(test), "seconds": round(seconds, 2), "curve": curve.points}
    if curve_on == "validation":
        entry["validation"] = float(history.history["val_accuracy"][-1])
    return entry
