"""Readers: each kind of source, as read, into a `Raw` (arrays, class names, the raw-input encoder).

`zoo.data.sources.load_data` picks the reader and splits what it returns. Files and folders:
an .npz archive, an image folder (one subfolder per class), a TFDS set; in memory: arrays, a
pandas DataFrame (through `zoo.data.tables`), a `tf.data.Dataset`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from zoo.data.tables import read_table
from zoo.errors import DataError
from zoo.recipes.catalog import COLOR_MODES
from zoo.recipes.schema import Field, check_argument

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
# Image files of kinds the readers above do not take (Keras's image_dataset_from_directory reads the five
# IMAGE_SUFFIXES only, and skips the rest without a word): a folder holding any is refused, not trained on
# (or predicted) without them.
OTHER_IMAGE_SUFFIXES = (
    ".tif", ".tiff", ".webp", ".heic", ".heif", ".avif", ".jp2", ".jfif", ".jpe", ".ppm", ".pgm", ".pbm", ".pnm",
    ".tga", ".ico", ".dib",
)  # fmt: skip
# PIL's modes of one-channel images: 8-bit, 1-bit, with alpha (dropped, as "rgb" drops it), and the 16-bit
# greys of scanners and microscopes (which TensorFlow's decoder brings to 8 bits).
GREY_MODES = {"L", "1", "LA", "I;16", "I;16B", "I;16L", "I"}
ALLOWED = (
    "fashion_mnist, digits, tfds:NAME, an image folder, a .csv/.parquet table, an .npz file, (x, y) arrays, "
    "a pandas DataFrame with target=, a tf.data.Dataset of (x, y) or zoo Splits"
)


@dataclasses.dataclass
class Raw:
    """A source as read: arrays (test may be None), class names, and the raw-input encoder."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None
    encoder: Any = None
    description: str = ""
    numeric_features: int = 0  # a table's numeric columns, first in x
    target: str = ""  # a table's target column
    dates: tuple[tuple[str, str], ...] = ()  # a table's date columns and their spellings (`zoo.data.columns`)
    notes: tuple[str, ...] = ()  # a table's `Table.notes`


def _is_pair(part: Any) -> bool:
    return isinstance(part, (tuple, list)) and len(part) == 2 and all(hasattr(a, "shape") for a in part)


def in_memory(source: Any, target: str | None, categorical, numeric) -> tuple[Any, str]:
    """(raw, its name in messages) for data handed over in memory: arrays, a DataFrame, a tf.data.Dataset."""
    kind = type(source).__name__
    if kind == "DataFrame" and hasattr(source, "columns"):
        if target is None:
            raise DataError("data is a DataFrame: name its target column with target=COLUMN")
        return read_table(source, target, categorical, numeric), "DataFrame"
    if target is not None:
        raise DataError(f"target={target!r} goes with a table or a DataFrame; data is a {kind}")
    if isinstance(source, (tuple, list)) and len(source) == 2 and all(_is_pair(part) for part in source):
        source = (*source[0], *source[1])  # keras.datasets' ((x_train, y_train), (x_test, y_test))
    if isinstance(source, (tuple, list)) and len(source) in (2, 4):
        arrays = [np.asarray(part) for part in source]
        pairs = [("x", arrays[0], arrays[1])] + ([("x_test", arrays[2], arrays[3])] if len(arrays) == 4 else [])
        for name, x, y in pairs:
            if x.ndim < 2 or y.ndim < 1 or len(x) != len(y):
                raise DataError(
                    f"data: {name} has shape {x.shape} and its targets {y.shape}; expected x of shape "
                    "(examples, features...) and one target per example"
                )
        return _pixels_scaled(Raw(*arrays, description="arrays")), "arrays"
    if hasattr(source, "element_spec") and hasattr(source, "as_numpy_iterator"):
        return _dataset(source), "tf.data.Dataset"
    raise DataError(f"data = {kind} is not allowed; expected {ALLOWED}")


