"""Every recipe key: its type, default, allowed values and what it does, section by section.

Plain data over `zoo.recipes.schema.Field`; no TensorFlow. `zoo.recipes.recipe` parses TOML against it, and
the README's key table is checked against it by the test suite.
"""

from __future__ import annotations

import dataclasses

from zoo.recipes.catalog import ANY, DATASETS
from zoo.recipes.schema import Field
from zoo.recipes.stacks import STACK_FIELDS, STACKS

SCHEDULES = ("constant", "exponential", "piecewise", "plateau", "1cycle", "cosine")
AUGMENTATIONS = ("flip", "crop", "translate", "rotate", "zoom", "erase", "noise")
PRETRAIN_METHODS = ("none", "rbm", "dae")
DISTRIBUTE = ("none", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16", "auto")
# train.ema's average moves 1% of the way each step (Keras's default, spelled out so that the
# optimizer (zoo.nets.factories) and the PyTorch twin (zoo.experiments.torch_twin) keep the same average).
EMA_MOMENTUM = 0.99

# The [model] keys that only some kinds of net read (their help says so too); `zoo show` leaves the
# others out, so an MLP's recipe shows no filters or cell. Keys not named here apply to every kind.
MODEL_KINDS = {
    "filters": ("cnn", "resnet"),
    "kernel_size": ("cnn", "resnet"),
    "convs_per_block": ("cnn",),
    "pool_first": ("cnn",),
    "padding": ("cnn",),
    "blocks_per_stage": ("resnet",),
    "cell": ("rnn",),
    "recurrent": ("rnn",),
    "recurrent_init_gain": ("rnn",),
    "numeric_embedding": ("mlp",),
}

# Section "" holds the top-level keys. Keys whose default is None take it from the named stack.
SCHEMA: dict[str, dict[str, Field]] = {
    "": {
        "name": Field(
            str, None, "recipe name: a lower-case letter, then lower-case letters, digits and underscores; at most 64"
        ),
        "description": Field(str, "", "one line saying what the recipe is for"),
        "dataset": Field(
            str,
            "fashion_mnist",
            "dataset the recipe trains on; any: an architecture recipe, data from --data",
            choices=(*DATASETS, ANY),
        ),
        "task": Field(
            str,
            "auto",
            "what the net predicts; auto: regression when the target holds non-integer numbers or too many distinct "
            "whole numbers to be classes (zoo.data.sources.AUTO_CLASSES), else classification",
            choices=("auto", "classification", "regression"),
        ),
        "validation_size": Field(int, 5000, "training examples held out (fixed seed) for validation", minimum=1),
    },
    "model": {
        "kind": Field(str, "mlp", "architecture family", choices=("mlp", "cnn", "resnet", "rnn")),
        "hidden": Field(int, [300, 100], "units of each hidden dense layer", list_of=True, minimum=1),
        "filters": Field(
            int, [32, 64], "cnn, resnet: filters of each conv block or residual stage", list_of=True, minimum=1
        ),
        "kernel_size": Field(int, 3, "cnn, resnet: side of each square conv kernel", minimum=1),
        "convs_per_block": Field(int, 2, "cnn only: conv layers before each 2x2 max-pool", minimum=1),
        "pool_first": Field(
            bool,
            False,
            "cnn only: max-pool right after each block's last conv, before its BatchNorm and activation (airbench's "
            "order): they then run on a quarter of the values",
        ),
        "padding": Field(
            str,
            "same",
            "cnn only: same keeps each conv's output the size of its input; valid trims kernel_size - 1 pixels "
            "(Keras's default), but only where the conv's input is at least 4 x (kernel_size - 1) pixels on its "
            "shorter side",
            choices=("same", "valid"),
        ),
        "blocks_per_stage": Field(
            int,
            2,
            "resnet only: residual blocks per stage (each stage after the first halves the image side)",
            minimum=1,
        ),
        "cell": Field(str, "gru", "rnn only: recurrent cell", choices=("simple_rnn", "gru", "lstm")),
        "recurrent": Field(
            int, [128], "rnn only: units of each recurrent layer (images are read row by row)", list_of=True, minimum=1
        ),
        "recurrent_init_gain": Field(
            float,
            1.0,
            "rnn only: gain of the orthogonal recurrent init (above 1, gradients through time can explode)",
            minimum=0.0,
            min_exclusive=True,
        ),
        "numeric_embedding": Field(
            str,
            "none",
            "mlp on a table only: embed each numeric column periodically (RealMLP's PBLD) before the hidden layers",
            choices=("none", "periodic"),
        ),
        "zero_output": Field(
            bool, False, "start the output layer's weights at zero (RealMLP): every class equally likely at step 0"
        ),
    },
    "stack": {
        "name": Field(str, "default", "named stack the other [stack] keys default to", choices=tuple(STACKS)),
        **{key: dataclasses.replace(field, default=None) for key, field in STACK_FIELDS.items() if key != "optimizer"},
    },
    "regularization": {
        "l1": Field(float, 0.0, "L1 penalty on every hidden kernel (0 = off)", minimum=0.0),
        "l2": Field(float, 0.0, "L2 penalty on every hidden kernel (0 = off)", minimum=0.0),
        "max_norm": Field(float, 0.0, "max-norm bound on each hidden unit's incoming weights (0 = off)", minimum=0.0),
        "augment": Field(str, [], "image augmentations, training batches only", list_of=True, choices=AUGMENTATIONS),
        "augment_amount": Field(
            float,
            0.1,
            "augmentation strength: crop/shift/zoom fraction of the image side, rotation x 180 degrees, noise std x 2",
            minimum=0.0,
            maximum=1.0,
            min_exclusive=True,
        ),
    },
    "train": {
        "optimizer": dataclasses.replace(STACK_FIELDS["optimizer"], default=None),
        "learning_rate": Field(float, 1e-3, "optimizer step size", minimum=0.0, min_exclusive=True),
        "batch_size": Field(int, 32, "examples per gradient step", minimum=1),
        "epochs": Field(int, 30, "maximum passes over the training set", minimum=1),
        "steps": Field(
            int,
            0,
            "optimizer steps to train for: epochs follow from the data's size, so 150 examples get as "
            "many updates as 50,000 (0 = train.epochs)",
            minimum=0,
        ),
        "min_epochs": Field(
            int,
            0,
            "with train.steps: train at least this many epochs, so a large set gets whole passes too (0 = no floor)",
            minimum=0,
            maximum=10_000,
        ),
        "adapt_batch": Field(
            bool,
            False,
            "cap the batch at an eighth of the training examples (a power of two, at least 8) instead of "
            "refusing a batch larger than the data",
        ),
        "early_stopping_patience": Field(int, 5, "epochs without validation gain before stopping (0 = off)", minimum=0),
        "schedule": Field(str, "constant", "learning-rate schedule", choices=SCHEDULES),
        "decay_rate": Field(
            float, 0.9, "exponential: rate multiplier per epoch", minimum=0.0, maximum=1.0, min_exclusive=True
        ),
        "boundaries": Field(int, [10, 20], "piecewise: epochs where the rate changes", list_of=True, minimum=1),
        "factors": Field(
            float,
            [1.0, 0.1, 0.01],
            "piecewise: rate multiplier per piece (one more than boundaries)",
            list_of=True,
            minimum=0.0,
            min_exclusive=True,
            min_length=1,
        ),
        "plateau_factor": Field(
            float,
            0.5,
            "plateau: rate multiplier when validation loss stalls",
            minimum=0.0,
            maximum=1.0,
            min_exclusive=True,
            max_exclusive=True,
        ),
        "plateau_patience": Field(
            int, 2, "plateau: epochs without validation-loss gain before cutting the rate", minimum=1
        ),
        "warmup_epochs": Field(
            int, 0, "cosine: epochs of linear warm-up from 0 to learning_rate before the decay", minimum=0
        ),
        "label_smoothing": Field(
            float,
            0.0,
            "share of each target spread evenly over all classes (0 = off)",
            minimum=0.0,
            maximum=1.0,
            max_exclusive=True,
        ),
        "ema": Field(
            bool, False, f"evaluate and save an exponential moving average of the weights (momentum {EMA_MOMENTUM})"
        ),
        "bn_start": Field(
            bool,
            False,
            "start BatchNorm's moving statistics at a training batch's, not 0 and 1, so that the first epochs "
            "of a short run validate with the data's statistics (training itself is unchanged)",
        ),
        "clipnorm": Field(float, 0.0, "clip each gradient to this norm (0 = off)", minimum=0.0),
        "clipvalue": Field(float, 0.0, "clip each gradient element to +-this value (0 = off)", minimum=0.0),
        "steps_per_execution": Field(
            int,
            32,
            "training steps per call into TensorFlow (fewer Python round trips; progress bars update every N steps)",
            minimum=1,
            maximum=10_000,  # beyond an epoch's steps it buys nothing; 1e9 exhausted memory
        ),
        "jit_compile": Field(
            str,
            "auto",
            "XLA-compile the training step; auto: on for dense nets on "
            "TensorFlow (measured faster on CPU), otherwise Keras decides (on with JAX and on GPUs)",
            choices=("auto", "on", "off"),
        ),
        "fast_path": Field(
            bool,
            True,
            "train through zoo's chunked XLA path where it applies (zoo.training.fastpath); "
            "false forces a plain Keras fit",
        ),
        "seed": Field(int, 0, "seed for weights, dropout and shuffling", minimum=0, maximum=2**31 - 1),
        "distribute": Field(
            str,
            "none",
            "tf.distribute strategy: mirrored (every GPU, or --devices N logical CPUs), "
            "multi_worker (TF_CONFIG); batch_size is the global batch",
            choices=DISTRIBUTE,
        ),
        "precision": Field(
            str,
            "float32",
            "mixed_float16 / mixed_bfloat16: 16-bit compute, float32 variables and "
            "output (Keras scales the float16 loss); auto: mixed_bfloat16 on a CPU that multiplies "
            "bfloat16 natively (AVX512_BF16, AMX) and no GPU, else float32",
            choices=PRECISIONS,
        ),
    },
    "baseline": {
        "learning_rates": Field(
            float,
            [0.01, 0.1, 1.0],
            "SGD learning rates tried for the baseline, picked on validation",
            list_of=True,
            minimum=0.0,
            min_exclusive=True,
            min_length=1,
        )
    },
    "pretrain": {
        "method": Field(
            str,
            "none",
            "greedy layer-wise pretraining of the hidden layers before training (mlp only)",
            choices=PRETRAIN_METHODS,
        ),
        "layer_epochs": Field(int, 5, "pretraining epochs per hidden layer", minimum=1),
        "layer_learning_rate": Field(
            float, 0.05, "pretraining step size (CD-k for rbm, SGD for dae)", minimum=0.0, min_exclusive=True
        ),
        "layer_batch_size": Field(int, 64, "pretraining examples per step", minimum=1),
        "cd_k": Field(int, 1, "rbm: Gibbs steps of contrastive divergence (CD-k)", minimum=1),
        "noise": Field(
            float,
            0.2,
            "dae: fraction of input values zeroed (masking noise)",
            minimum=0.0,
            maximum=1.0,
            max_exclusive=True,
        ),
        "momentum": Field(float, 0.5, "pretraining momentum", minimum=0.0, maximum=1.0, max_exclusive=True),
        "weight_decay": Field(float, 2e-4, "pretraining weight decay (0 = off)", minimum=0.0),
    },
    "bench": {
        "seeds": Field(int, 3, "training seeds per variant in `zoo bench` (median and spread reported)", minimum=1),
        "ablation": Field(bool, False, "`zoo bench` also trains the ladder from baseline to recipe"),
        "target_accuracy": Field(
            float, 0.85, "validation accuracy whose first crossing `zoo bench` times", minimum=0.0, maximum=1.0
        ),
        "goal_test_accuracy": Field(
            float,
            0.0,
            "median test accuracy the recipe claims; the report says met or not met (0 = no claim)",
            minimum=0.0,
            maximum=1.0,
        ),
    },
}


# Where each key's practice comes from: the paper that introduced or measured it (the docs' key table cites it).
CITATIONS = {
    "model.blocks_per_stage": "He et al. 2016",
    "model.cell": "Elman 1990; Cho et al. 2014; Hochreiter & Schmidhuber 1997",
    "model.recurrent_init_gain": "Saxe et al. 2014; Pascanu et al. 2013",
    "model.numeric_embedding": "Gorishniy et al. 2022; Holzmüller et al. 2024 (PBLD)",
    "model.zero_output": "Holzmüller et al. 2024",
    "stack.init": "He et al. 2015 (he_*); Glorot & Bengio 2010 (glorot_*); LeCun et al. 1998 (lecun_*)",
    "stack.activation": "Clevert et al. 2015 (elu); Klambauer et al. 2017 (selu); Maas et al. 2013 (leaky_relu); He "
    "et al. 2015 (prelu); Xu et al. 2015 (rrelu); Hendrycks & Gimpel 2016 (gelu); Ramachandran et al. 2017 (swish)",
    "stack.batch_norm": "Ioffe & Szegedy 2015",
    "stack.bn_position": "Ioffe & Szegedy 2015",
    "stack.negative_slope": "Maas et al. 2013",
    "stack.rrelu_lower": "Xu et al. 2015",
    "stack.rrelu_upper": "Xu et al. 2015",
    "stack.dropout": "Srivastava et al. 2014",
    "stack.dropout_kind": "Klambauer et al. 2017 (alpha)",
    "regularization.l1": "Tibshirani 1996",
    "regularization.l2": "Krogh & Hertz 1992",
    "regularization.max_norm": "Srivastava et al. 2014",
    "regularization.augment": "Simard et al. 2003",
    "train.optimizer": "Kingma & Ba 2014 (adam); Dozat 2016 (nadam); Loshchilov & Hutter 2017 (adamw); Nesterov "
    "1983; Tieleman & Hinton 2012 (rmsprop); Duchi et al. 2011 (adagrad)",
    "train.early_stopping_patience": "Prechelt 1998",
    "train.schedule": "Smith 2018 (1cycle)",
    "train.warmup_epochs": "Goyal et al. 2017",
    "train.label_smoothing": "Szegedy et al. 2016",
    "train.ema": "Polyak & Juditsky 1992",
    "train.clipnorm": "Pascanu et al. 2013",
    "train.clipvalue": "Pascanu et al. 2013",
    "train.precision": "Micikevicius et al. 2018",
    "pretrain.method": "Hinton, Osindero & Teh 2006 (rbm); Vincent et al. 2008 (dae)",
    "pretrain.cd_k": "Hinton 2002",
    "pretrain.noise": "Vincent et al. 2008",
}


def key_table() -> str:
    """Every recipe key as a Markdown table: what it allows, its default, what it does, where it comes from.

    The docs' key reference is this table (docs/gen_pages.py), so it cannot drift from the schema.

    Examples:
        >>> key_table().splitlines()[3]
        '| `description` | a string | "" | one line saying what the recipe is for |  |'
    """
    from zoo.recipes.registry import toml_value  # the TOML spelling of a default, as a recipe file writes it

    rows = ["| key | allowed | default | what it does | from |", "|---|---|---|---|---|"]
    for section, fields in SCHEMA.items():
        for key, field in fields.items():
            name = f"{section}.{key}" if section else key
            if field.default is not None:
                default = toml_value(field.default)
            else:
                default = "required" if not section else "the named stack's"
            allowed = field.allowed().replace("|", "\\|")
            rows.append(f"| `{name}` | {allowed} | {default} | {field.help} | {CITATIONS.get(name, '')} |")
    return "\n".join(rows) + "\n"
