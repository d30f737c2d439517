"""Data in, one way: `load_data(source)` turns every kind of data zoo takes into train / validation / test splits.

`source` is one of:

* ``fashion_mnist`` or ``digits``: the datasets zoo knows (`zoo.data.builtin.load`);
* ``tfds:NAME``: a TensorFlow Datasets set with a train and a test split, read from the local
  TFDS data dir when prepared there, else downloaded (when `download` and the machine is online);
* a folder of images with one subfolder per class (``keras.utils.image_dataset_from_directory``);
* a ``.csv`` or ``.parquet`` table with a `target` column;
* an ``.npz`` file with ``x_train`` and ``y_train``, and optionally ``x_test`` and ``y_test``;
* arrays: ``(x, y)``, or ``(x_train, y_train, x_test, y_test)``, used as they are (already scaled);
* a pandas ``DataFrame``, with `target` naming its target column (encoded like a CSV table);
* a ``tf.data.Dataset`` of ``(x, y)`` pairs, batched or not (read once into arrays);
* a `Splits`, returned as it is.

The command line's ``--data`` takes the first five (the names and the paths).

The input shape, the classes and their names come from the data. Where a source has no test
split, a fixed-seed 20% of it becomes one; the validation set is then carved from what is left
(10% by default), also with a fixed seed. The test set is used only for the final report.

Images are trained on at [0, 1]; tables on their encoded rows (numeric columns standardized by a
`keras.layers.Normalization` adapted on the training rows only, other columns one-hot encoded by
a `keras.layers.StringLookup` with the training rows' vocabulary). Either way the splits carry an
`encoder`, the Keras model from raw input to what the net sees, so `zoo.train` saves a model that
takes raw pixels or raw table rows.

Examples:
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.npz")
    >>> x = np.random.default_rng(0).random((60, 4), dtype=np.float32)
    >>> np.savez(path, x_train=x, y_train=(x[:, 0] > 0.5).astype(int))
    >>> splits = load_data(path)
    >>> splits.info.num_classes, splits.sizes
    (2, {'train': 44, 'validation': 4, 'test': 12})
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from zoo.data.builtin import Splits, load, split
from zoo.data.columns import check_values
from zoo.data.readers import Raw, image_folder, in_memory, npz, tfds_set, with_channels
from zoo.data.splitting import TEST_FRACTION, test_split
from zoo.data.tables import TABLE_SUFFIXES, Table, read_table
from zoo.errors import DataError
from zoo.recipes.budget import sized
from zoo.recipes.catalog import DATASETS, DatasetInfo
from zoo.recipes.keys import SCHEMA
from zoo.recipes.recipe import get_recipe
from zoo.recipes.schema import check_argument, count_field, shown


def load_data(
    source: Any,
    *,
    target: str | None = None,
    task: str = "auto",
    validation_size: int | None = None,
    image_size: tuple[int, int] | None = None,
    color_mode: str | None = None,
    categorical: list[str] | None = None,
    numeric: list[str] | None = None,
    download: bool = True,
    test_size: float | None = None,
) -> Splits:
    """Load `source` (see the module's docstring for the kinds) into train / validation / test splits.

    `target` names a table's target column. `task` is "classification", "regression" or "auto" (regression
    when the target holds non-integer numbers). `validation_size` defaults to 10% of the training examples.
    `image_size` (height, width) resizes an image folder's images; without it they must all have one size.
    `color_mode` ("grayscale", "rgb" or "rgba") converts them; without it, grayscale when every image is,
    else rgb. `categorical` / `numeric` force a table's column kinds (default: text and boolean columns are
    categorical, numbers numeric).
    `download=False` never touches the network (a TFDS set must then be prepared). `test_size`: the fraction
    of a source without a test split held out for testing (default 0.2; 0: none, and `zoo.train` tests nothing).
    """
    if isinstance(source, Splits):
        return source
    check_argument("task", task, SCHEMA[""]["task"])
    _check_test_size(test_size)
    if not isinstance(source, (str, Path)):
        raw, text = in_memory(source, target, categorical, numeric)
        return _splits(raw, text, task, validation_size, test_size)
    text = str(source)
    if text in DATASETS:
        _check_test_size(test_size, own_split=text)
        return load(text, validation_size or (5000 if text == "fashion_mnist" else 200), download=download)
    if text.startswith("tfds:"):
        raw = tfds_set(text[len("tfds:") :], download)
    else:
        path = Path(source)
        if not path.exists():
            raise DataError(
                f"--data {text}: no such file or folder (expected fashion_mnist, digits, tfds:NAME, "
                f"an image folder, a {'/'.join(TABLE_SUFFIXES)} table or an .npz file)"
            )
        if path.is_dir():
            raw = image_folder(path, image_size, color_mode)
        elif path.suffix.lower() in TABLE_SUFFIXES:
            if target is None:
                raise DataError(f"--data {text} is a table: name its target column with --target COLUMN")
            raw = read_table(path, target, categorical, numeric)
        elif path.suffix.lower() == ".npz":
            raw = npz(path)
        else:
            raise DataError(
                f"--data {text}: {path.suffix or 'no suffix'} is not a data file zoo reads; expected a folder, "
                f"{', '.join(TABLE_SUFFIXES)} or .npz"
            )
    if target is not None and not isinstance(raw, Table):
        raise DataError(f"--target {target} goes with a table; --data {text} is not one")
    return _splits(raw, text, task, validation_size, test_size)


def _check_test_size(test_size, own_split: str | None = None) -> None:
    """A test fraction in [0, 1), given only for data without a test split of its own (`own_split` names one)."""
    if test_size is not None and own_split is not None:
        raise DataError(f"{own_split} has its own test split; test_size applies to data without one")
    if test_size is not None and not (isinstance(test_size, (int, float)) and 0 <= test_size < 1):
        raise DataError(f"test_size = {test_size!r} is not allowed; expected a fraction >= 0 and < 1")


def _classes(y, task: str, source: str):
    """`y` where it holds class labels (for `test_split`), else None."""
    return y if infer_task(y, task, source) == "classification" else None


def _encoded_table(table: Table, source: str, task: str, fraction: float, validation_size: int | None) -> Raw:
    """A table split into training and test rows and encoded by an encoder fitted on the training rows that
    validation will leave."""
    labels = _classes(table.target, task, source)
    train, test = test_split(len(table.target), fraction, labels)
    validation_size = validation_size or max(1, len(train) // 10)
    x, y, names, encoder = table.encoded(train, test, validation_size, classes=labels is not None)
    return Raw(
        x[train],
        y[train],
        x[test],
        y[test],
        class_names=names,
        encoder=encoder,
        description=table.describe(),
        numeric_features=len(table.numeric),
        target=table.target_name,
        dates=tuple(table.dates.items()),
        notes=table.notes,
    )


def _splits(raw, source: str, task: str, validation_size: int | None, test_size: float | None) -> Splits:
    fraction = TEST_FRACTION if test_size is None else test_size
    if not isinstance(raw, Table) and raw.x_test is not None:
        _check_test_size(test_size, own_split=source)
    if isinstance(raw, Table):
        raw = _encoded_table(raw, source, task, fraction, validation_size)
    x_train, y_train, x_test, y_test = raw.x_train, raw.y_train, raw.x_test, raw.y_test
    if x_test is None:
        train, test = test_split(len(x_train), fraction, _classes(y_train, task, source))
        x_train, y_train, x_test, y_test = x_train[train], y_train[train], x_train[test], y_train[test]
    if len(x_train) < 3 or (len(x_test) < 1 and fraction > 0):
        raise DataError(
            f"--data {source} holds too few examples ({len(x_train)} to train on, {len(x_test)} to test); "
            "expected at least 3 and 1"
        )
    if raw.encoder is None:  # an encoder (a table's, an image folder's) has checked its own inputs
        check_values(x_train, f"{source}: x_train")
        check_values(x_test, f"{source}: x_test")
    resolved = infer_task(y_train, task, source)
    if resolved == "classification":
        y_train, y_test, names = _class_ids(y_train, y_test, source, raw.class_names)
        count = len(names)
    else:
        check_values(np.asarray(y_train, np.float64), f"{source}: the target")
        if np.ptp(np.asarray(y_train, np.float64)) == 0:
            raise DataError(f"{source}: the target holds one value only; there is nothing to predict")
        count, names = 1, ()
    info = DatasetInfo(
        Path(source).name if not source.startswith("tfds:") else source,
        tuple(int(d) for d in x_train.shape[1:]),
        count,
        names,
        raw.description or source,
        len(x_train),
        task=resolved,
        numeric_features=raw.numeric_features,
        target=raw.target,
        dates=raw.dates,
        notes=raw.notes,
    )
    if validation_size is None:
        validation_size = max(1, len(x_train) // 10)
    check_argument("validation_size", validation_size, count_field(1, len(x_train) - 2))
    splits = split(x_train, y_train, x_test, y_test, info, source, validation_size)
    return dataclasses.replace(splits, encoder=raw.encoder)


# "auto" reads whole numbers as class labels unless there are too many of them to be classes: more than
# AUTO_CLASSES distinct values, each held by fewer than AUTO_ROWS_PER_CLASS training rows on average (prices
# in whole dollars, sklearn's diabetes target). Labelled sets keep several rows a class: 40 faces x 10 photos,
# or MNIST's 10 x 6,000, stay classification; `task` set by hand always wins.
AUTO_CLASSES = 20
AUTO_ROWS_PER_CLASS = 5


def infer_task(y: np.ndarray, task: str, source: str) -> str:
    """ "classification" or "regression": `task` itself, or with "auto", regression for non-integer numbers
    and for whole numbers too many and too rare to be classes (see AUTO_CLASSES).

    Examples:
        >>> infer_task(np.array([0.5, 1.25]), "auto", "prices.csv"), infer_task(np.array([0, 3]), "auto", "x.npz")
        ('regression', 'classification')
        >>> prices = np.arange(100, 400) * 1000  # 300 whole-dollar prices, each once
        >>> infer_task(prices, "auto", "houses.csv"), infer_task(np.repeat(np.arange(40), 10), "auto", "faces.npz")
        ('regression', 'classification')
    """
    numbers = np.issubdtype(np.asarray(y).dtype, np.number) or np.asarray(y).dtype == bool
    if task == "regression":
        if not numbers:
            raise DataError(
                f"task = 'regression' needs a numeric target; {source}'s target holds {np.asarray(y).dtype} values"
            )
        return task
    if task == "classification" or not numbers or np.asarray(y).dtype == bool:
        return "classification"
    y = np.asarray(y, dtype=np.float64)
    if np.any(np.isfinite(y) & (y != np.round(y))):
        return "regression"
    distinct = len(np.unique(y))
    return "regression" if distinct > max(AUTO_CLASSES, len(y) / AUTO_ROWS_PER_CLASS) else "classification"


def _class_ids(y_train, y_test, source: str, names) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Class ids 0..K-1 for both splits and the K class names, as scikit-learn's LabelEncoder maps them.

    Labels are mapped to their distinct training values in sorted order (labels {0, 1000000} are
    two classes, named "0" and "1000000", not a million), and the names record the mapping.
    A single class, and test labels outside the training classes, are refused.

    Examples:
        >>> _class_ids(np.array([7, 1000000, 7]), np.array([7]), "x.npz", None)
        (array([0, 1, 0]), array([0]), ('7', '1000000'))
    """
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if names is not None:  # already ids (tables with text targets, image folders, TFDS)
        if len(np.unique(y_train)) < 2:
            raise DataError(f"{source}: the training examples hold one class only; a classifier needs at least two")
        return y_train.astype(np.int64), y_test.astype(np.int64), tuple(names)
    for key, y in (("y_train", y_train), ("y_test", y_test)):
        if np.issubdtype(y.dtype, np.floating):
            check_values(y, f"{source}: {key}")
            if np.any(y != np.round(y)):
                raise DataError(
                    f"{source}: {key} holds non-integer labels; for a numeric target use task = 'regression'"
                )
    classes = np.unique(y_train)
    if len(classes) < 2:
        only = _name(classes[0])
        raise DataError(f"{source}: y_train holds one class only ({only}); a classifier needs at least two")
    unseen = np.setdiff1d(np.unique(y_test), classes)
    if len(unseen):
        contiguous = np.issubdtype(classes.dtype, np.number) and np.array_equal(classes, np.arange(len(classes)))
        known = f"0..{len(classes) - 1}" if contiguous else shown([_name(c) for c in classes])
        hint = (
            "; if the target is a quantity, not a class, set task = 'regression' (--set task=regression)"
            if np.issubdtype(classes.dtype, np.number)
            else ""
        )
        raise DataError(f"{source}: y_test holds the label {_name(unseen[0])}, outside y_train's classes {known}{hint}")
    return np.searchsorted(classes, y_train), np.searchsorted(classes, y_test), tuple(_name(c) for c in classes)


