"""A recipe's search space: its [tune] section, checked like every other section (plain Python).

Each entry names a recipe key and one way to search it:

```toml
[tune]
"train.learning_rate" = { log = [1e-4, 1e-2] }      # log-uniform between the bounds
"stack.dropout"       = { range = [0.0, 0.5] }      # uniform (whole numbers for integer keys)
"model.hidden"        = { choices = [[256], [512, 256], [1024, 512]] }
```

The bounds and choices are checked with the key's own rules, so a search space can never hold
a value the recipe would refuse. The training budget (epochs, seed) cannot be searched: every
trial gets the same one. Whether the recipe's own value lies inside the space is checked when a
search starts (`check_contains`), since `--set` may move a value for a plain training run.

Examples:
    >>> check_space({"stack.dropout": {"range": [0.0, 0.5]}})
    {'stack.dropout': {'range': [0.0, 0.5]}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zoo.errors import RecipeError
from zoo.recipes.keys import SCHEMA
from zoo.recipes.schema import unknown_word_error

SEARCHABLE_SECTIONS = ("model", "stack", "regularization", "train")
FIXED_BUDGET = ("train.epochs", "train.seed", "train.early_stopping_patience")
SPEC_KINDS = ("log", "range", "choices")


SEARCHABLE = tuple(
    f"{section}.{key}"
    for section in SEARCHABLE_SECTIONS
    for key in SCHEMA[section]
    if f"{section}.{key}" not in FIXED_BUDGET and key != "name"
)


def check_space(raw: Any) -> dict[str, dict[str, Any]]:
    """Validate a [tune] table; return it with every bound and choice checked by its key's rules.

    Examples:
        >>> check_space({"regularization.l2": {"log": [0.0, 0.1]}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        zoo.errors.RecipeError: tune."regularization.l2" = {'log': [0.0, 0.1]}: a log range cannot reach 0; expected ...
    """
    if not isinstance(raw, Mapping):
        raise RecipeError(
            f"tune = {raw!r} is not allowed; expected a [tune] table of key = {{ log | range | choices = ... }}"
        )
    space = {}
    for key, spec in raw.items():
        if key not in SEARCHABLE:
            if key in FIXED_BUDGET:
                budget = ", ".join(FIXED_BUDGET)
                raise RecipeError(f'tune."{key}" is not allowed: every trial gets the same budget ({budget})')
            raise unknown_word_error("tune key", key, SEARCHABLE)
        space[key] = _check_spec(key, spec)
    return space


def _check_spec(key: str, spec: Any) -> dict[str, Any]:
    where = f'tune."{key}" = {spec!r}'
    if not isinstance(spec, Mapping) or len(spec) != 1 or next(iter(spec)) not in SPEC_KINDS:
        raise RecipeError(
            f"{where} is not allowed; expected one of {{ log = [low, high] }}, {{ range = [low, high] }}, "
            "{ choices = [...] }"
        )
    section, name = key.split(".")
    field = SCHEMA[section][name]
    kind, values = next(iter(spec.items()))
    if not isinstance(values, list) or not values:
        raise RecipeError(f"{where}: expected a non-empty list")
    if kind == "choices":
        checked = [field.check(key, value) for value in values]
        if len({repr(value) for value in checked}) != len(checked):
            raise RecipeError(f"{where}: the choices repeat a value")
        return {"choices": checked}
    if field.kind not in (int, float) or field.list_of or field.choices:
        raise RecipeError(f"{where}: {kind} needs a numeric key; use {{ choices = [...] }} for {key}")
    if len(values) != 2:
        raise RecipeError(f"{where}: expected [low, high]")
    low, high = (field.check(key, value) for value in values)
    if kind == "log" and low <= 0:
        raise RecipeError(f"{where}: a log range cannot reach 0; expected 0 < low < high")
    if not low < high:
        raise RecipeError(f"{where}: the range is empty; expected low < high")
    return {kind: [low, high]}


def check_contains(space: Mapping[str, Mapping[str, Any]], recipe) -> None:
    """Refuse a search space that does not hold the recipe's own values: the first trial is the recipe.

    Examples:
        >>> from zoo.recipes.recipe import get_recipe
        >>> check_contains({"stack.dropout": {"range": [0.4, 0.5]}}, get_recipe("fashion_mlp"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        zoo.errors.RecipeError: tune."stack.dropout" = {'range': [0.4, 0.5]} does not contain the recipe's value ...
    """
    for key, spec in space.items():
        section, name = key.split(".")
        value = getattr(recipe, section)[name]
        kind, bounds = next(iter(spec.items()))
        inside = value in bounds if kind == "choices" else bounds[0] <= value <= bounds[1]
        if not inside:
            raise RecipeError(
                f'tune."{key}" = {dict(spec)!r} does not contain the recipe\'s value {value!r}; '
                "the first trial is the recipe itself"
            )
