"""A table's columns as a table model takes them: the dict of one array per column that a saved model
predicts from, the rule that reads a column as numbers or text, and the checks on the values.

`zoo.data.tables` reads and encodes whole tables with these; `zoo predict` and the estimators feed new rows
through `typed_columns`, so a saved model gets each column as it was trained on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import DataError


def table_columns(frame, dates: bool | dict[str, str] = True) -> dict[str, Any]:
    """A DataFrame's columns as the dict a table model takes: text columns as strings, others float32,
    each under its own column name; with `dates`, a date column (`as_days`) as its days, as training read it.
    `dates` may map columns to their spellings, as a table run's `metrics.json` lists them under
    `input.date_formats`: `zoo.table_columns(frame, metrics["input"]["date_formats"])`.

    Examples:
        >>> import pandas as pd
        >>> columns = table_columns(pd.DataFrame({"size (cm)": [1, 2], "b": ["x", None], "d": ["1970-01-03"] * 2}))
        >>> sorted(columns), columns["b"].numpy().tolist(), columns["d"].tolist()
        (['b', 'd', 'size (cm)'], [[b'x'], [b'']], [[2.0], [2.0]])
        >>> table_columns(pd.DataFrame({"d": ["01/03/1970"]}), {"d": "%m/%d/%Y"})["d"].tolist()  # alone, unclear
        [[2.0]]
    """
    import tensorflow as tf

    columns = {}
    for column in frame.columns:
        values = frame[column]
        spelled = dates.get(str(column)) if isinstance(dates, dict) else None
        days = _days(values, spelled) if dates is not False and not holds_numbers(values) else None
        if days is not None:
            values = days
        if not holds_numbers(values):  # text, booleans, categories, pandas' nullable string and boolean
            # A string tensor: Keras's predict() refuses numpy arrays of Python strings.
            columns[str(column)] = tf.constant(as_text(values).to_numpy(dtype=object).reshape(-1, 1), tf.string)
        else:  # numbers, pandas' nullable integers included: a missing one is NaN, which the model fills in
            columns[str(column)] = values.to_numpy(np.float32, na_value=np.nan).reshape(-1, 1)
    return columns


def typed_columns(frame, kinds: dict[str, str], where, date_formats: dict[str, str] | None = None) -> dict[str, Any]:
    """`table_columns` of new rows for a trained table model, each column as the model takes it: `kinds` maps a
    column to its model input's dtype ("string" for a category, "date" for a date column, which takes days since
    1970-01-01 and converts dates to them: spelled as `date_formats` says training's were, or in any spelling
    `date_format` reads unambiguously, else numbers). A category whose new values all read as numbers
    still goes in as text, and a word in a numeric column is refused naming `where` (the file), the column and
    the line, where TensorFlow would fail inside the model ("Cast string to float").

    Examples:
        >>> import pandas as pd
        >>> columns = typed_columns(pd.DataFrame({"zip": [1200, 1300], "m2": ["55", None]}),
        ...                         {"zip": "string", "m2": "float32"}, "new.csv")
        >>> columns["zip"].numpy().tolist(), columns["m2"].tolist()
        ([[b'1200'], [b'1300']], [[55.0], [nan]])
    """
    typed = frame.set_axis([str(c) for c in frame.columns], axis=1)[list(kinds)].copy()  # keyed as the model is
    for column, dtype in kinds.items():
        spelled = (date_formats or {}).get(column)
        days = _days(typed[column], spelled) if dtype == "date" else None
        if dtype == "string":
            typed[column] = as_text(typed[column])
        elif days is not None:
            typed[column] = days
        else:  # numbers (a date column given as its days included)
            fix = (
                f"the model takes dates there ({_spelling(spelled)}) or days since 1970-01-01"
                if dtype == "date"
                else "the model was trained on numbers there"
            )
            typed[column] = numeric_column(where, column, typed[column], fix)
    return table_columns(typed, dates=False)  # typed already: a category of ISO dates stays text


# A date as text, ISO 8601 (what databases, pandas and most exports write): 2024-03-31, optionally with a time
# and a zone.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
ISO = "ISO8601"
# The other spellings read as dates (spreadsheets' locales): day and month in either order around "/", "." or
# "-", then the year (two digits: 1969-2068, Python's rule), or year first around "/"; a time of day after a
# space. Which order a column holds is read off its values (a day above 12), never guessed from a locale.
_OTHER_DATE = re.compile(r"^(\d{1,2}([./-])\d{1,2}\2(\d{4}|\d{2})|\d{4}/\d{1,2}/\d{1,2})( \d{1,2}:\d{2}(:\d{2})?)?$")
_OTHER_FORMATS = tuple(
    f"{day_month}{year}{time}"
    for day_month in ("%d/%m/", "%m/%d/", "%d.%m.", "%m.%d.", "%d-%m-", "%m-%d-")
    for year in ("%Y", "%y")
    for time in ("", " %H:%M", " %H:%M:%S")
) + tuple(f"%Y/%m/%d{time}" for time in ("", " %H:%M", " %H:%M:%S"))
DATE_UNIT = "days since 1970-01-01"


def date_spellings(values) -> tuple[str, ...]:
    """Every spelling that reads all of a text column's values as dates: (`ISO`,) for ISO 8601, strftime
    formats for the others (`_OTHER_FORMATS`), none for text that is not dates. Two where no value shows
    which number is the day (03/04/2024 is 3 April or 4 March).

    Examples:
        >>> import pandas as pd
        >>> date_spellings(pd.Series(["2024-03-31", None])), date_spellings(pd.Series(["03/04/2024"]))
        (('ISO8601',), ('%d/%m/%Y', '%m/%d/%Y'))
    """
    import pandas as pd

    text = values.dropna().astype(str)
    if len(text) == 0 or values.dtype.kind in "biufcM":
        return ()
    if _ISO_DATE.match(text.iloc[0]):  # most text fails on its first value
        return (ISO,) if text.str.match(_ISO_DATE).all() else ()
    if not _OTHER_DATE.match(text.iloc[0]) or not text.str.match(_OTHER_DATE).all():
        return ()
    first = text.iloc[0]
    shaped = [f for f in _OTHER_FORMATS if f.count(":") == first.count(":") and f[2] in first]  # f[2]: its separator
    return tuple(f for f in shaped if pd.to_datetime(text, format=f, errors="coerce").notna().all())


def date_format(values) -> str | None:
    """How a text column spells its dates: the one spelling of `date_spellings`, or None: not dates, or dates
    whose day and month cannot be told apart, which stay text rather than be guessed.

    Examples:
        >>> import pandas as pd
        >>> date_format(pd.Series(["2024-03-31", None])), date_format(pd.Series(["03/31/2024", "04/01/2024"]))
        ('ISO8601', '%m/%d/%Y')
        >>> [date_format(pd.Series([text])) for text in ("31.03.2024 08:30", "03/04/2024", "x")]
        ['%d.%m.%Y %H:%M', None, None]
    """
    spellings = date_spellings(values)
    return spellings[0] if len(spellings) == 1 else None


def as_days(values, format: str | None = None):
    """A date column as float32 days since 1970-01-01 (a time of day as the fraction; missing dates NaN), or None
    for a column that is not dates: a datetime column, or text whose every value is a date spelled as `format`
    says (by default `date_format`'s reading of the values). As days, a date is a number the net can order and
    extrapolate from; as text, each date was its own category, and every date after the training rows' last an
    unseen one.

    Examples:
        >>> import pandas as pd
        >>> as_days(pd.Series(["1970-01-02", "2024-03-31T12:00:00", None])).tolist()
        [1.0, 19813.5, nan]
        >>> as_days(pd.Series(["02/01/1970"]), format="%d/%m/%Y").tolist(), as_days(pd.Series(["02/01/1970"]))
        ([1.0], None)
        >>> as_days(pd.Series(["1970-01-02", "soon"])) is None, as_days(pd.Series([1.5, 2.0])) is None
        (True, True)
    """
    import pandas as pd

    if values.dtype.kind != "M":
        format = format or date_format(values)
        if format is None or values.dtype.kind in "biufc":
            return None
        present = values.notna()
        text = values.astype(object).where(present, None)
        if format == ISO and not text[present].astype(str).str.match(_ISO_DATE).all():
            return None
        values = pd.to_datetime(text, format=format, utc=True, errors="coerce")
        if values[present].isna().any():  # a value the format does not read
            return None
    elif values.dt.tz is None:
        values = values.dt.tz_localize("UTC")
    days = (values - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)
    return days.astype(np.float32)


def _days(values, spelled: str | None):
    """`as_days` of new rows: spelled as training's dates were, else in any spelling read unambiguously (ISO 8601
    dates, say, where training's were 03/31/2024)."""
    days = as_days(values, spelled) if spelled else None
    return as_days(values) if days is None else days


def _spelling(spelled: str | None) -> str:
    """How a date column's dates may be written, for an error message."""
    iso = "ISO 8601, 2024-03-31"
    if spelled in (None, ISO):
        return iso
    return f"as in training, {written_as(spelled)}, or {iso}"


def written_as(spelled: str) -> str:
    """31 March 2024, 08:30 written as `spelled` (a strftime format) says: an example for a message.

    Examples:
        >>> written_as("%m/%d/%Y")
        '03/31/2024'
    """
    import datetime

    return datetime.datetime(2024, 3, 31, 8, 30).strftime(spelled)


def holds_numbers(values) -> bool:
    """Whether a column is read as numbers (integers, pandas' nullable ones too, and floats) rather than text:
    the one rule both reading a table and `table_columns` follow, so a saved model gets each column as it
    was trained on.

    Examples:
        >>> import pandas as pd
        >>> holds_numbers(pd.Series([1, None], dtype="Int64")), holds_numbers(pd.Series([True, False]))
        (True, False)
    """
    return values.dtype.kind in "iuf"


def as_text(values):
    """A column's cells as text, a missing cell (None, NaN, pandas.NA) as "", whatever the column's dtype.

    Examples:
        >>> import pandas as pd
        >>> as_text(pd.Series([True, None], dtype="boolean")).tolist()
        ['True', '']
    """
    return values.astype(object).where(values.notna(), "").astype(str)


def input_name(column: str) -> str:
    """The name of the Keras input tensor a table column feeds (the model's dict is keyed by the column itself):
    the column's name with every character but letters, digits and _ made _, as TensorFlow's SavedModel
    signatures need (a Keras name may not hold "/", and a signature argument not a space).

    Examples:
        >>> input_name("od280/od315 ratio")
        'od280_od315_ratio'
    """
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in str(column))
    return cleaned if cleaned and not cleaned[0].isdigit() else f"c_{cleaned}"


