"""Recipe -> compiled keras.Model, and the same network built the plain pre-2010 way.

`build(recipe)` uses the recipe's stack; `baseline(recipe)` keeps the architecture (layer
sizes, depth, batch size, epochs) and swaps in the baseline stack: sigmoid units, N(0, 1/fan_in)
weights, no BatchNorm, no dropout, no regularization, plain SGD.

Examples:
    >>> import zoo
    >>> model = zoo.build(zoo.get_recipe("mlp"), input_shape=(28, 28, 1), num_classes=10)
    >>> type(model.optimizer).__name__
    'Adam'
"""

from __future__ import annotations

import contextlib
import math
import os

import keras

from zoo.errors import RecipeError
from zoo.nets.blocks import (
    REGULARIZATION_FIELDS,
    conv_block,
    dense_block,
    dropout_layers,
    kernel_extras,
    residual_block,
)
from zoo.nets.factories import get_activation, get_initializer, get_optimizer
from zoo.nets.layers import EpochPiecewise, OneCycle, SmoothedSparseCrossentropy, StandardizedSquaredError
from zoo.nets.normalization import BatchNorm
from zoo.nets.precision import precision_scope
from zoo.nets.recurrent import recurrent_body, recurrent_parameters
from zoo.nets.shapes import check_input_shape, cnn_plan
from zoo.nets.tabular import PeriodicEmbedding
from zoo.recipes.catalog import ANY, get_dataset_info
from zoo.recipes.recipe import Recipe, get_recipe, recipe_stack
from zoo.recipes.stacks import Stack


def leaf_layers(model: keras.Model):
    """Every layer of `model`, looking inside its blocks (which are small Sequential models).

    Examples:
        >>> sum(isinstance(layer, keras.layers.BatchNormalization) for layer in leaf_layers(build("fashion_mlp")))
        2
    """
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def estimated_parameters(recipe: Recipe, input_shape: tuple[int, ...], num_classes: int) -> int:
    """The weights the recipe's network will have, counted before building it (kernels; biases and BN are small).

    Examples:
        >>> estimated_parameters(get_recipe("fashion_mlp", hidden=[100]), (28, 28, 1), 10)
        79400
    """
    model = recipe.model
    features, total = math.prod(input_shape), 0
    if model.kind == "resnet":
        channels = input_shape[-1]
        total += model.kernel_size**2 * channels * model.filters[0]  # the stem
        channels = model.filters[0]
        for index, filters in enumerate(model.filters):
            total += model.kernel_size**2 * (channels + (2 * model.blocks_per_stage - 1) * filters) * filters
            total += channels * filters if channels != filters or index > 0 else 0  # the 1x1 projection shortcut
            channels = filters
        features = channels  # global average pooling
    if model.kind == "rnn":
        total, features = recurrent_parameters(model, input_shape)
    if model.kind == "cnn":
        channels = input_shape[-1]
        for filters in model.filters:
            total += model.kernel_size**2 * (channels + (model.convs_per_block - 1) * filters) * filters
            channels = filters
        _, (height, width) = cnn_plan(model, input_shape)
        features = height * width * channels
    for units in [*model.hidden, num_classes]:
        total += features * units
        features = units
    return total


def _check_memory(recipe: Recipe, shape: tuple[int, ...], num_classes: int) -> None:
    """Refuse a network whose weights, gradients and optimizer slots (about 4 copies) exceed free memory."""
    needed = 4 * 4 * estimated_parameters(recipe, shape, num_classes)  # float32, ~4 copies in training
    available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else None
    if available and needed > available and not os.environ.get("ZOO_ALLOW_LARGE_MODELS"):
        raise RecipeError(
            f"{recipe.name} needs about {needed / 2**30:.1f} GiB for its weights, gradients and optimizer "
            f"state, and this machine has {available / 2**30:.1f} GiB available; use smaller "
            "model.hidden or model.filters, or set ZOO_ALLOW_LARGE_MODELS=1 to try anyway"
        )


