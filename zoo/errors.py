"""The errors zoo raises on bad input.

Every message names what was wrong (the key, the value, the file) and what is allowed, so the
command-line front end can print it as it is instead of a stack trace from inside Keras.
"""


class ZooError(Exception):
    """Base class of every error zoo raises on purpose."""


class RecipeError(ZooError, ValueError):
    """A recipe is unknown, malformed, or holds a key or value that is not allowed."""


class DataError(ZooError, ValueError):
    """A dataset is unknown, not found, or holds values that do not fit the model."""


class RunError(ZooError, RuntimeError):
    """A training run cannot start or continue (for example, its folder holds a finished run)."""


class IntegrityError(DataError):
    """A saved-model file is missing or its sha256 differs from the manifest."""


def first_line(error: BaseException, limit: int = 300) -> str:
    """An exception's first line of message, cut at `limit` characters (its class name when it has none).

    Examples:
        >>> first_line(ValueError("bad value" + chr(10) + "and a long trace")), first_line(AssertionError())
        ('bad value', 'AssertionError')
    """
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:limit]
