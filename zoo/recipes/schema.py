"""A small, strict schema for recipe values: type, allowed words, numeric range.

One `Field` checks one key. The recipe parser, `--set` overrides and the block factories all go
through `Field.check`, so a bad value gets the same message wherever it comes from.
"""

from __future__ import annotations

import difflib
import math
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zoo.errors import RecipeError, ZooError

# Messages quote a bad value; a huge one (a million-character name, a deeply nested list) is cut.
_QUOTE = reprlib.Repr()
_QUOTE.maxstring, _QUOTE.maxother, _QUOTE.maxlist, _QUOTE.maxlevel = 80, 80, 8, 3


def shown(value: Any) -> str:
    """`value` as an error message quotes it: its repr, cut to a readable length.

    Examples:
        >>> len(shown("a" * 1000)) < 100
        True
        >>> shown([1, 2])
        '[1, 2]'
    """
    return _QUOTE.repr(value)


_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def unknown_word_error(what: str, word: Any, allowed: Sequence[str]) -> RecipeError:
    """Build the error for a word that is not one of `allowed`, suggesting the closest ones.

    Examples:
        >>> str(unknown_word_error("stack.activation", "elo", ["elu", "relu"]))
        "stack.activation = 'elo' is not allowed (did you mean 'elu'?); allowed: elu, relu"
    """
    close = difflib.get_close_matches(str(word), list(allowed), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return RecipeError(f"{what} = {word!r} is not allowed{hint}; allowed: {', '.join(allowed)}")


@dataclass(frozen=True)
class Field:
    """What one recipe key accepts.

    `kind` is bool, int, float or str; `list_of` makes it a list of that kind. Ranges are
    inclusive unless `*_exclusive` is set. `choices` restricts strings (or list items) to words.
    """

    kind: type
    default: Any
    help: str
    list_of: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    min_length: int = 0

    def allowed(self) -> str:
        """Describe the allowed values in words, for messages and the README table."""
        if self.choices:
            text = "one of " + ", ".join(self.choices)
        else:
            text = _TYPE_WORDS[self.kind]
            bound = (lambda limit: str(limit)) if self.kind is int else (lambda limit: f"{limit:g}")
            low = None if self.minimum is None else ("> " if self.min_exclusive else ">= ") + bound(self.minimum)
            high = None if self.maximum is None else ("< " if self.max_exclusive else "<= ") + bound(self.maximum)
            bounds = " and ".join(b for b in (low, high) if b)
            if bounds:
                text += " " + bounds
        if self.list_of:
            text = f"a list of {'at least ' + str(self.min_length) + ' ' if self.min_length else ''}items, each {text}"
        return text

    def check(self, key: str, value: Any) -> Any:
        """Return `value` normalized (ints widened to float where a number is wanted), or raise.

        Examples:
            >>> Field(float, 0.0, "rate", minimum=0, maximum=1, max_exclusive=True).check("stack.dropout", 0)
            0.0
        """
        if self.list_of:
            if not isinstance(value, (list, tuple)):
                raise RecipeError(f"{key} = {shown(value)} is not allowed; expected {self.allowed()}")
            if len(value) < self.min_length:
                raise RecipeError(f"{key} = {shown(list(value))} is too short; expected {self.allowed()}")
            return [self._check_one(f"{key}[{i}]", item) for i, item in enumerate(value)]
        return self._check_one(key, value)

    def _check_one(self, key: str, value: Any) -> Any:
        value = self._coerce(key, value)
        if self.choices and value not in self.choices:
            raise unknown_word_error(key, value, self.choices)
        if self.kind in (int, float):
            if self.minimum is not None and (value < self.minimum or (self.min_exclusive and value == self.minimum)):
                raise RecipeError(f"{key} = {shown(value)} is out of range; expected {self.allowed()}")
            if self.maximum is not None and (value > self.maximum or (self.max_exclusive and value == self.maximum)):
                raise RecipeError(f"{key} = {shown(value)} is out of range; expected {self.allowed()}")
        return value

    def _coerce(self, key: str, value: Any) -> Any:
        # bool is a subclass of int in Python; a recipe that says `epochs = true` is a mistake.
        if self.kind is bool:
            ok = isinstance(value, bool)
        elif self.kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif self.kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            value = float(value) if ok else value
        else:
            ok = isinstance(value, str)
        if not ok:
            raise RecipeError(f"{key} = {shown(value)} has the wrong type; expected {self.allowed()}")
        return value


def check_argument(name: str, value: Any, field: Field, error: type[ZooError] = RecipeError) -> Any:
    """Check a function argument or a command-line flag with `field`; the message names the argument.

    Recipe keys go through `Field.check`; arguments that are not recipe keys (a block's units,
    a model's class count, a data split's size) come here, so they are checked by the same
    rules and read the same way. `error` is the class for the kind of mistake: RecipeError for
    a model or recipe setting, DataError for a property of the data.

    Examples:
        >>> check_argument("units", 0, Field(int, None, "units", minimum=1))
        Traceback (most recent call last):
        ...
        zoo.errors.RecipeError: units = 0 is not allowed; expected an integer >= 1
        >>> check_argument("--epochs", 3, Field(int, None, "epochs", minimum=1))
        3
    """
    try:
        return field.check(name, value)
    except RecipeError:
        said = f"{name} {shown(value)}" if name.startswith("--") else f"{name} = {shown(value)}"
        raise error(f"{said} is not allowed; expected {field.allowed()}") from None


def count_field(minimum: int = 1, maximum: int | None = None) -> Field:
    """A Field for a whole number from `minimum` (to `maximum`): sizes, counts, epochs.

    Examples:
        >>> count_field(2).allowed()
        'an integer >= 2'
    """
    return Field(int, None, "a count", minimum=minimum, maximum=maximum)