def _pixels_scaled(raw: Raw) -> Raw:
    """Images given as 0-255 pixel values (an integer array, or floats beyond 1) come back scaled to [0, 1]
    with the pixel encoder attached, so the saved model takes the same 0-255 values the user handed in;
    images already in [0, 1] and non-image arrays come back as they are."""
    x = raw.x_train
    if x.ndim not in (3, 4) or not np.issubdtype(x.dtype, np.number) or x.size == 0:
        return raw
    parts = [x] + ([raw.x_test] if raw.x_test is not None else [])
    low, high = min(float(p.min()) for p in parts), max(float(p.max()) for p in parts)
    integers = all(np.issubdtype(p.dtype, np.integer) for p in parts)
    if low < 0 or high > 255 or not (integers or high > 1.0):
        return raw
    scale = [None if p is None else np.asarray(p, np.float32) / 255 for p in (raw.x_train, raw.x_test)]
    return dataclasses.replace(
        raw, x_train=scale[0], x_test=scale[1], encoder=_pixel_encoder(x.shape[1:]), description="0-255 images"
    )


def _dataset(dataset) -> Raw:
    """A tf.data.Dataset of (x, y) pairs, batched or not, read once into arrays."""
    spec = dataset.element_spec
    if not (isinstance(spec, tuple) and len(spec) == 2):
        raise DataError(f"data is a tf.data.Dataset whose elements are {spec}; expected (x, y) pairs")
    # A batched dataset's x has an unknown first dimension; one example's has a fixed shape.
    batched = spec[0].shape.rank is not None and spec[0].shape.rank >= 1 and spec[0].shape[0] is None
    pairs = list(dataset.as_numpy_iterator())
    if not pairs:
        raise DataError("data is an empty tf.data.Dataset")
    join = np.concatenate if batched else np.stack
    return Raw(join([x for x, _ in pairs]), join([y for _, y in pairs]), description="tf.data.Dataset")


def npz(path: Path) -> Raw:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as error:
        raise DataError(f"{path} is not a readable .npz file ({error})") from None
    if "x_train" not in arrays and {"x", "y"} <= set(arrays):  # the .npz `zoo predict` reads, with its targets
        arrays["x_train"], arrays["y_train"] = arrays.pop("x"), arrays.pop("y")
    missing = [key for key in ("x_train", "y_train") if key not in arrays]
    if missing or (("x_test" in arrays) != ("y_test" in arrays)):
        raise DataError(
            f"{path} holds {sorted(arrays)}; expected x_train and y_train (or x and y), and optionally both "
            "x_test and y_test"
        )
    x = arrays["x_train"]
    if x.ndim < 2 or not np.issubdtype(x.dtype, np.number):
        raise DataError(
            f"{path}: x_train has shape {x.shape} and type {x.dtype}; expected numbers, (examples, features...)"
        )
    if "x_test" in arrays and arrays["x_test"].shape[1:] != x.shape[1:]:
        raise DataError(f"{path}: x_test's examples have shape {arrays['x_test'].shape[1:]}, x_train's {x.shape[1:]}")
    for key in ("y_train", "y_test"):
        if key in arrays and len(arrays[key]) != len(arrays["x" + key[1:]]):
            raise DataError(f"{path}: {key} has {len(arrays[key])} entries for {len(arrays['x' + key[1:]])} examples")
    # 0-255 pixels are scaled inside the model, as for arrays handed over in memory.
    raw = Raw(x, arrays["y_train"], arrays.get("x_test"), arrays.get("y_test"), description=f"arrays in {path}")
    scaled = _pixels_scaled(raw)
    if scaled is raw:
        return dataclasses.replace(raw, x_train=x.astype(np.float32))
    return dataclasses.replace(scaled, description=f"0-255 images in {path}")


def refuse_other_images(place: Path, files) -> None:
    """Refuse image files zoo does not read (TIFF, WebP, HEIC, ...) among `files`, naming how many of each
    kind and the first, instead of leaving them out of training or predictions unsaid.

    Examples:
        >>> refuse_other_images(Path("cells"), [Path("cells/a/1.png"), Path("cells/b/2.tif"), Path("cells/b/3.tif")])
        Traceback (most recent call last):
        ...
        zoo.errors.DataError: cells holds 2 .tif image(s) (the first: cells/b/2.tif) that zoo does not read; \
it reads .png, .jpg, .jpeg, .bmp, .gif: convert them (e.g. with Pillow: Image.open(f).save(f.with_suffix(".png"))) \
or move them out
    """
    other = [Path(f) for f in files if Path(f).suffix.lower() in OTHER_IMAGE_SUFFIXES]
    if other:
        kinds = sorted({f.suffix.lower() for f in other})
        counts = ", ".join(f"{sum(f.suffix.lower() == kind for f in other)} {kind}" for kind in kinds)
        raise DataError(
            f"{place} holds {counts} image(s) (the first: {other[0]}) that zoo does not read; it reads "
            f"{', '.join(IMAGE_SUFFIXES)}: convert them (e.g. with Pillow: "
            'Image.open(f).save(f.with_suffix(".png"))) or move them out'
        )