def _network(
    recipe: Recipe, stack: Stack, input_shape, num_classes, target_stats=None, numeric_features: int = 0
) -> keras.Model:
    model = recipe.model
    seed = recipe.train.seed
    # The kernel penalties and bounds go into every block; augmentation belongs to the data pipeline.
    regularization = {key: recipe.regularization[key] for key in REGULARIZATION_FIELDS}
    inputs = keras.Input(input_shape, name="inputs")
    x = inputs
    if model.kind == "cnn":
        paddings, _ = cnn_plan(model, input_shape)
        for index, filters in enumerate(model.filters):
            x = conv_block(
                filters,
                model.kernel_size,
                model.convs_per_block,
                stack=stack,
                pool_first=model.pool_first,
                padding=paddings[index],
                name=f"conv_block_{index + 1}",
                seed=seed * 1000 + 100 + 10 * index,
                **regularization,
            )(x)
    if model.kind == "resnet":
        x = _residual_body(x, model, stack, seed, regularization)
    elif model.kind == "rnn":
        x = recurrent_body(x, model, seed, regularization)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    if model.kind == "mlp" and model.numeric_embedding == "periodic" and numeric_features:
        x = PeriodicEmbedding(numeric_features, seed=seed * 1000 + 400, name="numeric_embedding")(x)
    for index, units in enumerate(model.hidden):
        x = dense_block(
            units, stack=stack, name=f"hidden_{index + 1}", seed=seed * 1000 + 500 + index, **regularization
        )(x)
    regression = recipe.task == "regression"  # one linear output; classification: a softmax over the classes
    # In float32 whatever the precision: a softmax or a regression output in 16 bits loses too much.
    outputs = keras.layers.Dense(
        1 if regression else num_classes,
        activation=None if regression else "softmax",
        kernel_initializer="zeros"
        if model.zero_output
        else get_initializer(stack.init, seed * 1000 + 999, stack.init_std),
        name="output",
        dtype="float32",
    )(x)
    if regression and target_stats is not None:
        # The net predicts a standardized target; this maps it back, so it starts at the training
        # mean and its losses and predictions are in the target's own units.
        mean, std = target_stats
        outputs = keras.layers.Rescaling(std, offset=mean, name="target_scale", dtype="float32")(outputs)
    return keras.Model(inputs, outputs, name=recipe.name)


def _residual_body(x, model, stack: Stack, seed: int, regularization: dict):
    """Stem conv, then the residual stages (the first at full size, each later one striding 2), then
    global average pooling and the stack's dropout: the head of a residual net (He et al. 2016)."""
    x = keras.layers.Conv2D(
        model.filters[0],
        model.kernel_size,
        padding="same",
        use_bias=not stack.batch_norm,
        kernel_initializer=get_initializer(stack.init, seed * 1000 + 50, stack.init_std),
        name="stem",
        **kernel_extras(regularization),
    )(x)
    if stack.batch_norm:
        x = BatchNorm(name="stem_batch_norm")(x)
    x = get_activation(stack.activation, "stem_activation", stack)(x)
    channels = model.filters[0]
    for stage, filters in enumerate(model.filters):
        for block in range(model.blocks_per_stage):
            x = residual_block(
                filters,
                channels,
                strides=2 if stage > 0 and block == 0 else 1,
                kernel_size=model.kernel_size,
                stack=stack,
                name=f"stage_{stage + 1}_block_{block + 1}",
                seed=seed * 1000 + 100 + 40 * stage + 4 * block,
                **regularization,
            )(x)
            channels = filters
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    for layer in dropout_layers(stack):
        x = layer(x)
    return x


def _scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def learning_rate_schedule(recipe: Recipe, steps_per_epoch: int):
    """The optimizer's learning rate: a float, or a schedule that counts optimizer steps.

    ``plateau`` is a float here: ReduceLROnPlateau, a training callback, lowers it.

    Examples:
        >>> recipe = get_recipe("fashion_mlp", schedule="exponential", decay_rate=0.5, learning_rate=1e-3)
        >>> round(float(learning_rate_schedule(recipe, 100)(200)), 6)
        0.00025
    """
    train = recipe.train
    if train.schedule == "exponential":
        # Smooth decay: the rate falls by decay_rate over every epoch's worth of steps.
        return keras.optimizers.schedules.ExponentialDecay(train.learning_rate, steps_per_epoch, train.decay_rate)
    if train.schedule == "piecewise":
        return EpochPiecewise(train.learning_rate, train.boundaries, train.factors, steps_per_epoch)
    if train.schedule == "1cycle":
        return OneCycle(train.learning_rate, steps_per_epoch * train.epochs)
    if train.schedule == "cosine":
        # Loshchilov & Hutter 2017 (without restarts), after a linear warm-up (Goyal et al. 2017). The
        # warm-up starts one step's worth up the ramp, not at 0: a first step at rate 0 would be wasted.
        warmup = steps_per_epoch * min(train.warmup_epochs, train.epochs - 1)
        return keras.optimizers.schedules.CosineDecay(
            train.learning_rate / warmup if warmup else train.learning_rate,
            max(1, steps_per_epoch * train.epochs - warmup),
            warmup_target=train.learning_rate if warmup else None,
            warmup_steps=warmup,
        )
    return train.learning_rate


# The validation metric that early stopping, searches and reports maximize, by task. R^2 is
# regression's accuracy: 1 is perfect, 0 is no better than predicting the mean.
SCORES = {"classification": "accuracy", "regression": "r2"}


def score_name(recipe: Recipe) -> str:
    """The metric a recipe's runs are judged by: "accuracy", or "r2" for regression.

    Examples:
        >>> score_name(get_recipe("fashion_mlp")), score_name(get_recipe("fashion_mlp", task="regression"))
        ('accuracy', 'r2')
    """
    return SCORES["regression" if recipe.task == "regression" else "classification"]


def _metrics(recipe: Recipe) -> list:
    if recipe.task == "regression":
        return [keras.metrics.R2Score(name="r2"), keras.metrics.MeanAbsoluteError(name="mae")]
    return ["accuracy"]


