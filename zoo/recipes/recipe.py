"""Recipes: TOML files that name a dataset, an architecture, a stack and a training budget.

A recipe may start from another: ``extends = "cnn"`` (a shipped recipe's name, or a path relative
to the file) takes every key of that recipe, and the file holds only what differs; chains of
recipes work, cycles are errors. The resolved recipe remembers where each key came from (the
file that set it, an override, the named stack, or the schema's default), and `zoo show`
prints it.

A recipe is parsed once into a frozen `Recipe` whose every key is filled in (omitted keys take
their defaults, stack keys take the named stack's values), so what `zoo show` prints is exactly
what `zoo train` builds. Unknown keys, wrong types and out-of-range values are `RecipeError`s that
name the key, the value and what is allowed.

Examples:
    >>> recipe = get_recipe("mlp", dropout=0.5)
    >>> recipe.stack.dropout, recipe.train.optimizer
    (0.5, 'adam')
"""

from __future__ import annotations

import copy
import dataclasses
import re
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from zoo.errors import RecipeError
from zoo.recipes.keys import MODEL_KINDS, SCHEMA
from zoo.recipes.registry import locate, read_with_parents, toml_key, toml_value
from zoo.recipes.schema import shown, unknown_word_error
from zoo.recipes.space import check_space
from zoo.recipes.stacks import STACK_FIELDS, Stack, get_stack

# Recipe and saved-model names: lower-case letters, digits and underscores, starting with a letter,
# at most 64 characters (a name becomes folder and file names, and a 1,000,000-character one once
# grew memory past 24 GB).
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Section(Mapping[str, Any]):
    """A read-only recipe section: `recipe.stack.dropout` or `recipe.stack["dropout"]`."""

    def __init__(self, values: dict[str, Any]):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("recipe sections are read-only; use get_recipe(..., key=value)")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Section({self._values!r})"


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A fully resolved recipe. Make variants with `zoo.get_recipe(recipe, key=value)`."""

    name: str
    description: str
    dataset: str
    validation_size: int
    task: str
    model: Section
    stack: Section
    regularization: Section
    train: Section
    baseline: Section
    pretrain: Section
    bench: Section
    source: str = ""
    # The [tune] search space (zoo.recipes.space): recipe key -> {log | range | choices: ...}; empty if none.
    tune: Section = dataclasses.field(default_factory=lambda: Section({}))
    # Where each key's value came from ("model.hidden" -> "fashion_mlp.toml", "override", "stack 'default'",
    # "default"): what `zoo show` prints beside it. Not part of the recipe: two recipes with the
    # same values are equal wherever their values came from.
    origins: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def replace(self, **overrides: Any) -> Recipe:
        """Deprecated: `zoo.get_recipe(recipe, **overrides)` is the one way to make a variant."""
        warnings.warn(
            "Recipe.replace(...) is deprecated and goes in the next release; use zoo.get_recipe(recipe, ...)",
            DeprecationWarning,
            stacklevel=2,
        )
        return get_recipe(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain nested dicts, every key present (the TOML layout)."""
        out: dict[str, Any] = {key: getattr(self, key) for key in SCHEMA[""]}
        for section in SCHEMA:
            if section:
                out[section] = dict(getattr(self, section))
        if self.tune:
            out["tune"] = {key: dict(spec) for key, spec in self.tune.items()}
        return out

    def training_dict(self) -> dict[str, Any]:
        """`to_dict()` less its description, [bench] and [tune]: the words, how a benchmark is run and
        summarized, or what a search would try, change no training run, so two recipes that agree
        here train the same run (a finished or interrupted run of one is a run of the other).

        Examples:
            >>> recipe = get_recipe("fashion_mlp")
            >>> recipe.training_dict() == get_recipe(recipe, **{"bench.ablation": True}).training_dict()
            True
        """
        return {key: value for key, value in self.to_dict().items() if key not in ("description", "bench", "tune")}

    def describe(self) -> str:
        """The resolved recipe as `zoo show` prints it: TOML, each key with where it came from, and the
        keys that the model kind never reads left out (an MLP shows no `filters` or `cell`).

        Examples:
            >>> text = get_recipe("fashion_cnn").describe()
            >>> "filters = [32, 64]" in text and "cell" not in text
            True
            >>> [line for line in text.splitlines() if line.startswith("epochs")]
            ['epochs = 14  # fashion_cnn.toml']
        """
        resolved = self.to_dict()
        tune = resolved.pop("tune", None)
        lines = []
        for key, value in resolved.items():
            if not isinstance(value, dict):
                lines.append(self._line(key, key, value))
        for section, values in resolved.items():
            if isinstance(values, dict):
                kinds = MODEL_KINDS if section == "model" else {}
                shown = [k for k in values if self.model.kind in kinds.get(k, (self.model.kind,))]
                lines += ["", f"[{section}]"] + [self._line(f"{section}.{k}", k, values[k]) for k in shown]
        if tune:
            lines += ["", "[tune]"] + [f"{toml_key(k)} = {toml_value(v)}" for k, v in tune.items()]
        return "\n".join(lines) + "\n"

    def _line(self, where: str, key: str, value: Any) -> str:
        origin = self.origins.get(where)
        return f"{toml_key(key)} = {toml_value(value)}" + (f"  # {origin}" if origin else "")

    def to_toml(self) -> str:
        """The fully resolved recipe as TOML text; parsing it gives back an equal recipe."""
        resolved = self.to_dict()
        lines = [f"{key} = {toml_value(value)}" for key, value in resolved.items() if not isinstance(value, dict)]
        for section, values in resolved.items():
            if isinstance(values, dict):
                lines += ["", f"[{section}]"] + [
                    f"{toml_key(key)} = {toml_value(value)}" for key, value in values.items()
                ]
        return "\n".join(lines) + "\n"


