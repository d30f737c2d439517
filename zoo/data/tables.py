"""CSV and Parquet tables -> encoded rows, with the encoding as a Keras model so saved nets take raw rows.

Numeric columns are scaled robustly and smoothly clipped (`scaled`) and every other column is
one-hot encoded by a `keras.layers.StringLookup` (its MAX_CATEGORIES most frequent values; unseen and
rarer values share one extra slot). Both are
fitted on the training rows only: never on validation or test rows. The encoder takes a dict
of columns keyed by the table's own column names, one array per column, so a saved model predicts from
`{"sepal length (cm)": [[5.1]], ...}` or `table_columns(frame)`, with Keras alone.

Examples:
    >>> import pandas as pd, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "pets.csv")
    >>> pd.DataFrame({"weight": [4.0, 30, 5, 25, 3, 35] * 5, "colour": ["black", "brown", "white"] * 10,
    ...               "kind": ["cat", "dog"] * 15}).to_csv(path, index=False)
    >>> table = read_table(path, "kind")
    >>> table.numeric, table.categorical
    (['weight'], ['colour'])
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from zoo.data.columns import (
    DATE_UNIT,
    ISO,
    as_days,
    as_text,
    date_spellings,
    holds_numbers,
    input_name,
    numeric_column,
    table_columns,
    written_as,
)
from zoo.data.csvfile import csv_format, csv_header
from zoo.data.splitting import validation_order
from zoo.errors import DataError

# A table model's dict is keyed by the user's column names while its tensors carry TensorFlow-safe names
# (`input_name`); Keras warns about the difference on every build and load, though it uses the keys.
warnings.filterwarnings("ignore", message="When providing `inputs` as a dict, all keys in the dict must match")


@dataclasses.dataclass
class Table:
    """A table as read: its feature columns by kind, and its target column."""

    path: Path
    frame: Any  # pandas.DataFrame of the feature columns
    target: np.ndarray
    target_name: str
    numeric: list[str]
    categorical: list[str]
    row_labels: bool = False  # a CSV's first, unnamed column: row labels (pandas' and R's default), not a feature
    # Numeric columns read from dates (`as_days`), each with its spelling (`date_format`): new rows are read alike.
    dates: dict[str, str] = dataclasses.field(default_factory=dict)
    unclear_dates: list[str] = dataclasses.field(default_factory=list)  # dates with no day above 12: kept as text

    def encoded(
        self, train: np.ndarray, test: np.ndarray, validation_size: int, classes: bool = False
    ) -> tuple[np.ndarray, np.ndarray, Any, Any]:
        """(x, y, class names or None, encoder): every row encoded, its label, and the fitted encoder.

        `train` and `test` are row positions. The encoder is fitted on the training rows that
        `zoo.data.builtin.split` will leave once it carves `validation_size` of them for validation.
        """
        labels = self.target[train] if classes else None  # split() keeps a rare class in training, so here too
        fit_rows = train[validation_order(len(train), validation_size, labels)[validation_size:]]
        y, names = self._labels(train, test)
        encoder = self.encoder(fit_rows)
        x = np.asarray(encoder.predict(table_columns(self.frame, dates=False), verbose=0, batch_size=4096), np.float32)
        return x, y, names, encoder

    def describe(self) -> str:
        """One line saying what the table holds."""
        return (
            f"{len(self.target)} rows of {self.path} ({len(self.numeric)} numeric, {len(self.categorical)} "
            f"categorical columns; target {self.target_name}"
            + (f"; dates as {DATE_UNIT}: {', '.join(map(_spelled, self.dates.items()))}" if self.dates else "")
            + "".join(f"; {note}" for note in self.notes)
            + ("; the first, unnamed column read as row labels, not a feature" if self.row_labels else "")
            + ")"
        )

    @functools.cached_property
    def notes(self) -> tuple[str, ...]:
        """What the user may want to change in the table: dates kept as text, and text columns of mostly distinct
        values. `describe` says them, and so do the estimators (as warnings), which print nothing else; worked out
        once (each text column's distinct values counted), as the table is not changed after reading."""
        unclear = (
            f"kept as text, no day above 12 showing which number is the day: {', '.join(self.unclear_dates)} "
            "(write them as ISO 8601 dates to have them read as dates)"
        )
        crowded = [note for note in map(self._crowded, self.categorical) if note]
        return tuple(([unclear] if self.unclear_dates else []) + crowded)

    def _crowded(self, column: str) -> str | None:
        """A note on a text column whose values are mostly distinct (an id, or numbers written with symbols):
        only its MAX_CATEGORIES most frequent values become categories, the rest one unseen slot."""
        values = self.frame[column]
        distinct = values.nunique()
        if distinct <= MAX_CATEGORIES or distinct < len(values) / 2:
            return None
        note = (
            f"{column}: {distinct} distinct values in {len(values)} rows, only the {MAX_CATEGORIES} most frequent kept"
        )
        written = values.str.fullmatch(_DRESSED_NUMBER)
        if written.mean() > 0.9:
            example = values[written].iloc[0]
            note += f" (numbers with other characters, such as {example!r}: remove those to have them read as numbers)"
        return note

    def _labels(self, train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, tuple[str, ...] | None]:
        if np.issubdtype(self.target.dtype, np.number):
            return self.target, None
        names = tuple(sorted(set(self.target[train].tolist())))
        unseen = sorted(set(self.target[test].tolist()) - set(names))
        if unseen:
            raise DataError(
                f"{self.path}: column {self.target_name!r} holds {unseen[0]!r} only in test rows; every class "
                "needs training rows (add rows of it, or drop them)"
            )
        index = {name: i for i, name in enumerate(names)}
        return np.array([index[value] for value in self.target.tolist()], np.int64), names

    def encoder(self, rows: np.ndarray):
        """The Keras model from a dict of raw columns to one float vector per row, fitted on `rows`."""
        import keras

        # Keyed by the column's own name, as the user's CSV or DataFrame has it; the tensor's name is TensorFlow-safe.
        inputs = {
            str(column): keras.Input(
                (1,), name=input_name(column), dtype="string" if column in self.categorical else "float32"
            )
            for column in self.frame.columns
        }
        parts = []
        if self.numeric:
            joined = (
                inputs[self.numeric[0]]
                if len(self.numeric) == 1
                else keras.layers.Concatenate(name="numeric")([inputs[str(column)] for column in self.numeric])
            )
            values = self.frame[self.numeric].to_numpy(np.float32)[rows]
            # A missing number (NaN) becomes the column's training median: 0 once scaled. Where training rows
            # miss values, a 0/1 column says which were missing, so the net can learn from the gap itself.
            parts.append(keras.ops.nan_to_num(scaled(values, joined, SCALING), nan=0.0))
            gaps = np.flatnonzero(np.isnan(values).any(axis=0)).tolist()
            if gaps:
                missing = keras.ops.isnan(keras.ops.take(joined, gaps, axis=1))
                parts.append(keras.ops.cast(missing, "float32"))
        for column in self.dates:
            parts.append(_cycles(inputs[str(column)], self.frame[column].to_numpy(np.float64)[rows]))
        for column in self.categorical:
            counts = self.frame[column].iloc[rows].value_counts(sort=False)
            # The most frequent values, in a fixed order; the rest share the unseen-value slot.
            kept = sorted(counts.sort_values(ascending=False, kind="stable").index[:MAX_CATEGORIES].tolist())
            lookup = keras.layers.StringLookup(
                vocabulary=kept, output_mode="one_hot", name=f"{input_name(column)}_one_hot"
            )
            parts.append(lookup(inputs[str(column)]))
        features = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="features")(parts)
        return keras.Model(inputs, features, name="encoder")


