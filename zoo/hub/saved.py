"""Trained models that ship with zoo, verified by sha256 before they are loaded.

    saved_models/<name>/model.keras   the network (no optimizer state: it is for reuse)
    saved_models/<name>/card.json     resolved recipe, data and split, test metrics, params,
                                      training time, seed, versions, date
    saved_models/manifest.json        {"<name>/model.keras": sha256, "<name>/card.json": sha256, ...}

Like keras.applications, a file whose hash differs from the manifest is refused: a truncated
download or a swapped file never loads silently. Every zoo layer is registered serializable, so
loading uses `safe_mode=True` and needs no `custom_objects`.

Examples:
    >>> model = load_pretrained("fashion_mlp")
    >>> binary = load_pretrained("fashion_mlp", num_classes=2)  # new, freshly initialized head
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras

from zoo.errors import IntegrityError, RecipeError, RunError, first_line
from zoo.hub.cards import model_card, run_card
from zoo.nets.factories import get_optimizer
from zoo.nets.portable import needs_zoo, portable
from zoo.paths import shipped_dir
from zoo.recipes.recipe import NAME_PATTERN
from zoo.recipes.schema import Field, check_argument, count_field, shown
from zoo.reports.records import write_json, write_text

MANIFEST = "manifest.json"


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _user_dir() -> Path:
    """Where `--save` puts models when zoo runs from an installed package: never into site-packages."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "zoo" / "saved_models"


def _roots(root: str | Path | None) -> list[Path]:
    """Collections to look in: `root`; else $ZOO_SAVED_MODELS; else the user's own, then the shipped ones."""
    if root is not None:
        return [Path(root)]
    if os.environ.get("ZOO_SAVED_MODELS"):
        return [Path(os.environ["ZOO_SAVED_MODELS"])]
    return [_user_dir(), shipped_dir("saved_models")]


def _root(root: str | Path | None, name: str | None = None) -> Path:
    """The collection that holds `name` (the first that lists it), else the last one looked in."""
    roots = _roots(root)
    return next((where for where in roots if name is not None and _entries(_manifest(where), name)), roots[-1])


def save_root(root: str | Path | None = None) -> Path:
    """Where a new model is saved: `root`; $ZOO_SAVED_MODELS; the checkout's saved_models/ when zoo
    runs from a git checkout; otherwise the user's folder (~/.local/share/zoo/saved_models).

    Examples:
        >>> save_root("/tmp/my-models")
        PosixPath('/tmp/my-models')
    """
    if root is not None:
        return Path(root)
    if os.environ.get("ZOO_SAVED_MODELS"):
        return Path(os.environ["ZOO_SAVED_MODELS"])
    shipped = shipped_dir("saved_models")
    if (shipped.parent / ".git").exists() and shipped.parent != Path(__file__).resolve().parent:
        return shipped  # a source checkout: the repository's own collection
    return _user_dir()


# The most classes a new head may have (ImageNet-21k has 21,841).
MAX_CLASSES = 100_000

# The files loading reads: each must be listed in the manifest, with a matching hash.
LOADED_FILES = ("model.keras", "card.json")


def _manifest(root: Path) -> dict[str, str]:
    """The manifest's {relative path: sha256}; a malformed one is an IntegrityError naming the file."""
    path = root / MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise IntegrityError(f"{path} is not valid JSON ({error}); reinstall zoo or re-save the models") from None
    if not isinstance(manifest, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in manifest.items()
    ):
        raise IntegrityError(
            f'{path} must map file paths to sha256 strings, e.g. {{"fashion_mlp/model.keras": "83b4..."}}'
        )
    for key in manifest:
        _inside(root, key)
    return manifest


def _entries(manifest: dict[str, str], name: str) -> dict[str, str]:
    """The manifest's entries for the model `name`: every key under `<name>/`."""
    return {key: digest for key, digest in manifest.items() if key.split("/")[0] == name}


def _inside(root: Path, key: str) -> Path:
    """The manifest entry `key` as a path under `root`; an entry that leaves the folder is refused."""
    path = (root / key).resolve()
    if Path(key).is_absolute() or not path.is_relative_to(root.resolve()):
        raise IntegrityError(f"{root / MANIFEST} lists {key!r}, which is outside {root}; refusing to read it")
    return path


def model_files(name: str, root: str | Path | None = None) -> dict[str, Path]:
    """The files the manifest records for `name`, by file name ("model.keras", "card.json").

    Saved models live in a folder per version (`<name>/<sha256 prefix>/`), which is what makes
    replacing one atomic; the manifest says which version is current. Older collections keep
    `<name>/model.keras` directly, and load the same way.
    """
    root = _root(root, name)
    return {Path(key).name: _inside(root, key) for key in _entries(_manifest(root), name)}


def list_pretrained(root: str | Path | None = None) -> list[str]:
    """Names of the models in the manifest.

    Examples:
        >>> isinstance(list_pretrained(), list)
        True
    """
    return sorted({key.split("/")[0] for where in _roots(root) for key in _manifest(where)})