def refuse_unreadable(broken: list[tuple[Path, Any]]) -> None:
    """Refuse the image files that failed to decode, all in one message (the first with its error, five more by
    name, and how many): a folder of thousands is fixed in one pass, not one run a file.

    Examples:
        >>> refuse_unreadable([(Path("a.png"), OSError("truncated")), (Path("b.png"), OSError("empty"))])
        Traceback (most recent call last):
        ...
        zoo.errors.DataError: a.png is not a readable image (truncated); 1 more: b.png; fix or remove them
    """
    if broken:
        (path, error), more = broken[0], [str(p) for p, _ in broken[1:6]]
        others = f"; {len(broken) - 1} more: {', '.join(more)}{', ...' if len(broken) > 6 else ''}" if more else ""
        raise DataError(f"{path} is not a readable image ({error}){others}; fix or remove them")


def _image_files(folder: Path) -> dict[str, list[Path]]:
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    every = {c.name: list(c.rglob("*")) for c in classes}  # each class folder walked once
    refuse_other_images(folder, (f for found in every.values() for f in found))
    files = {name: sorted(f for f in found if f.suffix.lower() in IMAGE_SUFFIXES) for name, found in every.items()}
    files = {name: found for name, found in files.items() if found}
    if not files:
        raise DataError(
            f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)}) in class subfolders; expected "
            f"{folder}/<class name>/<image files>"
        )
    if len(files) < 2:
        raise DataError(
            f"{folder} holds one class ({next(iter(files))}); a classifier needs two or more class subfolders"
        )
    return files


def image_folder(folder: Path, image_size: tuple[int, int] | None, color_mode: str | None = None) -> Raw:
    """Every image of the folder, checked with PIL first so a bad file is named, then read by Keras."""
    import keras
    from PIL import Image, UnidentifiedImageError

    sizes, modes, broken = {}, set(), []
    for found in _image_files(folder).values():
        for path in found:
            try:
                with Image.open(path) as image:
                    image.load()  # decode it all: a truncated file opens, and fails only here
                    sizes.setdefault((image.height, image.width), path)
                    modes.add(image.mode)
            except Image.DecompressionBombError:
                raise DataError(
                    f"{path} is too large to read safely (over {Image.MAX_IMAGE_PIXELS:,} pixels, twice); "
                    "resize it before training"
                ) from None
            except (UnidentifiedImageError, OSError, SyntaxError) as error:  # PIL raises SyntaxError for some
                broken.append((path, error))
    refuse_unreadable(broken)
    if image_size is None and len(sizes) > 1:
        (a, first), (b, second) = list(sizes.items())[:2]
        raise DataError(
            f"{folder} holds images of different sizes ({first}: {a[0]}x{a[1]}, {second}: {b[0]}x{b[1]}); "
            "pass --image-size HEIGHT,WIDTH to resize them all"
        )
    height, width = image_size or next(iter(sizes))
    if color_mode is None:
        color_mode = "grayscale" if modes <= GREY_MODES else "rgb"
    check_argument("--color-mode", color_mode, Field(str, None, "colour mode", choices=COLOR_MODES), DataError)
    dataset = keras.utils.image_dataset_from_directory(
        folder,
        labels="inferred",
        label_mode="int",
        color_mode=color_mode,
        image_size=(height, width),
        batch_size=None,
        shuffle=False,
        verbose=False,
    )
    pairs = list(dataset.as_numpy_iterator())
    x = np.stack([image for image, _ in pairs]).astype(np.float32)
    y = np.array([label for _, label in pairs])
    return Raw(
        x / 255,
        y,
        class_names=tuple(dataset.class_names),
        encoder=_pixel_encoder(x.shape[1:]),
        description=f"{len(y)} {height}x{width} {color_mode} images in {folder}",
    )


