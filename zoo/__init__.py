"""zoo: best-default-configuration deep nets for Keras 3 / TensorFlow.

The public API is one hop away, and loaded lazily: `import zoo` and reading recipes import no
TensorFlow; the first use of a name that needs Keras (`zoo.build`, `zoo.train`, ...) imports it.
The package is laid out by role, and data flows one way (an import-linter contract checks it):
`zoo.recipes` -> `zoo.nets` -> `zoo.data` -> `zoo.training` -> `zoo.hub` -> `zoo.tools`, with
`zoo.experiments` and `zoo.cli` on top and `zoo.reports` (records, plots) beneath them all.
Custom layers are registered with Keras when `zoo.nets.layers` loads; any zoo function that builds
or loads a model does that, and `import zoo.nets.layers` does it for a plain `keras.saving.load_model`.

Examples:
    >>> import zoo
    >>> zoo.list_recipes("fashion_*mlp")
    ['fashion_deep_mlp', 'fashion_mlp']
    >>> model = zoo.build("fashion_mlp")          # He init, BN, ELU, Dropout, Adam
    >>> plain = zoo.baseline("fashion_mlp")       # same net: sigmoid, small init, SGD
    >>> data = zoo.load_data("digits", validation_size=200)   # or a path, (x, y), a DataFrame, a tf.data.Dataset
    >>> zoo.batches(data, zoo.get_recipe("fashion_mlp", batch_size=64)).steps_per_epoch
    20
"""

from __future__ import annotations

import importlib
import os
from importlib import metadata

# TensorFlow runs its CPU ops through oneDNN by default only on CPUs with AVX-512-class features; elsewhere (AVX2
# machines like this project's) it leaves them on Eigen's kernels, and conv nets train 1.4-2.4x slower there
# (docs/speed.md: fashion_cnn_tiny's steps at 9,300-10,200 images a second with oneDNN, 4,050-4,390 without).
# Set before anything imports TensorFlow, which reads it once; a user's own TF_ENABLE_ONEDNN_OPTS is kept.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

try:
    __version__ = metadata.version("zoo")
except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0+unknown"

# Public name -> the module that defines it, package by package in the order data flows. One way
# per task: `load_data` takes every kind of data, `get_recipe(recipe, **overrides)` makes every
# variant, `batches` is the one place arrays become tf.data pipelines; `list_*` names what there is,
# `get_*` returns a description, `load_*` reads data or a model. The first three groups import no TensorFlow.
_EXPORTS = {
    "zoo.errors": ("DataError", "IntegrityError", "RecipeError", "RunError", "ZooError"),
    "zoo.recipes.recipe": ("Recipe", "get_recipe"),
    "zoo.recipes.registry": ("list_recipes",),
    "zoo.recipes.stacks": ("STACKS", "get_stack"),
    "zoo.recipes.catalog": ("DATASETS", "get_dataset_info", "list_datasets"),
    "zoo.nets.factories": ("get_activation", "get_initializer", "get_optimizer"),
    "zoo.nets.layers": ("ForwardOnly", "RReLU", "Staircase"),
    "zoo.nets.normalization": ("BatchNorm",),
    "zoo.nets.blocks": ("conv_block", "dense_block", "residual_block"),
    "zoo.nets.network": ("build",),
    "zoo.nets.plain": ("baseline",),
    "zoo.data.builtin": ("Splits",),
    "zoo.data.sources": ("load_data",),
    "zoo.data.columns": ("table_columns",),
    "zoo.training.pipelines": ("Batches", "batches"),
    "zoo.training.fastpath": ("fit_fast",),
    "zoo.training.distribute": ("configure_devices", "make_strategy"),
    "zoo.training.trainer": ("TrainResult", "train"),
    "zoo.training.pretrain": ("RBM", "DenoisingAutoencoder", "pretrain_layers"),
    "zoo.hub.saved": ("list_pretrained", "load_pretrained", "save_pretrained"),
    "zoo.hub.reuse": ("fine_tune", "transfer"),
    "zoo.hub.presets": ("from_preset", "save_preset"),
    "zoo.tools.bench": ("bench",),
    "zoo.tools.lrfind": ("LRFindResult", "lr_find"),
    "zoo.tools.search": ("TuneResult", "tune"),
    "zoo.training.diagnostics": ("diagnose",),
    "zoo.tools.uncertainty": ("predict_mc",),
    "zoo.tools.estimators": ("Classifier", "Regressor"),
}
_OWNER = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_OWNER)
# Last release's names, kept one release as aliases that raise a DeprecationWarning (zoo._deprecated).
_DEPRECATED = ("dataset_info", "from_arrays", "load", "read_data")


def __getattr__(name: str):
    # PEP 562: `zoo.build` imports zoo.nets.network (and Keras) on first use, then caches the name here.
    # No package may share a public name: importing zoo.<package> sets that attribute on zoo.
    if name in _OWNER:
        if not _OWNER[name].startswith(("zoo.errors", "zoo.recipes")):
            # The first name that needs TensorFlow imports it with its start-up noise filtered, as the
            # command line does (a user's own TF_CPP_MIN_LOG_LEVEL is kept).
            importlib.import_module("zoo.reports.console").quiet_tensorflow()
        value = getattr(importlib.import_module(_OWNER[name]), name)
        globals()[name] = value
        return value
    if name in _DEPRECATED:  # not cached: each use warns
        return importlib.import_module("zoo._deprecated").ALIASES[name]
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