_NAME = Field(str, None, "model name")


def save_pretrained(
    model: keras.Model, name: str, card: dict[str, Any], root: str | Path | None = None, force: bool = False
) -> Path:
    """Save `model` (without optimizer state) and its card as a new version of `name`; return its folder.

    Crash-safe end to end: both files are written into a private folder, which is renamed into
    place as `<name>/<sha256 prefix>/`, and the manifest, replaced atomically, is the one switch
    from the old version to the new. At every instant the manifest names a complete, verified
    version. A model already saved under `name`, or shipped with zoo under it (which the saved
    one would hide), is replaced only with `force`; the old version's files are removed after the
    switch. Saves into one collection take its lock in turn, so concurrent saves all land. On any
    OS error (a full disk) nothing is left behind.
    """
    root = save_root(root)
    if not NAME_PATTERN.match(check_argument("name", name, _NAME)):
        raise RecipeError(f"name = {shown(name)} is not allowed; expected lower-case letters, digits and underscores")
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root):
        old = {Path(key).name: key for key in _entries(_manifest(root), name)}
        if not force:
            _refuse_to_hide(root, name, old, card)
        final = _commit(model, card, root, name)
    for key in old.values():  # the old version's files, now that nothing points at them
        stale = root / key
        if stale.parent != final and stale.is_file():
            stale.unlink()
            if stale.parent != root / name and not any(stale.parent.iterdir()):
                stale.parent.rmdir()
    return final


@contextlib.contextmanager
def _locked(root: Path):
    """Hold the collection's lock: its manifest is read, changed and replaced by one process at a time."""
    # A lock file beside the manifest, kept (removing it would race with the next saver's lock).
    with (root / "manifest.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits for the other saver; a save takes a second or two
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _refuse_to_hide(root: Path, name: str, old: dict[str, str], card: dict[str, Any]) -> None:
    """Without force, a save replaces no model, and hides no shipped one behind a model of the same name."""
    new = _accuracy(card.get("test_accuracy"))
    if old:
        previous = (
            json.loads((root / old["card.json"]).read_text()).get("test_accuracy") if "card.json" in old else None
        )
        raise RunError(
            f"{root / name} already holds {name} (test accuracy {_accuracy(previous)}); the new model scored "
            f"{new}. Pass --force (force=True) to replace it"
        )
    shipped = shipped_dir("saved_models")
    if root.resolve() != shipped.resolve() and _entries(_manifest(shipped), name):
        previous = json.loads(model_files(name, shipped)["card.json"].read_text()).get("test_accuracy")
        raise RunError(
            f"zoo ships a model named {name} (test accuracy {_accuracy(previous)}); saving yours (test accuracy "
            f"{new}) under that name in {root} would hide it from load_pretrained and zoo transfer. Save it under "
            "another name, or pass --force (force=True) to hide the shipped one"
        )


def _content_id(model: keras.Model, card: Path) -> str:
    """12 hex digits naming a model's architecture, weights and card, whenever and however often it is saved."""
    digest = hashlib.sha256(json.dumps(model.get_config(), sort_keys=True, default=str).encode())
    for weights in model.get_weights():
        digest.update(str((weights.shape, weights.dtype)).encode() + weights.tobytes())
    digest.update(card.read_bytes())
    return digest.hexdigest()[:12]


def _commit(model: keras.Model, card: dict[str, Any], root: Path, name: str) -> Path:
    """Write the new version aside, move it into place, and switch the manifest to it."""
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}-saving-"))
    final = None
    try:
        # A fresh, uncompiled copy from the config: the file then holds no optimizer slots (a third
        # of the size with Adam). clone_model would carry the compiled optimizer along.
        clean = model.__class__.from_config(model.get_config())
        clean.set_weights(model.get_weights())
        clean = portable(clean)  # zoo's training-speed layers as the standard ones: loads with plain Keras
        clean.save(staging / "model.keras")
        card = {**card, "needs_zoo": needs_zoo(clean)}
        write_json(staging / "card.json", card)
        write_text(staging / "README.md", model_card(card))  # the same card as a model hub reads it
        hashes = {filename: sha256(staging / filename) for filename in (*LOADED_FILES, "README.md")}
        # The version's folder is named by what the files hold (architecture, weights, card), not by their
        # bytes: a .keras zip stamps the second it was saved, so the same model saved twice differs in bytes.
        final = root / name / _content_id(clean, staging / "card.json")
        if final.exists() and f"{name}/{final.name}/model.keras" in _manifest(root):
            shutil.rmtree(staging)  # exactly this version is already the committed one: nothing to switch
            return final
        if final.exists():
            shutil.rmtree(final)  # an identical leftover of a save that never switched the manifest
        final.parent.mkdir(exist_ok=True)
        staging.rename(final)
        for path in (final, *final.iterdir()):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)  # mkdtemp's 0700 would hide it from other users
        manifest = {key: value for key, value in _manifest(root).items() if key.split("/")[0] != name}
        manifest.update({f"{name}/{final.name}/{filename}": digest for filename, digest in hashes.items()})
        write_json(root / MANIFEST, dict(sorted(manifest.items())))  # the switch
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        if final is not None and final.exists() and f"{name}/{final.name}/model.keras" not in _manifest(root):
            shutil.rmtree(final, ignore_errors=True)
        raise RunError(
            f"could not save {name} into {root}: {error.strerror or error}; the previous version, if any, is untouched"
        ) from None
    return final