def parse_recipe(data: Mapping[str, Any], source: str = "") -> Recipe:
    """Validate raw recipe data (as read from TOML) and fill every omitted key.

    Examples:
        >>> parse_recipe({"name": "tiny", "model": {"hidden": [8]}}).stack.activation
        'elu'
    """
    where = f"{source}: " if source else ""
    sections = [s for s in SCHEMA if s]
    allowed_top = list(SCHEMA[""]) + sections + ["tune"]
    for key in data:
        if key not in allowed_top:
            raise RecipeError(where + str(unknown_word_error("key", key, allowed_top)))
    values: dict[str, Any] = {}
    try:
        for key, field in SCHEMA[""].items():
            if key in data:
                values[key] = field.check(key, data[key])
            elif field.default is None:
                raise RecipeError(f"the key {key!r} is required ({field.help})")
            else:
                values[key] = field.default
        if not NAME_PATTERN.match(values["name"]):
            raise RecipeError(f"name = {shown(values['name'])} is not allowed; expected {SCHEMA['']['name'].help}")
        raw_sections = {}
        for section in sections:
            raw = data.get(section, {})
            if not isinstance(raw, Mapping):
                raise RecipeError(f"{section} = {raw!r} is not allowed; expected a [{section}] table")
            for key in raw:
                if key not in SCHEMA[section]:
                    raise unknown_word_error(f"[{section}] key", key, tuple(SCHEMA[section]))
            raw_sections[section] = {
                key: SCHEMA[section][key].check(f"{section}.{key}", value) for key, value in raw.items()
            }
        # Stack keys left out take the named stack's values; so does the optimizer.
        named = get_stack(raw_sections["stack"].get("name", "default"))
        for section in sections:
            filled = {}
            for key, field in SCHEMA[section].items():
                if key in raw_sections[section]:
                    filled[key] = raw_sections[section][key]
                elif field.default is None:
                    filled[key] = getattr(named, key)
                else:
                    filled[key] = copy.deepcopy(field.default)
            values[section] = Section(filled)
        recipe = Recipe(**values, source=source, tune=Section(check_space(data.get("tune", {}))))
        recipe_stack(recipe)  # checks across stack keys (rrelu bounds) and warns on odd pairs
        _check_train(recipe.train)
        _check_pretrain(recipe)
        _check_depth(recipe)
    except RecipeError as error:
        raise RecipeError(where + str(error)) from None
    return recipe


def _check_train(train) -> None:
    """Checks across [train] keys: a piecewise schedule's factors fit its boundaries; one kind of clipping."""
    if train.schedule == "piecewise" and len(train.factors) != len(train.boundaries) + 1:
        raise RecipeError(
            f"train.factors = {train.factors!r} does not fit train.boundaries = {train.boundaries!r}; "
            "piecewise needs one more factor than boundaries"
        )
    if train.clipnorm and train.clipvalue:
        raise RecipeError(
            f"train.clipnorm = {train.clipnorm!r} and train.clipvalue = {train.clipvalue!r} are both set; "
            "clip by one of them and set the other to 0"
        )


# Deeper than this, Keras's graph walks recurse past Python's limit (2,000 layers raised RecursionError).
MAX_LAYERS = 500


def _check_depth(recipe: Recipe) -> None:
    """An MLP needs a hidden layer (diagnostics and pretraining read them); no net may be absurdly deep."""
    model = recipe.model
    if model.kind == "mlp" and not model.hidden:
        raise RecipeError(
            "model.hidden = [] is not allowed for model.kind = 'mlp'; expected at least one hidden layer, "
            "e.g. [300, 100]"
        )
    convs = {
        "cnn": len(model.filters) * model.convs_per_block,
        "resnet": 1 + 2 * len(model.filters) * model.blocks_per_stage,
        "rnn": len(model.recurrent),
    }
    layers = len(model.hidden) + convs.get(model.kind, 0)
    if layers > MAX_LAYERS:
        raise RecipeError(
            f"the recipe has {layers} hidden layers; zoo builds at most {MAX_LAYERS} (model.hidden, "
            "model.filters x model.convs_per_block or blocks_per_stage, model.recurrent)"
        )