def _spelled(date: tuple[str, str]) -> str:
    """A date column as `describe` names it: its name, and its spelling where that is not ISO 8601, shown as
    31 March 2024 written that way ("03/31/2024": month first)."""
    column, spelling = date
    return column if spelling == ISO else f"{column} (read as {written_as(spelling)})"


# The cycles a date's days hold, in days: a year, a week, and (where the training dates hold times) a day.
DATE_CYCLES = {"year": 365.2425, "week": 7.0, "day": 1.0}


def _cycles(days, values: np.ndarray):
    """sin and cos of where each date stands in its year, week and (given times of day) day, from the raw days
    input by Keras ops only (the saved model still loads without zoo): the scaled days carry the trend, and
    seasons, weekdays and hours that a single number cannot show a net."""
    import keras

    present = values[~np.isnan(values)]
    periods = [p for name, p in DATE_CYCLES.items() if name != "day" or np.any(present != np.round(present))]
    # The phase within each period first (a float remainder is exact), then the angle, so sin and cos see angles
    # in [0, 2 pi) rather than 2 pi x 20,000 days, whose value rests on each backend's range reduction. (The export
    # drift first blamed on this was the export check's absolute tolerance on outputs in the thousands.)
    angles = keras.ops.concatenate([keras.ops.mod(days, p) * (2 * np.pi / p) for p in periods], axis=1)
    waves = keras.ops.concatenate([keras.ops.sin(angles), keras.ops.cos(angles)], axis=1)
    return keras.ops.nan_to_num(waves, nan=0.0)  # a missing date: no phase (its gap is flagged with the numbers)