def _accuracy(value) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "unknown"


def save_run(run_dir: str | Path, root: str | Path | None = None, name: str | None = None, force: bool = False) -> Path:
    """Ship the model of a finished `zoo train` run folder, with a card built from its files."""
    card = run_card(run_dir, name)
    model = keras.saving.load_model(Path(run_dir) / "model.keras", safe_mode=True)
    return save_pretrained(model, card["name"], card, root, force=force)


def verify(name: str, root: str | Path | None = None) -> dict[str, Any]:
    """Check every file of `name` against the manifest; return its card. Raises IntegrityError."""
    return _verified(name, root)[0]


def _verified(name: str, root: str | Path | None) -> tuple[dict[str, Any], dict[str, Path]]:
    """`name`'s card and its verified files by file name, from one read of the manifest."""
    root = _root(root, name)
    entries = _entries(_manifest(root), name)
    if not entries:
        known = list_pretrained(root)
        raise RecipeError(f"unknown pretrained model {name!r}; available: {', '.join(known) or 'none'} (in {root})")
    listed = [Path(key).name for key in entries]
    unlisted = [f"{name}/{filename}" for filename in LOADED_FILES if listed.count(filename) != 1]
    if unlisted:
        raise IntegrityError(
            f"{root / MANIFEST} does not list {', '.join(unlisted)} exactly once; a file without a "
            "recorded sha256 is never loaded. Re-save the model (zoo train ... --save) to record it."
        )
    files = {}
    for key, expected in entries.items():
        path = files[Path(key).name] = _inside(root, key)
        if not path.is_file():
            raise IntegrityError(f"{path} is missing; the manifest lists it with sha256 {expected}")
        found = sha256(path)
        if found != expected:
            raise IntegrityError(
                f"{path} has been altered or truncated: expected sha256 {expected}, found {found}. "
                "Refusing to load it; reinstall zoo or re-save the model."
            )
    card = _card(files["card.json"])
    if card.get("name") != name:
        raise IntegrityError(
            f"{files['card.json']} describes {card.get('name')!r}, not {name!r}; "
            "refusing to load one model under another's name"
        )
    return card, files


def _card(path: Path) -> dict[str, Any]:
    """A card as a dict, or an IntegrityError naming what is wrong with it (its hash may be updated too)."""
    try:
        card = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise IntegrityError(f"{path} is not valid JSON ({type(error).__name__}); re-save the model") from None
    if not isinstance(card, dict):
        raise IntegrityError(f"{path} holds a {type(card).__name__}, not a card (a JSON object); re-save the model")
    recipe = card.get("recipe")
    train = recipe.get("train") if isinstance(recipe, dict) else None
    if not isinstance(train, dict) or not {"optimizer", "learning_rate"} <= train.keys():
        raise IntegrityError(
            f"{path} lacks its recipe (recipe.train.optimizer and learning_rate), which loading compiles with; "
            "re-save the model"
        )
    return card


def load_pretrained(name: str, num_classes: int | None = None, root: str | Path | None = None) -> keras.Model:
    """Load a shipped model after verifying its sha256; compiled with its recipe's optimizer.

    `num_classes` replaces the softmax head with a new, freshly initialized one of that size
    (the body keeps its trained weights): the same as `zoo.transfer(model, num_classes,
    freeze="none")` with the recipe's optimizer, which is what it calls.

    Examples:
        >>> model = load_pretrained("fashion_mlp", num_classes=3)
        >>> model.output_shape
        (None, 3)
    """
    if num_classes is not None:  # a head of a billion classes would take terabytes
        check_argument("num_classes", num_classes, count_field(1, MAX_CLASSES))
    card, files = _verified(name, root)
    path = files["model.keras"]
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # noqa: BLE001 - Keras raises ValueError, TypeError, OSError... for bad archives
        raise IntegrityError(
            f"{path} matches its recorded sha256 but Keras refuses to load it safely "
            f"({type(error).__name__}: {first_line(error)}); "
            "zoo never loads a model with safe_mode off"
        ) from None
    train = card["recipe"]["train"]
    if num_classes is not None:  # a thin alias of zoo's one route to a new head
        from zoo.hub.reuse import transfer

        return transfer(
            model, num_classes, freeze="none", optimizer=train["optimizer"], learning_rate=train["learning_rate"]
        )
    model.compile(
        optimizer=get_optimizer(train["optimizer"], train["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
