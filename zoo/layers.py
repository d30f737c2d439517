"""Deprecated: `zoo.nets.layers`. Last release's README said `import zoo.layers` before a plain
`keras.saving.load_model` of a zoo model; it keeps working (with a warning) for one release."""

import warnings

from zoo.nets.layers import *  # noqa: F403 - the whole module, under its old name

warnings.warn(
    "zoo.layers is deprecated and goes in the next release; use zoo.nets.layers", DeprecationWarning, stacklevel=2
)