def with_channels(splits):
    """Grey images held without a channel axis, (examples, height, width) as keras.datasets returns them, as
    one-channel images for a conv net; the axis is added inside the encoder, so the saved model still takes the
    arrays as they were given.

    Examples:
        >>> from zoo.data.sources import load_data
        >>> splits = with_channels(load_data((np.zeros((20, 6, 6), "uint8"), np.arange(20) % 2)))
        >>> splits.info.input_shape, splits.arrays["train"][0].shape[1:], splits.encoder.input_shape
        ((6, 6, 1), (6, 6, 1), (None, 6, 6))
    """
    import keras

    shape = tuple(splits.info.input_shape)
    inputs = keras.Input(shape, name="pixels")
    given = splits.encoder(inputs) if splits.encoder is not None else inputs
    encoder = keras.Model(inputs, keras.layers.Reshape((*shape, 1), name="channel")(given), name="encoder")
    arrays = {name: (x[..., None], y) for name, (x, y) in splits.arrays.items()}
    info = dataclasses.replace(splits.info, input_shape=(*shape, 1))
    return dataclasses.replace(splits, arrays=arrays, info=info, encoder=encoder)


def _pixel_encoder(shape: tuple[int, ...]):
    """Raw pixel values 0-255 -> the [0, 1] the net trains on."""
    import keras

    inputs = keras.Input(shape, name="pixels")
    return keras.Model(inputs, keras.layers.Rescaling(1 / 255, name="scale")(inputs), name="encoder")


def tfds_set(name: str, download: bool) -> Raw:
    """A TFDS set's train and test splits: prepared data first, then (if allowed) a download."""
    import os

    import tensorflow_datasets as tfds  # slow to import; only when TFDS is really used

    data_dir = os.environ.get("TFDS_DATA_DIR") or str(Path.home() / "tensorflow_datasets")  # read now, not at import
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        known = tfds.list_builders(with_community_datasets=False)
        raise DataError(
            f"tfds:{name} is not a TFDS dataset{_close(name, known)}; see https://www.tensorflow.org/datasets/catalog"
        ) from None
    if not builder.is_prepared():
        if not download or not _online():  # offline, TFDS retried for minutes and left .tmp files
            raise DataError(_unprepared(name, builder))
        try:
            builder.download_and_prepare()
        except Exception as error:  # TFDS raises many kinds for a machine offline; the remedy is the same
            _remove_partial(builder)
            raise DataError(
                _unprepared(name, builder) + f" (the download failed: {str(error).splitlines()[0][:200]})"
            ) from None
    try:
        train, test = tfds.as_numpy(builder.as_dataset(split=["train", "test"], batch_size=-1, as_supervised=True))
    except (KeyError, ValueError) as error:
        raise DataError(f"tfds:{name} needs a train and a test split with (image, label) pairs ({error})") from None
    info = builder.info.features["label"] if "label" in builder.info.features else None
    names = tuple(info.names) if info is not None and hasattr(info, "names") else None
    x_train, x_test = train[0].astype(np.float32), test[0].astype(np.float32)
    encoder = None
    if x_train.ndim == 4 and train[0].dtype == np.uint8:  # images: train at [0, 1], save a model that takes 0-255
        x_train, x_test = x_train / 255, x_test / 255
        encoder = _pixel_encoder(x_train.shape[1:])
    return Raw(x_train, train[1], x_test, test[1], class_names=names, encoder=encoder, description=f"TFDS {name}")


# Where TFDS downloads from; one connection attempt tells an offline machine in seconds.
TFDS_HOST = ("storage.googleapis.com", 443)


def _online(timeout: float = 3.0) -> bool:
    """Whether TFDS's download host answers at all (a machine without internet: no, within `timeout`)."""
    import socket

    try:
        socket.create_connection(TFDS_HOST, timeout=timeout).close()
    except OSError:
        return False
    return True


def _remove_partial(builder) -> None:
    """What a failed download left behind: TFDS's temporary folders under the data dir."""
    import shutil

    dataset_dir = Path(builder.data_dir).parent  # <data dir>/<name>: this set's folder alone
    for leftover in [*dataset_dir.glob("*.incomplete*"), *dataset_dir.glob("**/*.tmp*")]:
        shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)


def _close(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=3)
    return f" (did you mean {', '.join('tfds:' + c for c in close)}?)" if close else ""


def _unprepared(name: str, builder) -> str:
    return (
        f"tfds:{name} is not prepared in {builder.data_dir} and this machine cannot download it; prepare it on a "
        f'machine with internet (`tfds build {name}` or `python -c "import tensorflow_datasets as tfds; '
        f"tfds.load('{name}')\"`), then copy ~/tensorflow_datasets/{name} here or set TFDS_DATA_DIR to its parent"
    )
