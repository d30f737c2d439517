"""Presets: a trained model as a folder anyone can load, with or without zoo.

A preset folder holds `model.keras` (raw input in: the encoder runs inside; plain Keras layers
where Keras has them), `card.json` (recipe, data and split, test metrics, classes, input, versions)
and `README.md` (the same card with Hugging Face model-card metadata). `save_preset` writes one
from a finished run folder; `from_preset` loads a preset folder, or a shipped model by name.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import keras

from zoo.errors import DataError
from zoo.hub.cards import model_card, run_card
from zoo.reports.records import write_json, write_text

PRESET_FILES = ("model.keras", "card.json", "README.md")


def save_preset(run_dir: str | Path, out_dir: str | Path, name: str | None = None) -> Path:
    """Write the preset of a finished run folder into the new folder `out_dir`, whole or not at all.

    Examples:
        (Not run by the doctests: it needs a trained run folder.)
        >>> save_preset("runs/photos", "presets/photos")  # doctest: +SKIP
        PosixPath('presets/photos')
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if out_dir.exists():
        raise DataError(f"{out_dir} already exists; name a new folder for the preset")
    card = run_card(run_dir, name)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-saving-"))
    try:
        shutil.copyfile(run_dir / "model.keras", staging / "model.keras")  # already the portable model
        write_json(staging / "card.json", card)
        write_text(staging / "README.md", model_card(card))
        staging.chmod(0o755)  # mkdtemp's 0700 would hide it from other users
        staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def from_preset(source: str | Path) -> keras.Model:
    """The model of a preset folder (see `save_preset`), or of a shipped model named `source`.

    Examples:
        >>> from_preset("fashion_mlp").output_shape
        (None, 10)
    """
    path = Path(source)
    if path.is_dir():
        missing = [name for name in PRESET_FILES if not (path / name).is_file()]
        if missing:
            raise DataError(f"{path} is not a preset folder: it lacks {', '.join(missing)}")
        import zoo.nets.layers  # noqa: F401  (registers zoo's layers, for a model that keeps one: see card.json)

        return keras.saving.load_model(path / "model.keras", safe_mode=True)
    from zoo.hub.saved import list_pretrained, load_pretrained

    if str(source) in list_pretrained():
        return load_pretrained(str(source))
    raise DataError(f"{source!r} is neither a preset folder nor a shipped model ({', '.join(list_pretrained())})")