# One-hot slots per categorical column: beyond this many values the rarest share the unseen-value slot. A dense
# layer over a one-hot column is an embedding table as wide as the layer, so large categories need no other path.
MAX_CATEGORIES = 64
# A number with a currency sign, thousands separators, a percent sign or a short unit: "$1,234.50", "12 %", "6 kg".
_DRESSED_NUMBER = r"\s*[$€£¥]?\s*[-+]?\d[\d,]*(\.\d+)?\s*(%|[A-Za-z]{1,3})?\s*"


# How numeric columns are scaled: "robust" (median and interquartile range, then a smooth clip to +-3, as
# RealMLP does) or "standard" (mean and standard deviation, no clip: the encoder of releases before 0.4).
SCALING = "robust"
SMOOTH_CLIP = 3.0


def scaled(values: np.ndarray, inputs, scaling: str = "robust"):
    """`inputs` (numeric columns) scaled with statistics of `values` (the training rows), by built-in Keras
    layers only, so a saved model loads without zoo.

    "robust": (x - median) / IQR per column (half the range where the IQR is 0, 1 where the column is
    constant), then 3·tanh(x / 3): values near the middle pass almost unchanged, and an extreme value
    (an outlier, a typo, a heavy tail) lands near +-3 instead of at 1e6. "standard": (x - mean) / std.

    Examples:
        >>> import keras
        >>> values = np.array([[0.0], [1.0], [2.0], [3.0], [1e6]], np.float32)
        >>> column = keras.Input((1,))
        >>> model = keras.Model(column, scaled(values, column))
        >>> [round(float(v), 2) for v in model.predict(values, verbose=0).ravel()]
        [-0.96, -0.5, 0.0, 0.5, 3.0]
    """
    import keras

    if scaling not in ("robust", "standard"):
        raise ValueError(f"scaling = {scaling!r}; expected 'robust' or 'standard'")
    # Statistics of the values present (missing ones are NaN); a column with none at all passes as 0 and 1.
    present = ~np.isnan(values).all(axis=0)
    filled = np.where(present, values, 0.0)
    if scaling == "standard":
        spread = np.nanstd(filled, axis=0)
        spread = np.where(spread > 0, spread, 1.0)
        return keras.layers.Normalization(mean=np.nanmean(filled, axis=0), variance=spread**2, name="standardize")(
            inputs
        )
    center = np.nanmedian(filled, axis=0)
    low, high = np.nanpercentile(filled, [25, 75], axis=0)
    spread = high - low
    half_range = (np.nanmax(filled, axis=0) - np.nanmin(filled, axis=0)) / 2
    spread = np.where(spread > 0, spread, np.where(half_range > 0, half_range, 1.0))
    x = keras.layers.Normalization(mean=center, variance=spread**2, name="robust_scale")(inputs)
    x = keras.layers.Rescaling(1 / SMOOTH_CLIP, name="clip_in")(x)
    x = keras.layers.Activation("tanh", name="smooth_clip")(x)
    return keras.layers.Rescaling(SMOOTH_CLIP, name="clip_out")(x)


# Delimited text (`csv_format` finds the delimiter: comma, semicolon, tab or bar) and Parquet.
TEXT_SUFFIXES = (".csv", ".tsv")
TABLE_SUFFIXES = (*TEXT_SUFFIXES, ".parquet", ".pq")


