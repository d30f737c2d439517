"""zoo: best-default-configuration deep nets for Keras 3 / TensorFlow.

Example:
    >>> import zoo
    >>> zoo.list_recipes("fashion_*")[:2]
    ['fashion_cnn', 'fashion_deep_mlp']
    >>> model = zoo.build("fashion_mlp")          # He init, BN, ELU, Dropout, Adam
    >>> plain = zoo.baseline("fashion_mlp")       # same net: sigmoid, small init, SGD
"""

__version__ = "0.1.0"

from zoo.blocks import conv_block, dense_block
from zoo.build import baseline, build
from zoo.catalog import DATASETS, dataset_info
from zoo.data import from_arrays, load
from zoo.diagnostics import diagnose
from zoo.errors import DataError, RecipeError, RunError, ZooError
from zoo.fastpath import fit_fast
from zoo.recipe import Recipe, get_recipe, list_recipes
from zoo.stack import STACKS, get_activation, get_initializer, get_optimizer, get_stack
from zoo.hub import list_pretrained, load_pretrained
from zoo.layers import RReLU
from zoo.pretrain import RBM, DenoisingAutoencoder, pretrain_layers
from zoo.reuse import fine_tune, transfer
from zoo.train import TrainResult, train
from zoo.uncertainty import predict_mc

__all__ = [
    "DATASETS", "DataError", "Recipe", "RecipeError", "RunError", "STACKS", "TrainResult", "ZooError",
    "baseline", "build", "fit_fast", "conv_block", "dataset_info", "dense_block", "from_arrays", "get_activation",
    "get_initializer", "get_optimizer", "get_recipe", "get_stack", "list_recipes", "load", "predict_mc", "RReLU", "train",
    "diagnose", "fine_tune", "list_pretrained", "load_pretrained", "transfer",
    "RBM", "DenoisingAutoencoder", "pretrain_layers",
]