def _check_pretrain(recipe: Recipe) -> None:
    """Pretraining sets the kernels and biases of an MLP's Dense layers; say so when it cannot."""
    method = recipe.pretrain.method
    if method == "none":
        return
    if recipe.model.kind != "mlp":
        raise RecipeError(f"pretrain.method = {method!r} needs model.kind = 'mlp', not {recipe.model.kind!r}")
    if recipe.stack.batch_norm:
        raise RecipeError(
            f"pretrain.method = {method!r} needs stack.batch_norm = false: pretraining sets each hidden "
            "layer's bias, which a BatchNorm layer would replace"
        )
    check_pretrain_activation(method, recipe.stack.activation)


def check_pretrain_activation(method: str, activation: str) -> None:
    """An RBM's hidden units are sigmoid, so RBM pretraining only suits a sigmoid MLP."""
    if method == "rbm" and activation != "sigmoid":
        raise RecipeError(
            f"pretrain.method = 'rbm' needs stack.activation = 'sigmoid' (an RBM's hidden units are "
            f"sigmoid), not {activation!r}; use pretrain.method = 'dae' for other activations"
        )


def recipe_stack(recipe: Recipe) -> Stack:
    """The per-layer practice a recipe builds with: its [stack] keys plus train.optimizer."""
    return Stack(
        **{key: recipe.stack[key] for key in STACK_FIELDS if key != "optimizer"}, optimizer=recipe.train.optimizer
    )


def _resolve_key(key: str) -> tuple[str, str]:
    """Map an override key to (section, key).

    The key is "section.key" ("stack.dropout"). The bare key ("dropout") is accepted too where
    exactly one section has it, since Python keyword arguments cannot hold a dot.
    """
    if "." in key:
        section, _, name = key.partition(".")
        if section not in SCHEMA or not section:
            raise unknown_word_error("section", section, tuple(s for s in SCHEMA if s))
        if name not in SCHEMA[section]:
            raise unknown_word_error(f"[{section}] key", name, tuple(SCHEMA[section]))
        return section, name
    if key in SCHEMA[""]:  # a bare top-level key ("name", "dataset") always means the top level
        return "", key
    owners = [section for section, fields in SCHEMA.items() if key in fields]
    if len(owners) == 1:
        return owners[0], key
    if len(owners) > 1:
        raise RecipeError(f"key {key!r} is ambiguous; write one of {', '.join(f'{s}.{key}' for s in owners)}")
    every = [f"{s}.{k}" if s else k for s, fields in SCHEMA.items() for k in fields]
    raise unknown_word_error("key", key, every)


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of raw recipe data with `overrides` ({"stack.dropout": 0.3, ...}) set."""
    merged = copy.deepcopy(dict(data))
    for key, value in overrides.items():
        section, name = _resolve_key(key)
        target = merged if not section else merged.setdefault(section, {})
        if not isinstance(target, dict):
            raise RecipeError(f"{section} = {target!r} is not allowed; expected a [{section}] table")
        target[name] = value
    return merged


def get_recipe(name_or_path: str | Path | Recipe, **overrides: Any) -> Recipe:
    """Return a shipped recipe by name, or one read from a .toml file, with `overrides` applied.

    Override keys are "section.key", or the bare key where only one section has it:
    ``get_recipe("fashion_mlp", dropout=0.3, **{"train.epochs": 5})``. A `Recipe` given with no
    overrides is returned as it is: a recipe is parsed and checked once.

    Examples:
        >>> get_recipe("fashion_mlp", epochs=2).train.epochs
        2
    """
    if isinstance(name_or_path, Recipe):
        if not overrides:
            return name_or_path
        data, origins = _explicit(name_or_path)
        return _with_origins(parse_recipe(apply_overrides(data, overrides), name_or_path.source), origins, overrides)
    path = locate(str(name_or_path))
    data, origins = read_with_parents(path)
    return _with_origins(parse_recipe(apply_overrides(data, overrides), str(path)), origins, overrides)


def _explicit(recipe: Recipe) -> tuple[dict[str, Any], dict[str, str]]:
    """`recipe`'s keys and their origins, less those its named stack filled in, so that a variant naming another
    stack takes that stack's activation, init, optimizer and the rest (as the same override on the recipe's
    file does), while every key a file or an override set stays."""
    data, origins = recipe.to_dict(), {}
    for where, origin in recipe.origins.items():
        if origin.startswith("stack ") and "." in where:  # the origin _with_origins gives a stack-filled key
            section, key = where.split(".", 1)
            data.get(section, {}).pop(key, None)
        else:
            origins[where] = origin
    return data, origins


def _with_origins(recipe: Recipe, origins: dict[str, str], overrides: Mapping[str, Any]) -> Recipe:
    """`recipe` knowing where each key came from: `origins` (files), then the overrides, then the stack or default."""
    for key in overrides:
        section, name = _resolve_key(key)
        origins[f"{section}.{name}" if section else name] = "override"
    for section, fields in SCHEMA.items():
        for key, field in fields.items():
            where = f"{section}.{key}" if section else key
            if where not in origins:
                named = bool(section) and field.default is None  # filled from the named stack (parse_recipe)
                origins[where] = f"stack {recipe.stack.name!r}" if named else "default"
    return dataclasses.replace(recipe, origins=origins)