def numeric_column(path: Path, column: str, values, fix: str = "fix the value, or let the column be categorical"):
    """A column's cells as float32 numbers, a missing one NaN; a cell that is not a number is refused, naming
    the file, the column and its line, and what to do (`fix`).

    Examples:
        >>> import pandas as pd
        >>> numeric_column(Path("t.csv"), "size", pd.Series(["1.5", None])).tolist()
        [1.5, nan]
        >>> numeric_column(Path("t.csv"), "size", pd.Series(["1.5", "abc"]))
        Traceback (most recent call last):
        ...
        zoo.errors.DataError: t.csv: column 'size' is treated as numeric but line 3 holds 'abc'; fix the value, or \
let the column be categorical
    """
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{path}: column {column!r} is treated as numeric but line {first + 2} holds {values.iloc[first]!r}; {fix}"
        )
    # Missing values stay NaN: the encoder fills them in (see `Table.encoder`); infinities are refused.
    check_values(numbers.dropna().to_numpy(np.float64), f"{path}: numeric column {column!r}")
    return numbers.astype(np.float32)


# Beyond this size a value overflows the float32 arithmetic a net trains in (squares reach 3.4e38),
# and the run "diverges" when the problem is the input.
LARGEST_VALUE = 1e18


def check_values(values: np.ndarray, what: str) -> None:
    """Refuse non-finite values, and values too large to train on, naming `what` holds them.

    Examples:
        >>> check_values(np.array([1.0, np.inf]), "x_train")
        Traceback (most recent call last):
        ...
        zoo.errors.DataError: x_train holds 1 infinite or NaN values (the first at position 1); fill or drop them
    """
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.number):
        return
    flat = values.reshape(-1)
    broken = ~np.isfinite(flat)
    if broken.any():
        raise DataError(
            f"{what} holds {int(broken.sum())} infinite or NaN values (the first at position "
            f"{int(np.flatnonzero(broken)[0])}); fill or drop them"
        )
    if flat.size and np.abs(flat).max() > LARGEST_VALUE:
        raise DataError(
            f"{what} holds values up to {np.abs(flat).max():.3g} in size; beyond {LARGEST_VALUE:g} float32 "
            "arithmetic overflows: rescale them (e.g. to thousands, or take logarithms)"
        )
