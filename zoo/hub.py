"""Trained models that ship with zoo, verified by sha256 before they are loaded.

    saved_models/<name>/model.keras   the network (no optimizer state: it is for reuse)
    saved_models/<name>/card.json     resolved recipe, data and split, test metrics, params,
                                      training time, seed, versions, date
    saved_models/manifest.json        {"<name>/model.keras": sha256, "<name>/card.json": sha256, ...}

Like keras.applications, a file whose hash differs from the manifest is refused: a truncated
download or a swapped file never loads silently. Every zoo layer is registered serializable, so
loading uses `safe_mode=True` and needs no `custom_objects`.

Example:
    >>> model = load_pretrained("fashion_mlp")
    >>> binary = load_pretrained("fashion_mlp", num_classes=2)  # new, freshly initialized head
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import keras

from zoo.errors import DataError, RecipeError, RunError
from zoo.schema import check_argument, count_field
from zoo.records import atomic_write, write_json
from zoo.paths import shipped_dir
from zoo.recipe import get_recipe
from zoo.factories import get_optimizer

MANIFEST = "manifest.json"


class IntegrityError(DataError):
    """A saved-model file is missing or its sha256 differs from the manifest."""


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _root(root: str | Path | None) -> Path:
    """`root`, else $ZOO_SAVED_MODELS (your own collection), else the models shipped with zoo."""
    if root is not None:
        return Path(root)
    if os.environ.get("ZOO_SAVED_MODELS"):
        return Path(os.environ["ZOO_SAVED_MODELS"])
    return shipped_dir("saved_models")


# The files loading reads: each must be listed in the manifest, with a matching hash.
LOADED_FILES = ("model.keras", "card.json")


def _manifest(root: Path) -> dict[str, str]:
    """The manifest's {relative path: sha256}; a malformed one is an IntegrityError naming the file."""
    path = root / MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IntegrityError(f"{path} is not valid JSON ({error}); reinstall zoo or re-save the models") from None
    if not isinstance(manifest, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in manifest.items()):
        raise IntegrityError(f"{path} must map file paths to sha256 strings, e.g. "
                             '{"fashion_mlp/model.keras": "83b4..."}')
    for key in manifest:
        _inside(root, key)
    return manifest


def _inside(root: Path, key: str) -> Path:
    """The manifest entry `key` as a path under `root`; an entry that leaves the folder is refused."""
    path = (root / key).resolve()
    if Path(key).is_absolute() or not path.is_relative_to(root.resolve()):
        raise IntegrityError(f"{root / MANIFEST} lists {key!r}, which is outside {root}; refusing to read it")
    return path


def list_pretrained(root: str | Path | None = None) -> list[str]:
    """Names of the models in the manifest.

    Example:
        >>> isinstance(list_pretrained(), list)
        True
    """
    return sorted({key.split("/")[0] for key in _manifest(_root(root))})


def save_pretrained(model: keras.Model, name: str, card: dict[str, Any], root: str | Path | None = None) -> Path:
    """Save `model` (without optimizer state) and its card under `root/name`, then record both hashes.

    Each file is written to a temporary name and renamed, and the manifest is updated last, so
    a crash leaves either the old entry or the new one, never half of one.
    """
    root = _root(root)
    folder = root / name
    # A fresh, uncompiled copy from the config: the file then holds no optimizer slots (a third
    # of the size with Adam). clone_model would carry the compiled optimizer along.
    clean = model.__class__.from_config(model.get_config())
    clean.set_weights(model.get_weights())
    atomic_write(folder / "model.keras", lambda tmp: clean.save(tmp))
    write_json(folder / "card.json", card)
    manifest = _manifest(root)
    for filename in ("model.keras", "card.json"):
        manifest[f"{name}/{filename}"] = sha256(folder / filename)
    write_json(root / MANIFEST, dict(sorted(manifest.items())))
    return folder


