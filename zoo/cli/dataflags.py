"""The `--data` flags every command that trains shares, and reading them into splits.

Examples:
    >>> import argparse
    >>> parser = data_flags(argparse.ArgumentParser())
    >>> parser.parse_args(["--data", "pets.csv", "--target", "kind"]).target
    'kind'
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import tomllib

from zoo.errors import RecipeError, ZooError
from zoo.recipes.catalog import COLOR_MODES
from zoo.recipes.recipe import get_recipe
from zoo.recipes.schema import check_argument, count_field


def parse_override(text: str) -> tuple[str, Any]:
    """Parse a command-line `--set key=value`; the value is read as TOML, or as a bare word.

    Examples:
        >>> parse_override("model.hidden=[64, 64]")
        ('model.hidden', [64, 64])
        >>> parse_override("stack.activation=relu")
        ('stack.activation', 'relu')
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise RecipeError(f"--set {text!r} does not parse; expected key=value, e.g. --set stack.dropout=0.3")
    try:
        return key, tomllib.loads(f"value = {raw}")["value"]
    except RecursionError:
        raise RecipeError(f"--set {key}=...: the value is nested too deeply to read") from None
    except tomllib.TOMLDecodeError:
        pass  # not TOML: maybe a bare word, below
    except ValueError as error:  # tomllib's own limits, e.g. an integer of more than 4,300 digits
        raise RecipeError(f"--set {key}=...: the value cannot be read ({error})") from None
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", raw):
        return key, raw
    raise RecipeError(
        f"--set {text!r} does not parse: {raw!r} is not a TOML value "
        '(numbers like 0.3, true/false, words, "quoted strings", lists like [64, 64])'
    )


def recipe_from_args(args):
    """The recipe the command names, with its --set overrides (and --distribute, --seed) applied."""
    overrides = dict(parse_override(text) for text in args.set or [])
    if getattr(args, "distribute", None):
        overrides["train.distribute"] = args.distribute
    if getattr(args, "seed", None) is not None:
        overrides["train.seed"] = args.seed
    return get_recipe(args.recipe, **overrides)


def seed_flag(parser):
    """`--seed N`, the same on every command that trains one recipe: it sets train.seed."""
    parser.add_argument("--seed", type=int, help="override train.seed (weights, data order, dropout, augmentation)")
    return parser


def quiet_flag(parser):
    """`--quiet`, the same on every command that trains: only the command's answer and errors are printed."""
    parser.add_argument(
        "--quiet", action="store_true", help="print only the result lines and errors (no progress, no epoch bars)"
    )
    return parser


def recipe_and_data(args):
    """The recipe, and `--data` read for it (None: the recipe's own dataset, loaded where it is used)."""
    recipe = recipe_from_args(args)
    if getattr(args, "data", None) is None:
        for flag in ("target", "image_size", "color_mode", "categorical", "numeric", "validation_size"):
            if getattr(args, flag, None) is not None:
                raise ZooError(f"--{flag.replace('_', '-')} goes with --data")
        return recipe, None
    from zoo.data.sources import recipe_data

    return recipe_data(recipe, read_data_flags(args, task=recipe.task))


def read_as(args, data) -> str:
    """What zoo made of `--data` (its columns and their kinds, a folder's images), or "" where it says no more than
    the path: `zoo show` and `zoo train` print it first."""
    said = data.info.description if data is not None else ""
    return "" if said == str(getattr(args, "data", "")) else said


def read_data_flags(args, task: str = "auto", image_size=None, color_mode=None):
    """`--data` read as its flags say; `image_size` and `color_mode` are the defaults where the flags are
    not given (`zoo transfer` resizes a folder to its source model's input)."""
    from zoo.data.sources import load_data

    return load_data(
        args.data,
        target=args.target,
        task=task,
        validation_size=args.validation_size,
        image_size=_image_size(args.image_size) or image_size,
        color_mode=args.color_mode or color_mode,
        categorical=_columns(args.categorical),
        numeric=_columns(args.numeric),
    )


def _image_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        height, width = (int(part) for part in text.split(","))
    except ValueError:
        raise ZooError(f"--image-size {text!r} does not parse; expected HEIGHT,WIDTH, e.g. 64,64") from None
    return check_argument("--image-size", height, count_field(1)), check_argument("--image-size", width, count_field(1))


def _columns(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def data_flags_text(args) -> str:
    """The data flags of this command as typed again (" --data pets.csv --target kind"), so every command zoo
    prints for the user to run next works on the same data; "" without --data.

    Examples:
        >>> import argparse
        >>> args = data_flags(argparse.ArgumentParser()).parse_args(["--data", "my pets.csv", "--target", "kind"])
        >>> data_flags_text(args)
        " --data 'my pets.csv' --target kind"
    """
    if getattr(args, "data", None) is None:
        return ""
    flags = ("data", "target", "image_size", "color_mode", "categorical", "numeric", "validation_size")
    given = [(flag, getattr(args, flag, None)) for flag in flags]
    return "".join(
        f" --{flag.replace('_', '-')} {shlex.quote(str(value))}" for flag, value in given if value is not None
    )


def data_flags(command):
    """--data and the flags that say how to read it, on every command that trains (and show)."""
    command.add_argument(
        "--data",
        metavar="SOURCE",
        help="your own data instead of the recipe's: tfds:NAME, an image folder "
        "(one subfolder per class), a .csv/.tsv/.parquet table (with --target), an .npz file, or digits",
    )
    command.add_argument("--target", metavar="COLUMN", help="a table's target column")
    command.add_argument(
        "--image-size", metavar="H,W", help="resize an image folder's images (default: their own size)"
    )
    command.add_argument(
        "--color-mode",
        choices=COLOR_MODES,
        help="an image folder's colour mode (default: grayscale when every image is, else rgb)",
    )
    command.add_argument("--categorical", metavar="COLUMNS", help="comma-separated table columns to one-hot encode")
    command.add_argument("--numeric", metavar="COLUMNS", help="comma-separated table columns to standardize as numbers")
    command.add_argument(
        "--validation-size",
        type=int,
        metavar="N",
        help="examples held out for validation (default with --data: 10%% of the training examples)",
    )
    return command
