"""Recipe files: where the shipped ones are, reading TOML, and `extends` (a recipe built on another).

Everything here works on raw data (the TOML as read); `zoo.recipes.recipe` checks it and fills
in the defaults.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import tomllib

from zoo.errors import RecipeError
from zoo.paths import shipped_dir

# A recipe is a few dozen lines; anything far larger is not one, and reading it could take any memory.
MAX_RECIPE_BYTES = 256 * 1024


def read_recipe_file(path: str | Path) -> dict[str, Any]:
    """Read a recipe TOML file into raw data; malformed TOML names the file, line and column."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            text = handle.read(MAX_RECIPE_BYTES + 1)
        if len(text) > MAX_RECIPE_BYTES:
            raise RecipeError(f"{path} is over {MAX_RECIPE_BYTES // 1024} KiB; a recipe file is a few dozen lines")
        return tomllib.loads(text.decode("utf-8"))
    except RecursionError:
        raise RecipeError(f"{path}: its tables or arrays are nested too deeply to read") from None
    except tomllib.TOMLDecodeError as error:
        raise RecipeError(f"{path}: malformed TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise RecipeError(f"{path}: not UTF-8 text (byte {error.start}); TOML recipe files must be UTF-8") from None
    except ValueError as error:  # tomllib's own limits, e.g. an integer of more than 4,300 digits
        raise RecipeError(f"{path}: a value cannot be read ({error})") from None
    except FileNotFoundError:
        raise RecipeError(f"recipe file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise RecipeError(f"recipe file {str(path)!r} is a folder; name a .toml file (or a shipped recipe)") from None


def _registry() -> dict[str, Path]:
    return {path.stem: path for path in sorted(shipped_dir("recipes").glob("*.toml"))}


def list_recipes(pattern: str = "*") -> list[str]:
    """Names of the shipped recipes matching a shell-style `pattern`.

    Examples:
        >>> list_recipes("fashion_*mlp")
        ['fashion_deep_mlp', 'fashion_mlp']
    """
    return [name for name in _registry() if fnmatch.fnmatchcase(name, pattern)]


def locate(text: str, relative_to: Path | None = None) -> Path:
    """The file of a shipped recipe's name, or of a path (relative to `relative_to`, when given)."""
    registry = _registry()
    if text in registry:
        return registry[text]
    if text.endswith(".toml") or "/" in text or Path(text).is_file():
        return relative_to / text if relative_to is not None and not Path(text).is_absolute() else Path(text)
    close = difflib.get_close_matches(text, list(registry), n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    raise RecipeError(
        f"unknown recipe {text!r}{hint}. Known recipes: {', '.join(registry) or 'none'}. "
        "A path to your own .toml file works too."
    )


def read_with_parents(path: str | Path, chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """A recipe file's raw data with its `extends` chain merged in (each file's own keys win over
    its parent's), and which file each key came from ("train.epochs" -> "fashion_cnn.toml").

    Examples:
        >>> data, origins = read_with_parents(shipped_dir("recipes") / "fashion_cnn.toml")
        >>> "extends" in data, origins["model.kind"], origins["train.epochs"]
        (False, 'cnn.toml', 'fashion_cnn.toml')
    """
    path = Path(path)
    if path.resolve() in chain:
        names = " -> ".join(p.name for p in (*chain, path.resolve()))
        raise RecipeError(f"{path}: extends goes round in a circle ({names}); a recipe cannot extend itself")
    data = read_recipe_file(path)
    parent = data.pop("extends", None)
    origins = {key: path.name for key in _keys(data)}
    if parent is None:
        return data, origins
    if not isinstance(parent, str) or not parent.strip():
        raise RecipeError(
            f'{path}: extends = {parent!r} is not allowed; expected the name of a shipped recipe (e.g. "cnn") '
            "or the path of a .toml file"
        )
    if "name" not in data:
        raise RecipeError(f'{path}: a recipe that extends {parent!r} still needs a name of its own (name = "...")')
    base, base_origins = read_with_parents(locate(parent, path.parent), (*chain, path.resolve()))
    merged = {**base, **{key: value for key, value in data.items() if not isinstance(value, Mapping)}}
    for key, value in data.items():
        if isinstance(value, Mapping):
            below = base.get(key, {})
            merged[key] = {**below, **value} if isinstance(below, Mapping) else value
    return merged, {**base_origins, **origins}


def _keys(data: Mapping[str, Any]) -> Iterator[str]:
    """The keys a raw recipe sets, as "key" (top level) and "section.key"."""
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from (f"{key}.{name}" for name in value)
        else:
            yield key


def toml_key(key: str) -> str:
    """A TOML key as a recipe file writes it: bare where it can be, quoted where it holds a dot."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)  # "train.learning_rate" needs quotes


def toml_value(value: Any) -> str:
    """A value as TOML text (recipes hold only these kinds: tables, booleans, strings, numbers, lists)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return str(value)
