"""Names the last release's README promised, kept for one release as thin aliases that warn.

Each one says what to call instead; none does anything its replacement does not. They go in the
release after this one (CHANGELOG.md lists them).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any


def _deprecated(old: str, new: str, call: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(call)
    def alias(*args, **kwargs):
        warnings.warn(
            f"zoo.{old} is deprecated and goes in the next release; use {new}", DeprecationWarning, stacklevel=2
        )
        return call(*args, **kwargs)

    alias.__doc__ = f"Deprecated: use {new}."
    return alias


def _load(
    name: str = "fashion_mnist",
    batch_size: int | None = None,
    validation_size: int = 5000,
    seed: int | None = None,
    train_size: int | None = None,
    data_dir=None,
    download: bool = True,
):
    # Splits no longer carry batches: the batch size and the shuffling seed come from the recipe
    # (zoo.batches), so the old arguments are accepted and have nothing left to set.
    from zoo.data.builtin import load

    return load(name, validation_size, train_size=train_size, data_dir=data_dir, download=download)


def _read_data(source, *, batch_size: int | None = None, seed: int | None = None, **options):
    from zoo.data.sources import load_data

    return load_data(source, **options)


def _from_arrays(
    x_train,
    y_train,
    x_test,
    y_test,
    num_classes: int | None = None,
    batch_size: int | None = None,
    validation_size: int | None = None,
    seed: int | None = None,
):
    # Last release's wrapper of arrays that were already split: class ids 0..num_classes-1 as given
    # (load_data maps labels to their distinct values instead).
    import numpy as np

    from zoo.data.builtin import split
    from zoo.errors import DataError
    from zoo.recipes.catalog import DatasetInfo

    x_train, y_train = np.asarray(x_train), np.asarray(y_train)
    if x_train.ndim < 2:
        raise DataError(f"x_train has shape {x_train.shape}; expected (examples, features...)")
    if num_classes is None:
        num_classes = int(max(np.max(y_train), np.max(y_test))) + 1 if len(y_train) else 2
    shape = tuple(int(d) for d in x_train.shape[1:])
    info = DatasetInfo("arrays", shape, num_classes, tuple(map(str, range(num_classes))), "user arrays")
    if validation_size is None:
        validation_size = max(1, len(x_train) // 10)
    return split(x_train, y_train, x_test, y_test, info, "arrays", validation_size)


def _dataset_info(name: str):
    from zoo.recipes.catalog import get_dataset_info

    return get_dataset_info(name)


ALIASES = {
    "load": _deprecated("load", "zoo.load_data(name)", _load),
    "read_data": _deprecated("read_data", "zoo.load_data(source)", _read_data),
    "from_arrays": _deprecated("from_arrays", "zoo.load_data((x_train, y_train, x_test, y_test))", _from_arrays),
    "dataset_info": _deprecated("dataset_info", "zoo.get_dataset_info(name)", _dataset_info),
}
