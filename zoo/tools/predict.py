"""`zoo predict`: a trained model's answers for new inputs, one CSV row per example, with class names.

The model comes from a run folder (its `model.keras` and `metrics.json`), a `.keras` file, or a shipped
model's name. Its record says what it takes (`metrics.json`'s `input`: a table's columns, or an
image's shape and pixel range) and what its outputs mean (`classes`); inputs are checked against it
before anything is predicted, and the CSV is written whole or not at all.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from zoo.data.columns import input_name, typed_columns
from zoo.data.readers import IMAGE_SUFFIXES, refuse_other_images, refuse_unreadable
from zoo.data.tables import TABLE_SUFFIXES, read_frame
from zoo.errors import DataError, first_line
from zoo.reports.records import atomic_write


def load_predictor(source: str | Path) -> tuple[Any, dict[str, Any]]:
    """(model, record) for a run folder, a preset folder, a `.keras` file or a shipped model's name; the record holds
    `task`, `classes` (names, or None) and `input` (what the model takes)."""
    import keras

    import zoo.nets.layers  # noqa: F401  (registers zoo's layers: a model may keep one, see needs_zoo)
    from zoo.hub.saved import list_pretrained, load_pretrained, model_files

    path = Path(source)
    if path.is_dir() or path.suffix == ".keras":
        file = path / "model.keras" if path.is_dir() else path
        if not file.is_file():
            raise DataError(
                f"{path} holds no model.keras; name a finished run or preset folder, a .keras file or a shipped model"
            )
        model = keras.saving.load_model(file, safe_mode=True)
        # A run folder's record is its metrics.json; a saved preset's (`zoo save-preset`) is its card.json.
        metrics_path, card_path = file.parent / "metrics.json", file.parent / "card.json"
        if metrics_path.is_file():
            record = json.loads(metrics_path.read_text())
        else:
            record = _card_record(json.loads(card_path.read_text()), model) if card_path.is_file() else {}
    elif str(source) in list_pretrained():
        model = load_pretrained(str(source))
        record = _card_record(json.loads(model_files(str(source))["card.json"].read_text()), model)
    else:
        raise DataError(
            f"{source!r} is not a run folder, a .keras file or a shipped model "
            f"(shipped: {', '.join(list_pretrained())})"
        )
    record.setdefault("task", "regression" if model.output_shape[-1] == 1 else "classification")
    record.setdefault("input", {})
    return model, record


def _card_record(card: dict[str, Any], model) -> dict[str, Any]:
    """What a model card records of the task, classes, input and target; a card saved before classes and input
    were recorded: its dataset's classes, 0-1 images of the model's shape."""
    from zoo.hub.cards import card_classes

    shape = [int(d) for d in model.input_shape[1:]]
    return {
        "task": card.get("recipe", {}).get("task", "classification"),
        "classes": card_classes(card),
        "input": card.get("input") or {"kind": "image", "shape": shape, "range": [0.0, 1.0]},
        **({"target": card["target"]} if card.get("target") else {}),
    }


def _table_inputs(model, path: Path, record) -> tuple[list[str], dict[str, Any]]:
    frame = read_frame(path)
    wanted = sorted(model.input)
    # The model's keys are the training table's column names (models saved before 0.4.0 keyed them by `input_name`).
    given = {input_name(column): column for column in frame.columns}
    given.update({str(column): column for column in frame.columns})
    missing = [name for name in wanted if name not in given]
    if missing:
        raise DataError(
            f"{path} lacks the column{'s' * (len(missing) > 1)} {', '.join(map(repr, missing))}; "
            f"the model takes: {', '.join(wanted)}"
        )
    # Other columns (the target, an id) are left out, and named, so a misspelt column never passes unseen.
    extra = [column for column in frame.columns if str(column) not in wanted and input_name(column) not in wanted]
    types = record.get("input", {}).get("types", {})  # "date": the model takes days; dates are converted
    kinds = {str(given[name]): "date" if types.get(name) == "date" else model.input[name].dtype for name in wanted}
    spelled = record.get("input", {}).get("date_formats", {})  # as training's were spelled (none: ISO 8601)
    columns = typed_columns(frame, kinds, path, {str(given[name]): spelled[name] for name in wanted if name in spelled})
    ids = [str(i) for i in frame.index]  # 0, 1, 2, ... or the file's own row labels (`csv_format`)
    return ids, {"columns": {name: columns[str(given[name])] for name in wanted}, "ignored": extra}


def _image_files(path: Path) -> list[Path]:
    every = [path] if path.is_file() else list(path.rglob("*"))  # the folder walked once
    refuse_other_images(path, every)
    if path.is_file():
        return [path]
    files = sorted(f for f in every if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _image_inputs(model, path: Path, record) -> tuple[list[str], np.ndarray, list[str]]:
    """(ids, pixels, notes): each image decoded and resized to the model's size by the TensorFlow ops that
    `zoo train` reads a folder with (Keras's image_dataset_from_directory: decode_image, bilinear resize),
    so a JPEG's pixels and a resized photo match what the model trained on."""
    import tensorflow as tf
    from PIL import Image, UnidentifiedImageError

    height, width, channels = (int(d) for d in model.input_shape[1:4])
    if channels not in (1, 3):
        raise DataError(f"the model takes {channels}-channel images; zoo predict reads grey (1) or RGB (3) files")
    files, images, resized, broken = _image_files(path), [], 0, []
    for file in files:
        try:
            with Image.open(file) as image:
                image.load()  # PIL first: a bad file is named, as training names it
                resized += (image.height, image.width) != (height, width)
            decoded = tf.image.decode_image(tf.io.read_file(str(file)), channels=channels, expand_animations=False)
        except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
            broken.append((file, error))
            continue
        except tf.errors.OpError as error:
            broken.append((file, first_line(error)))
            continue
        images.append(tf.image.resize(decoded, (height, width), method="bilinear").numpy())
    refuse_unreadable(broken)
    pixels = np.stack(images).astype(np.float32)
    low, high = record.get("input", {}).get("range", [0, 255])
    if high <= 1:  # the model learned from 0-1 values: files hold 0-255
        pixels /= 255.0
    base = path if path.is_dir() else path.parent
    notes = [f"{resized} image(s) resized to {height}x{width} (bilinear, as --image-size resizes in training)"]
    return [str(file.relative_to(base)) for file in files], pixels, notes if resized else []


def _array_inputs(model, path: Path) -> tuple[list[str], np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        x = loaded["x"] if hasattr(loaded, "files") else loaded
    except (OSError, ValueError, KeyError) as error:
        raise DataError(f"{path} is not a .npy array or an .npz with an array 'x' ({error})") from None
    expected = tuple(int(d) for d in model.input_shape[1:])
    if tuple(x.shape[1:]) != expected:
        raise DataError(f"{path} holds examples of shape {tuple(x.shape[1:])}; the model takes {expected}")
    return [str(i) for i in range(len(x))], np.asarray(x, np.float32)


def predict_rows(source: str | Path, data: str | Path) -> tuple[list[str], list[list[Any]], list[str]]:
    """(header, rows, notes): one row per example of `data` (a table file, an image file or folder, or an
    .npy/.npz array) with its id, and the class name and class probabilities, or the predicted value (in a
    column named as the training table's target, else "value").

    Examples:
        >>> import tempfile, keras, numpy as np
        >>> folder = Path(tempfile.mkdtemp())
        >>> x = keras.Input((3,)); keras.Model(x, keras.layers.Dense(2, "softmax")(x)).save(folder / "m.keras")
        >>> np.save(folder / "rows.npy", np.ones((2, 3), "float32"))
        >>> header, rows, _ = predict_rows(folder / "m.keras", folder / "rows.npy")
        >>> header[:2], [row[0] for row in rows]
        (['id', 'class'], ['0', '1'])
    """
    model, record = load_predictor(source)
    path = Path(data)
    if not path.exists():
        raise DataError(f"--data {path}: no such file or folder")
    notes: list[str] = []
    if isinstance(model.input, dict):
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise DataError(f"the model takes table rows; --data must be a {'/'.join(TABLE_SUFFIXES)} file, not {path}")
        ids, table = _table_inputs(model, path, record)
        inputs = table["columns"]
        if table["ignored"]:
            notes.append(f"columns the model does not take, left out: {', '.join(table['ignored'])}")
    elif path.suffix.lower() in (".npy", ".npz"):
        ids, inputs = _array_inputs(model, path)
    elif len(model.input_shape) == 4:
        ids, inputs, resized = _image_inputs(model, path, record)
        notes += resized
    else:
        raise DataError(f"the model takes arrays of shape {tuple(model.input_shape[1:])}; pass them as .npy or .npz")
    output = np.asarray(model.predict(inputs, verbose=0, batch_size=256))
    if record["task"] == "regression":
        # Named as the training table's target column, so the answers read as what they are ("price").
        name = record.get("target") if record.get("target") not in (None, "", "id") else "value"
        return ["id", name], [[i, float(v)] for i, v in zip(ids, output[:, 0])], notes
    classes = record.get("classes") or [str(k) for k in range(output.shape[-1])]
    if len(classes) != output.shape[-1]:
        raise DataError(f"the record names {len(classes)} classes; the model has {output.shape[-1]} outputs")
    header = ["id", "class", *(f"p_{name}" for name in classes)]
    rows = [[i, classes[int(np.argmax(p))], *(round(float(v), 6) for v in p)] for i, p in zip(ids, output, strict=True)]
    return header, rows, notes


def write_predictions(header: list[str], rows: list[list[Any]], out: str | Path | None) -> str:
    """The CSV text; written whole to `out` (atomically) when given."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if out is not None:
        atomic_write(Path(out), lambda tmp: Path(tmp).write_text(text))
    return text