def read_frame(path: Path):
    """A CSV (read as `csv_format` says it is written, which the frame's attrs["csv_format"] keeps) or Parquet
    file as a DataFrame."""
    import pandas as pd

    try:
        if path.suffix.lower() in TEXT_SUFFIXES:  # in the file's own encoding, delimiter and decimal mark
            found = csv_format(path)
            frame = pd.read_csv(path, **found)
            frame.attrs["csv_format"] = found
            return frame
        try:
            return pd.read_parquet(path)
        except ImportError:
            raise DataError(f"reading {path} needs a Parquet engine: pip install pyarrow") from None
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DataError(f"{path} is not a readable table ({str(error).splitlines()[0]})") from None


def _check_columns(path: Path, columns: list[str], wanted: list[str] | None, what: str) -> list[str]:
    for column in wanted or []:
        if column not in columns:
            close = difflib.get_close_matches(column, columns, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DataError(f"{path} has no column {column!r} ({what}){hint}; its columns: {', '.join(columns)}")
    return list(wanted or [])


def _read_features(path: Path, features, forced_numeric, forced_categorical) -> tuple[dict, dict, list]:
    """Each feature column read in place as numbers (dates as their days) or text: (kind of each column, the date
    columns' spellings, the columns of dates whose day and month no value tells apart, kept as text)."""
    kinds, dates, unclear = {}, {}, []
    for column in features.columns:
        values = features[column]
        forced = "numeric" if column in forced_numeric else "categorical" if column in forced_categorical else None
        spellings = () if forced == "categorical" else (ISO,) if values.dtype.kind == "M" else date_spellings(values)
        spelled = spellings[0] if len(spellings) == 1 else None
        unclear += [column] if len(spellings) > 1 else []
        days = as_days(values, spelled) if spelled else None
        kinds[column] = forced or ("numeric" if holds_numbers(values) or days is not None else "categorical")
        if days is not None:  # a date column is a number: days since 1970-01-01 (--categorical keeps it text)
            features[column] = days
            dates[column] = spelled
        elif kinds[column] == "numeric":
            features[column] = numeric_column(path, column, values)
        else:
            features[column] = as_text(values)
    return kinds, dates, unclear


def read_table(
    path: str | Path | Any, target: str, categorical: list[str] | None = None, numeric: list[str] | None = None
) -> Table:
    """Read a CSV or Parquet table (or take a pandas DataFrame), check it, and sort its feature
    columns into numeric and categorical. A DataFrame is copied, never changed."""
    if hasattr(path, "columns"):  # a DataFrame: messages call it "DataFrame" where a file's name would stand
        frame, path, found = path.copy(), Path("DataFrame"), None
        header = [str(c) for c in frame.columns]
    else:
        path = Path(path)
        frame = read_frame(path)
        found = frame.attrs.get("csv_format")
        header = (csv_header(path, found) if found else None) or [str(c) for c in frame.columns]
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:  # pandas would rename the second one ("a.1") without a word
        raise DataError(f"{path} has more than one column named {', '.join(map(repr, twice))}; rename them apart")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    _check_columns(path, columns, [target], "--target")
    if len(frame) == 0:
        raise DataError(f"{path} has a header but no rows")
    missing = frame[target].isna().to_numpy()
    if missing.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(missing)[:5])  # +2: 1-based, after the header line
        raise DataError(
            f"{path}: the target column {target!r} has {missing.sum()} missing values (lines {rows}"
            f"{', ...' if missing.sum() > 5 else ''}); fill them or drop those rows"
        )
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise DataError(f"{path} has no columns besides the target {target!r}")
    names: dict[str, str] = {}
    for column in features.columns:
        clash = names.setdefault(input_name(column), column)
        if clash != column:
            raise DataError(
                f"{path}: columns {clash!r} and {column!r} both become the model input {input_name(column)!r}; "
                "rename one"
            )
    forced_numeric = _check_columns(path, columns, numeric, "--numeric")
    forced_categorical = _check_columns(path, columns, categorical, "--categorical")
    kinds, dates, unclear = _read_features(path, features, forced_numeric, forced_categorical)
    target_values = frame[target].to_numpy()
    if not np.issubdtype(target_values.dtype, np.number):  # text or booleans: class names
        target_values = target_values.astype(str)
    by_kind = {kind: [c for c in features.columns if kinds[c] == kind] for kind in ("numeric", "categorical")}
    row_labels = "index_col" in (found or {})
    return Table(
        path, features, target_values, target, by_kind["numeric"], by_kind["categorical"], row_labels, dates, unclear
    )
