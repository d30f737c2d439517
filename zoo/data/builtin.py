"""Built-in datasets -> train / validation / test arrays, offline first.

Fashion-MNIST is looked for, in order: TFDS prepared data; the standard IDX .gz files in
`$ZOO_DATA_DIR`, in the Keras cache folder, and where Debian's `dataset-fashion-mnist` puts them;
then a TFDS download. The validation split is carved from the training set with a fixed seed,
so every run and every seed sees the same split; the test set is never used for any choice.
Nothing here is batched: `zoo.training.pipelines.batches` serves the arrays in the recipe's batches.

Examples:
    >>> splits = load("digits", validation_size=200)
    >>> [int(n) for n in splits.sizes.values()]
    [1237, 200, 360]
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from zoo.data.splitting import validation_order
from zoo.errors import DataError
from zoo.recipes.catalog import DatasetInfo, get_dataset_info
from zoo.recipes.schema import check_argument, count_field

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_CACHE_DIR = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "fashion-mnist"

HOW_TO_GET = (
    "To get Fashion-MNIST: on Debian/Ubuntu run `apt-get install dataset-fashion-mnist`; or put the four "
    f"IDX files ({', '.join(IDX_FILES.values())}) in a folder and set ZOO_DATA_DIR to it; or, with "
    "internet, let TFDS download it (`python -m tensorflow_datasets.scripts.download_and_prepare "
    "--datasets=fashion_mnist`)."
)


@dataclasses.dataclass(frozen=True)
class Splits:
    """One dataset split three ways, as numpy arrays (batch them with `zoo.batches`).

    `arrays[split]` is `(x, y)` with x float32 (images scaled to [0, 1], table rows encoded)
    and y int32 class ids, or for regression float32 targets of shape (examples, 1);
    `indices["train"]` and `indices["validation"]` are positions in the source's training set.
    `encoder`, when not None, is the Keras model that turns raw input (pixel values 0-255, a
    table's columns) into x: `zoo.train` puts it in front of the saved model, so that model
    takes raw input.
    """

    arrays: dict[str, tuple[np.ndarray, np.ndarray]]
    info: DatasetInfo
    source: str
    indices: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)
    encoder: Any = None

    @property
    def record(self) -> dict[str, Any]:
        """What a run's metrics.json records of its data (`data`): the source and each split's size. A bench
        reads a finished run back only where this matches.

        Examples:
            >>> Splits({}, None, "digits", sizes={"train": 8, "test": 2}).record
            {'source': 'digits', 'train_size': 8, 'test_size': 2}
        """
        return {"source": self.source, **{f"{split}_size": size for split, size in self.sizes.items()}}

    # Last release's batched splits (`data.train`, as the README's fit_fast example used them), kept
    # for one release: each warns and serves zoo.batches(splits) at the old defaults (batch 32, seed 0).
    @property
    def train(self):
        return _old_batches(self, "train")

    @property
    def validation(self):
        return _old_batches(self, "validation")

    @property
    def test(self):
        return _old_batches(self, "test")


def _old_batches(splits: Splits, split: str):
    import warnings

    # The layers contract's one ignored import (pyproject.toml): a deprecated alias reaching up.
    from zoo.training.pipelines import batches

    warnings.warn(
        f"Splits.{split} is deprecated and goes in the next release; batches come from the recipe: "
        f"zoo.batches(splits, recipe).{split}",
        DeprecationWarning,
        stacklevel=3,
    )
    return getattr(batches(splits, batch_size=32, seed=0), split)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (plain or .gz), the format MNIST and Fashion-MNIST ship in.

    Examples:
        (Not run by the doctests: it needs Debian's dataset-fashion-mnist files.)
        >>> read_idx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz").shape  # doctest: +SKIP
        (10000,)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4:
        raise DataError(f"{path} is not an IDX file: it holds only {len(raw)} bytes")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file (header {raw[:4].hex()})")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path} is truncated: header says {shape}, found {data.size} values")
    return data.reshape(shape)


def _from_idx_dir(folder: Path) -> dict[str, np.ndarray]:
    return {key: read_idx(folder / filename) for key, filename in IDX_FILES.items()}


def _tfds_data_dir() -> Path:
    return Path(os.environ.get("TFDS_DATA_DIR", Path.home() / "tensorflow_datasets"))


def _from_tfds(name: str, data_dir: Path | None, download: bool) -> dict[str, np.ndarray]:
    import tensorflow_datasets as tfds  # slow to import; only when TFDS is really used

    train, test = tfds.load(
        name,
        split=["train", "test"],
        batch_size=-1,
        as_supervised=True,
        data_dir=None if data_dir is None else str(data_dir),
        download=download,
    )
    (x_train, y_train), (x_test, y_test) = tfds.as_numpy(train), tfds.as_numpy(test)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _missing_idx(folder: Path) -> list[str]:
    return [name for name in IDX_FILES.values() if not (folder / name).is_file()]


def _zoo_data_dir() -> Path:
    """$ZOO_DATA_DIR, which must hold the four IDX files: a user who set it meant it."""
    folder = Path(os.environ["ZOO_DATA_DIR"])
    if not folder.is_dir():
        raise DataError(
            f"ZOO_DATA_DIR={folder} is not a folder; point it at the folder holding "
            f"{', '.join(IDX_FILES.values())}, or unset it"
        )
    missing = _missing_idx(folder)
    if missing:
        raise DataError(
            f"ZOO_DATA_DIR={folder} lacks {', '.join(missing)}; point it at the folder holding all four "
            "Fashion-MNIST IDX files, or unset it"
        )
    return folder


def _fashion_mnist(data_dir: str | Path | None, download: bool) -> tuple[dict[str, np.ndarray], str]:
    """Try each source in order; return the arrays and a line naming the source used."""
    tried: list[str] = []
    tfds_dir = Path(data_dir) if data_dir else _tfds_data_dir()
    if (tfds_dir / "fashion_mnist").is_dir():
        try:
            return _from_tfds("fashion_mnist", tfds_dir, download=False), f"TFDS prepared data in {tfds_dir}"
        except Exception as error:  # TFDS raises many kinds; the message is what matters
            tried.append(f"TFDS prepared data in {tfds_dir}: {type(error).__name__}: {error}".splitlines()[0])
    else:
        tried.append(f"TFDS prepared data in {tfds_dir}: none")
    folders = [Path(data_dir)] if data_dir else []
    if os.environ.get("ZOO_DATA_DIR"):
        folders.append(_zoo_data_dir())
    if not data_dir:
        folders += [KERAS_CACHE_DIR, DEBIAN_DIR]
    for folder in folders:
        missing = _missing_idx(folder)
        if missing:
            tried.append(f"IDX files in {folder}: missing {', '.join(missing)}")
            continue
        try:
            return _from_idx_dir(folder), f"IDX files in {folder}"
        except (OSError, EOFError, DataError) as error:
            tried.append(f"IDX files in {folder}: unreadable ({error})")
    if download:
        try:
            return _from_tfds("fashion_mnist", None, download=True), "TFDS download"
        except Exception as error:
            tried.append(f"TFDS download: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
    else:
        tried.append("TFDS download: not attempted (download=False)")
    raise DataError("Fashion-MNIST not found. Tried:\n  - " + "\n  - ".join(tried) + "\n" + HOW_TO_GET)


def _digits() -> tuple[dict[str, np.ndarray], str]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError("the digits dataset needs scikit-learn: pip install scikit-learn") from None
    bunch = load_digits()
    # A fixed 20% test split: digits ships without one.
    order = np.random.default_rng(12345).permutation(len(bunch.target))
    test, train = order[:360], order[360:]
    images = bunch.images.astype(np.float32)
    return {
        "x_train": images[train],
        "y_train": bunch.target[train],
        "x_test": images[test],
        "y_test": bunch.target[test],
    }, "scikit-learn load_digits"


def _scale(x: np.ndarray, info: DatasetInfo, maximum: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32) / np.float32(maximum)
    return x.reshape((-1,) + info.input_shape)


def split(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    info: DatasetInfo,
    source: str,
    validation_size: int = 5000,
    train_size: int | None = None,
) -> Splits:
    """Carve a fixed-seed validation set from the training arrays.

    The split always uses seed 0, so runs with different training seeds share it (the training
    seed only drives shuffling, in `zoo.batches`). `train_size` keeps the first N of the
    remaining training examples.
    """
    x_train, x_test = np.asarray(x_train, np.float32), np.asarray(x_test, np.float32)
    targets = _regression_targets if info.task == "regression" else _labels
    y_train, y_test = targets(y_train, "y_train", len(x_train), info), targets(y_test, "y_test", len(x_test), info)
    for key, x in (("x_train", x_train), ("x_test", x_test)):
        if x.shape[1:] != info.input_shape:
            raise DataError(f"{key} has examples of shape {x.shape[1:]}; expected {info.input_shape}")
    check_argument("validation_size", validation_size, count_field(1, len(x_train) - 1), DataError)
    order = validation_order(len(x_train), validation_size, y_train if info.task == "classification" else None)
    validation, train = order[:validation_size], order[validation_size:]
    if train_size is not None:
        check_argument("train_size", train_size, count_field(1, len(train)), DataError)
        train = train[:train_size]
    arrays = {
        "train": (x_train[train], y_train[train]),
        "validation": (x_train[validation], y_train[validation]),
        "test": (x_test, y_test),
    }
    return Splits(
        arrays=arrays,
        info=info,
        source=source,
        indices={"train": train, "validation": validation},
        sizes={name: len(pair[1]) for name, pair in arrays.items()},
    )


def select_classes(splits: Splits, classes: list[int], train_size: int | None = None, seed: int = 0) -> Splits:
    """Only the examples of `classes`, relabelled 0..k-1 in the order given (for transfer tasks).

    `train_size` keeps that many training examples (a fixed-seed draw); validation and test
    keep every example of those classes.

    Examples:
        >>> two = select_classes(load("digits", validation_size=200), [3, 8], train_size=50)
        >>> two.info.num_classes, two.sizes["train"]
        (2, 50)
    """
    if (
        len(set(classes)) != len(classes)
        or len(classes) < 2
        or any(not 0 <= c < splits.info.num_classes for c in classes)
    ):
        raise DataError(
            f"classes = {classes!r} is not allowed; expected two or more distinct ids from 0 to "
            f"{splits.info.num_classes - 1}"
        )
    remap = np.full(splits.info.num_classes, -1, np.int32)
    remap[list(classes)] = np.arange(len(classes))
    arrays = {}
    for name, (x, y) in splits.arrays.items():
        keep = np.flatnonzero(np.isin(y, classes))
        if name == "train" and train_size is not None:
            if not 0 < train_size <= len(keep):
                raise DataError(
                    f"train_size = {train_size!r} is not allowed; expected 1 to {len(keep)} for classes {classes}"
                )
            keep = np.sort(np.random.default_rng(seed).choice(keep, train_size, replace=False))
        arrays[name] = (x[keep], remap[y[keep]])
    names = tuple(splits.info.class_names[c] for c in classes)
    info = dataclasses.replace(
        splits.info,
        name=f"{splits.info.name}[{','.join(map(str, classes))}]",
        num_classes=len(classes),
        class_names=names,
        train_examples=len(arrays["train"][1]),
    )
    return dataclasses.replace(
        splits, info=info, arrays=arrays, indices={}, sizes={name: len(pair[1]) for name, pair in arrays.items()}
    )


def _labels(y: Any, key: str, count: int, info: DatasetInfo) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != count:
        raise DataError(f"{key} has shape {y.shape}; expected ({count},): one integer class id per example")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{key} holds {y.dtype} values; expected integer class ids 0..{info.num_classes - 1}")
    if len(y) and (y.min() < 0 or y.max() >= info.num_classes):
        raise DataError(f"{key} holds labels from {y.min()} to {y.max()}; expected 0..{info.num_classes - 1}")
    return y.astype(np.int32)


def _regression_targets(y: Any, key: str, count: int, info: DatasetInfo) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != count:
        raise DataError(f"{key} has shape {y.shape}; expected ({count},): one number per example")
    if not np.issubdtype(y.dtype, np.number) or not np.all(np.isfinite(y)):
        raise DataError(
            f"{key} must hold finite numbers for regression; found {y.dtype} values"
            + ("" if not np.issubdtype(y.dtype, np.number) else " with NaN or infinity")
        )
    return y.astype(np.float32).reshape(-1, 1)  # (examples, 1), the shape of the net's one output


def load(
    name: str = "fashion_mnist",
    validation_size: int = 5000,
    train_size: int | None = None,
    data_dir: str | Path | None = None,
    download: bool = True,
) -> Splits:
    """Load a built-in dataset into train / validation / test arrays.

    `data_dir` restricts the search to that folder (TFDS data or IDX files) and skips the
    default places; `download=False` never touches the network.

    Examples:
        >>> splits = load("digits", validation_size=200)
        >>> splits.info.num_classes, splits.arrays["train"][0].shape[1:]
        (10, (8, 8, 1))
    """
    info = get_dataset_info(name)
    if name == "fashion_mnist":
        raw, source = _fashion_mnist(data_dir, download)
        maximum = 255.0
    else:
        raw, source = _digits()
        maximum = 16.0
    return split(
        _scale(raw["x_train"], info, maximum),
        raw["y_train"],
        _scale(raw["x_test"], info, maximum),
        raw["y_test"],
        info,
        source,
        validation_size=validation_size,
        train_size=train_size,
    )
