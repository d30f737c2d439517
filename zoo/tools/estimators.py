"""scikit-learn estimators over zoo's recipes: `zoo.Classifier` and `zoo.Regressor`.

They follow scikit-learn's estimator contract (`fit` / `predict` / `predict_proba` / `score`,
`get_params` / `set_params`, `classes_` holding the original labels), so they work inside a
`Pipeline`, `cross_val_score` and `GridSearchCV`. `fit` trains the recipe exactly as `zoo.train`
does, on every row it is given: a tenth is carved out for validation (early stopping, the
schedule) and nothing is held out for testing; that is the caller's to do.

A 2-D array or a DataFrame goes through the recipe's table encoder (numeric columns robust-scaled
and clipped, text columns one-hot, a missing number (NaN) the column's training median plus a "was
missing" column), as a CSV would; an array of images (n, height, width, channels) goes in as it is
(0-255 pixels are scaled inside the model).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from zoo.errors import DataError

_TARGET = "__zoo_target__"
MIN_ROWS = 4  # three to train on, one to validate


def _is_frame(x: Any) -> bool:
    return hasattr(x, "columns") and hasattr(x, "iloc")


def _as_frame(x):
    """Checked input as the table encoder takes it: a DataFrame as it is, a 2-D array as one (columns x0, x1,
    ...); None for images, which go in as arrays."""
    import pandas as pd

    if _is_frame(x):
        return x
    if x.ndim != 2:
        return None
    return pd.DataFrame(np.asarray(x, np.float64), columns=[f"x{i}" for i in range(x.shape[1])])


class _ZooEstimator(BaseEstimator):
    """What the two estimators share; `_task` is the recipe task each one trains."""

    _task = "classification"

    def __init__(
        self,
        recipe: str = "tabular",
        overrides: dict[str, Any] | None = None,
        epochs: int | None = None,
        random_state: int | None = None,
        verbose: int = 0,
    ):
        self.recipe = recipe
        self.overrides = overrides
        self.epochs = epochs
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # table rows with gaps, as HistGradientBoosting takes them
        return tags

    def _checked(self, x, y=None, fitting: bool = False):
        """(x, y) as scikit-learn checks them: no sparse, complex or inf values, NaN only in table rows; numbers,
        or a DataFrame (whose text columns go to the table encoder); one target per row; the fitted columns."""
        if fitting and y is None:
            raise DataError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        if _is_frame(x):
            if fitting:
                y = column_or_1d(y, warn=True)
                if len(y) != len(x):
                    raise DataError(f"y has {len(y)} targets; expected one per row of X ({len(x)} rows)")
                if len(x) < MIN_ROWS:
                    raise DataError(f"X has {len(x)} sample(s); zoo needs at least {MIN_ROWS} rows")
                self.n_features_in_ = x.shape[1]
                self.feature_names_in_ = np.asarray([str(c) for c in x.columns], dtype=object)
            elif x.shape[1] != self.n_features_in_:
                raise DataError(f"X has {x.shape[1]} columns; the estimator was fitted on {self.n_features_in_}")
            return x.rename(columns=str), y
        # Arrays: scikit-learn's own checks and messages (2-D rows, or 4-D images). A table's gaps (NaN) pass,
        # as in a DataFrame: the encoder fills them; an image's NaN and any infinity are refused.
        if fitting:
            x, y = validate_data(
                self,
                x,
                y,
                allow_nd=True,
                ensure_min_samples=MIN_ROWS,
                ensure_all_finite="allow-nan",
                y_numeric=self._task == "regression",
            )
        else:
            x = validate_data(self, x, reset=False, allow_nd=True, ensure_all_finite="allow-nan")
        if x.ndim != 2:
            assert_all_finite(x, input_name="X")
        return x, y

    def _fit(self, x, y):
        from zoo.data.sources import load_data
        from zoo.nets.portable import portable
        from zoo.recipes.recipe import get_recipe
        from zoo.training.trainer import servable, train

        seed = {} if self.random_state is None else {"train.seed": int(self.random_state)}
        recipe = get_recipe(self.recipe, **{**(self.overrides or {}), **seed})
        frame = _as_frame(x)
        if frame is not None:
            splits = load_data(frame.assign(**{_TARGET: y}), target=_TARGET, task=self._task, test_size=0)
        else:
            splits = load_data((x, y), task=self._task, test_size=0)
        self._table = frame is not None
        self._dates = dict(splits.info.dates)  # date columns and their spellings: new rows' dates are converted
        for note in splits.info.notes:  # what `zoo train` prints on reading a table, said the scikit-learn way
            warnings.warn(f"X: {note}", UserWarning, stacklevel=3)
        with tempfile.TemporaryDirectory(prefix="zoo-fit-") as folder:
            result = train(recipe, data=splits, epochs=self.epochs, out_dir=Path(folder) / "run", verbose=self.verbose)
        self.model_ = portable(servable(result.model, splits.encoder))
        self.history_ = result.history
        return self

    def _outputs(self, x) -> np.ndarray:
        from zoo.data.columns import typed_columns

        check_is_fitted(self, "model_")
        x, _ = self._checked(x)
        frame = _as_frame(x)
        if (frame is not None) != self._table:
            raise DataError("X is not the kind of input this estimator was fitted on (table rows or images)")
        if frame is not None:  # each column as the model takes it, whatever dtype the new rows' frame gave it
            kinds = {str(n): "date" if n in self._dates else t.dtype for n, t in self.model_.input.items()}
            inputs = typed_columns(frame, kinds, "X", self._dates)
        else:
            inputs = np.asarray(x, np.float32)
        return np.asarray(self.model_.predict(inputs, verbose=0, batch_size=1024))


class Classifier(ClassifierMixin, _ZooEstimator):
    """A zoo recipe as a scikit-learn classifier (default: the `tabular` recipe).

    `overrides` are recipe keys (`{"model.hidden": [64], "train.learning_rate": 3e-3}`); `epochs`
    replaces the recipe's budget; `random_state` is the recipe's seed.

    Examples:
        >>> from sklearn.datasets import load_iris
        >>> x, y = load_iris(return_X_y=True)
        >>> model = Classifier(overrides={"model.hidden": [16]}, epochs=2, random_state=0).fit(x, y)
        >>> model.classes_.tolist(), model.predict_proba(x[:2]).shape, 0 <= model.score(x, y) <= 1
        ([0, 1, 2], (2, 3), True)
    """

    _task = "classification"

    def fit(self, X, y):
        """Train on every row of X (a tenth of it for validation); labels may be any sortable values."""
        X, y = self._checked(X, y, fitting=True)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise DataError(f"y holds one class ({self.classes_[0]!r}); a classifier needs two or more")
        return self._fit(X, np.searchsorted(self.classes_, y))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one column per entry of `classes_`."""
        return self._outputs(X)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, as one of the original labels."""
        outputs = self._outputs(X)  # checks the fit first (NotFittedError)
        return self.classes_[np.argmax(outputs, axis=1)]


class Regressor(RegressorMixin, _ZooEstimator):
    """A zoo recipe as a scikit-learn regressor (default: the `tabular` recipe; `score` is R^2).

    Examples:
        >>> from sklearn.datasets import load_diabetes
        >>> x, y = load_diabetes(return_X_y=True)
        >>> model = Regressor(overrides={"model.hidden": [16]}, epochs=2, random_state=0).fit(x, y)
        >>> model.predict(x[:3]).shape
        (3,)
    """

    _task = "regression"

    def fit(self, X, y):
        """Train on every row of X (a tenth of it for validation) to predict the numbers in y."""
        X, y = self._checked(X, y, fitting=True)
        return self._fit(X, np.asarray(y, dtype=np.float64))

    def predict(self, X) -> np.ndarray:
        """One predicted value per row, in y's units."""
        return self._outputs(X)[:, 0]