def save_run(run_dir: str | Path, root: str | Path | None = None, name: str | None = None) -> Path:
    """Ship the model of a finished `zoo train` run folder, with a card built from its files."""
    run_dir = Path(run_dir)
    metrics_path = run_dir / "metrics.json"
    if not metrics_path.is_file():
        raise DataError(f"{run_dir} holds no finished run (no metrics.json); train it to the end first")
    metrics = json.loads(metrics_path.read_text())
    if metrics.get("status", "ok") != "ok" or not all(math.isfinite(metrics[k] or math.nan) for k in ("test_loss", "test_accuracy")):
        raise RunError(f"{run_dir} holds a run that did not train properly (status {metrics.get('status')!r}, test loss "
                       f"{metrics.get('test_loss')}); a diverged or NaN model is never shipped")
    recipe = get_recipe(run_dir / "recipe.toml")
    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    card = {
        "name": name or recipe.name,
        "recipe": recipe.to_dict(),
        "dataset": recipe.dataset,
        "data": metrics["data"],
        "split": f"validation: {recipe.validation_size} training examples held out with a fixed seed (0)",
        "test_accuracy": metrics["test_accuracy"],
        "test_loss": metrics["test_loss"],
        "params": metrics["params"],
        "epochs_run": metrics["epochs_run"],
        "train_seconds": metrics["train_seconds"],
        "seed": metrics["seed"],
        "versions": metrics["versions"],
        "date": time.strftime("%Y-%m-%d"),
    }
    return save_pretrained(model, name or recipe.name, card, root)


def verify(name: str, root: str | Path | None = None) -> dict[str, Any]:
    """Check every file of `name` against the manifest; return its card. Raises IntegrityError."""
    root = _root(root)
    manifest = _manifest(root)
    entries = {key: value for key, value in manifest.items() if key.split("/")[0] == name}
    if not entries:
        known = list_pretrained(root)
        raise RecipeError(f"unknown pretrained model {name!r}; available: {', '.join(known) or 'none'} (in {root})")
    unlisted = [f"{name}/{filename}" for filename in LOADED_FILES if f"{name}/{filename}" not in entries]
    if unlisted:
        raise IntegrityError(f"{root / MANIFEST} does not list {', '.join(unlisted)}; a file without a recorded "
                             "sha256 is never loaded. Re-save the model (zoo train ... --save) to record it.")
    for key, expected in entries.items():
        path = _inside(root, key)
        if not path.is_file():
            raise IntegrityError(f"{path} is missing; the manifest lists it with sha256 {expected}")
        found = sha256(path)
        if found != expected:
            raise IntegrityError(
                f"{path} has been altered or truncated: expected sha256 {expected}, found {found}. "
                "Refusing to load it; reinstall zoo or re-save the model."
            )
    card = json.loads((root / name / "card.json").read_text())
    if card.get("name") != name:
        raise IntegrityError(f"{root / name / 'card.json'} describes {card.get('name')!r}, not {name!r}; "
                             "refusing to load one model under another's name")
    return card


def load_pretrained(name: str, num_classes: int | None = None, root: str | Path | None = None) -> keras.Model:
    """Load a shipped model after verifying its sha256; compiled with its recipe's optimizer.

    `num_classes` replaces the softmax head with a new, freshly initialized one of that size
    (the body keeps its trained weights): the same as `zoo.transfer(model, num_classes,
    freeze="none")` with the recipe's optimizer, which is what it calls.

    Example:
        >>> model = load_pretrained("fashion_mlp", num_classes=3)
        >>> model.output_shape
        (None, 3)
    """
    if num_classes is not None:
        check_argument("num_classes", num_classes, count_field(1))
    card = verify(name, root)
    path = _root(root) / name / "model.keras"
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # noqa: BLE001 - Keras raises ValueError, TypeError, OSError... for bad archives
        raise IntegrityError(f"{path} matches its recorded sha256 but Keras refuses to load it safely "
                             f"({type(error).__name__}: {str(error).splitlines()[0][:300]}); "
                             "zoo never loads a model with safe_mode off") from None
    train = card["recipe"]["train"]
    if num_classes is not None:  # a thin alias of zoo's one route to a new head
        from zoo.reuse import transfer

        return transfer(model, num_classes, freeze="none", optimizer=train["optimizer"], learning_rate=train["learning_rate"])
    model.compile(optimizer=get_optimizer(train["optimizer"], train["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
