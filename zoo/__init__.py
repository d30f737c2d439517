"""zoo: best-default-configuration deep nets for Keras 3 / TensorFlow.

The public API is one hop away, and loaded lazily: `import zoo` and reading recipes import no
TensorFlow; the first use of a name that needs Keras (`zoo.build`, `zoo.train`, ...) imports it.
Custom layers are registered with Keras when `zoo.layers` loads; any zoo function that builds or
loads a model does that, and `import zoo.layers` does it for a plain `keras.saving.load_model`.

Example:
    >>> import zoo
    >>> zoo.list_recipes("fashion_*mlp")
    ['fashion_deep_mlp', 'fashion_mlp']
    >>> model = zoo.build("fashion_mlp")          # He init, BN, ELU, Dropout, Adam
    >>> plain = zoo.baseline("fashion_mlp")       # same net: sigmoid, small init, SGD
"""

from __future__ import annotations

import importlib
from importlib import metadata

try:
    __version__ = metadata.version("zoo")
except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0+unknown"

# Public name -> the module that defines it. The first four import no TensorFlow.
_EXPORTS = {
    "zoo.errors": ("DataError", "RecipeError", "RunError", "ZooError"),
    "zoo.recipe": ("Recipe", "get_recipe", "list_recipes"),
    "zoo.stacks": ("STACKS", "get_stack"),
    "zoo.catalog": ("DATASETS", "dataset_info"),
    "zoo.factories": ("get_activation", "get_initializer", "get_optimizer"),
    "zoo.layers": ("ForwardOnly", "RReLU", "Staircase"),
    "zoo.normalization": ("BatchNorm",),
    "zoo.blocks": ("conv_block", "dense_block", "residual_block"),
    "zoo.network": ("baseline", "build"),
    "zoo.data": ("from_arrays", "load"),
    "zoo.sources": ("read_data",),
    "zoo.tables": ("table_columns",),
    "zoo.fastpath": ("fit_fast",),
    "zoo.distribute": ("configure_devices", "make_strategy"),
    "zoo.training": ("TrainResult", "train"),
    "zoo.lrfind": ("lr_find",),
    "zoo.search": ("tune",),
    "zoo.diagnostics": ("diagnose",),
    "zoo.uncertainty": ("predict_mc",),
    "zoo.hub": ("list_pretrained", "load_pretrained"),
    "zoo.reuse": ("fine_tune", "transfer"),
    "zoo.pretrain": ("RBM", "DenoisingAutoencoder", "pretrain_layers"),
}
_OWNER = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_OWNER)


def __getattr__(name: str):
    # PEP 562: `zoo.build` imports zoo.network (and Keras) on first use, then caches the name here.
    # No module may share a public name: importing zoo.<module> sets that attribute on the package.
    if name in _OWNER:
        value = getattr(importlib.import_module(_OWNER[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