def _name(label) -> str:
    """A class label as its name: 3 for 3.0, the text itself for text."""
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))
    return str(label.item() if hasattr(label, "item") else label)


def fitted(recipe, splits: Splits):
    """`recipe` with `task = "auto"` resolved from the data and its budget sized to it
    (`zoo.recipes.budget.sized`), after checking the recipe suits it.

    A cnn or resnet needs images (height, width, channels); a recipe that names a task must get
    data read for that task.

    Examples:
        >>> from zoo.recipes.recipe import get_recipe
        >>> fitted(get_recipe("fashion_mlp"), load("digits", validation_size=200)).task
        'classification'
    """
    info = splits.info
    if recipe.model.kind in ("cnn", "resnet") and len(info.input_shape) != 3:
        kind = "a table" if splits.encoder is not None else "vectors"  # 2-D examples got a channel axis
        raise DataError(
            f"{recipe.name} is a {recipe.model.kind}, which needs images (height, width, channels); "
            f"{splits.source} holds {kind} of shape {info.input_shape}: use an mlp recipe, e.g. tabular or mlp"
        )
    if recipe.task == "auto":
        recipe = get_recipe(recipe, task=info.task)
    if recipe.task != info.task:
        raise DataError(
            f"{recipe.name} has task = {recipe.task!r} but {splits.source} was read for {info.task}; "
            f"read it with task={recipe.task!r} (the CLI does this from the recipe)"
        )
    return sized(recipe, splits.sizes["train"])  # train.steps / train.adapt_batch, read against this data


def recipe_data(recipe, data=None, download: bool = True):
    """(recipe, splits): `data` as splits (the recipe's own dataset when None; anything else goes
    through `load_data` with the recipe's task), and the recipe fitted to them (`fitted`).

    Every command that trains gets its data here, so each one reads `--data` the same way.

    Examples:
        >>> from zoo.recipes.recipe import get_recipe
        >>> recipe, splits = recipe_data(get_recipe("fashion_mlp"), "digits")
        >>> recipe.task, splits.info.num_classes
        ('classification', 10)
    """
    if data is None:
        data = load(recipe.dataset, recipe.validation_size, download=download)
    else:
        data = load_data(data, task=recipe.task, download=download)
    if recipe.model.kind in ("cnn", "resnet") and len(data.info.input_shape) == 2:
        data = with_channels(data)  # (examples, height, width): grey images, as keras.datasets holds them
    return fitted(recipe, data), data