def loss(recipe: Recipe, target_stats: tuple[float, float] | None = None):
    """Sparse cross-entropy, with the recipe's label smoothing (Szegedy et al. 2016) when set; for
    regression, the squared error in units of the target's variance (`target_stats` (mean, std)).

    Examples:
        >>> type(loss(get_recipe("fashion_mlp", label_smoothing=0.1))).__name__
        'SmoothedSparseCrossentropy'
    """
    if recipe.task == "regression":
        return StandardizedSquaredError(target_stats[1] ** 2 if target_stats else 1.0)
    smoothing = recipe.train.label_smoothing
    return SmoothedSparseCrossentropy(smoothing) if smoothing else "sparse_categorical_crossentropy"


def resolve_jit_compile(recipe: Recipe, strategy=None) -> bool | str:
    """What `model.compile(jit_compile=...)` gets for the recipe's `train.jit_compile`.

    "auto" turns XLA on for dense nets (model.kind = "mlp") on the TensorFlow backend, where
    Keras's own rule would leave it off on a CPU: fused into one XLA program, a small dense
    net's training step does less per-operation work (fashion_mlp's step at batch 32 went from
    6.0 to 4.2 ms on a 2-core machine; `zoo experiment speed` measures the whole path). Conv
    nets keep Keras's rule: XLA's CPU convolutions measured no faster than TensorFlow's. On
    other backends "auto" is Keras's rule (on for JAX). A `tf.distribute` strategy never gets
    XLA here, as Keras's rule also has it.

    Examples:
        >>> resolve_jit_compile(get_recipe("fashion_mlp", jit_compile="off"))
        False
    """
    if strategy is not None or recipe.train.jit_compile == "off":
        return False
    if recipe.train.jit_compile == "on":
        return True
    if keras.backend.backend() == "tensorflow" and recipe.model.kind == "mlp":
        return True
    return "auto"


def build(
    recipe: Recipe | str,
    input_shape=None,
    num_classes=None,
    strategy=None,
    steps_per_epoch=None,
    target_stats: tuple[float, float] | None = None,
    numeric_features: int = 0,
) -> keras.Model:
    """Build and compile the recipe's network with its own stack.

    `input_shape` and `num_classes` default to the recipe's dataset; pass them to use the
    recipe on other data. With a `tf.distribute` `strategy`, variables are made in its scope.
    `steps_per_epoch` sizes step-based schedules (default: from the dataset's size).
    For regression, `target_stats` (mean, std) of the training targets scale the one output.
    `numeric_features`: a table's numeric columns (first in each row), which `model.numeric_embedding` embeds.

    Examples:
        >>> model = build("fashion_mlp", input_shape=(8, 8, 1), num_classes=3)
        >>> model.output_shape
        (None, 3)
    """
    recipe = get_recipe(recipe)  # a Recipe comes back as it is
    if recipe.dataset == ANY and (input_shape is None or (num_classes is None and recipe.task != "regression")):
        raise RecipeError(
            f"{recipe.name} fits any data, so it has no input shape or classes of its own; pass "
            "input_shape= and num_classes=, or train it with --data"
        )
    info = get_dataset_info(recipe.dataset) if recipe.dataset != ANY else None
    if recipe.task == "regression":
        num_classes = 2  # the check below wants a class count; a regression net has one output whatever it is
    shape, classes = check_input_shape(input_shape or info.input_shape, num_classes or info.num_classes, recipe)
    _check_memory(recipe, shape, classes)
    stack = recipe_stack(recipe)
    if steps_per_epoch is None:
        examples = info.train_examples - recipe.validation_size if info else 1000  # "any": callers pass their own
        steps_per_epoch = max(1, math.ceil(examples / recipe.train.batch_size))
    train = recipe.train
    with _scope(strategy), precision_scope(train.precision):
        model = _network(recipe, stack, shape, classes, target_stats, numeric_features)
        model.compile(
            optimizer=get_optimizer(
                train.optimizer,
                learning_rate_schedule(recipe, steps_per_epoch),
                train.clipnorm,
                train.clipvalue,
                ema=train.ema,
            ),
            loss=loss(recipe, target_stats),
            metrics=_metrics(recipe),
            # Under a strategy, several steps per execution failed in Keras 3.15 / TF 2.21 ("You must
            # feed a value for placeholder tensor" in multi_step_on_iterator): one step per call there.
            steps_per_execution=train.steps_per_execution if strategy is None else 1,
            jit_compile=resolve_jit_compile(recipe, strategy),
        )
    return model


def build_for(recipe: Recipe, data, **options) -> keras.Model:
    """`build` sized from a `zoo.data.builtin.Splits`: its input shape, its classes, its regression target's scale.

    Examples:
        >>> from zoo.data.builtin import load
        >>> build_for(get_recipe("fashion_mlp"), load("digits", validation_size=200)).input_shape
        (None, 8, 8, 1)
    """
    target_stats = None
    if recipe.task == "regression":
        y = data.arrays["train"][1]
        target_stats = (float(y.mean()), float(y.std()) or 1.0)
    return build(
        recipe,
        input_shape=data.info.input_shape,
        num_classes=data.info.num_classes,
        target_stats=target_stats,
        numeric_features=data.info.numeric_features,
        **options,
    )
