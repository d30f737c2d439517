"""Reuse a trained network: a new head, a frozen body, then careful fine-tuning.

Frozen BatchNormalization layers run in inference mode (Keras does this for any BN layer
with `trainable = False`): they keep normalizing with the statistics learned on the big source
task instead of re-estimating them from the small new task's batches, which would shift every
activation the frozen layers above were trained on.

Examples:
    >>> import zoo
    >>> new = transfer(zoo.build("fashion_mlp"), num_classes=2, freeze="all")
    >>> new.output_shape, sum(layer.trainable for layer in new.layers[1:-1])
    ((None, 2), 0)
"""

from __future__ import annotations

from typing import Any

import keras

from zoo.errors import DataError, RecipeError
from zoo.nets.factories import get_optimizer
from zoo.recipes.budget import adapted_batch
from zoo.recipes.schema import Field, check_argument, count_field
from zoo.training.pipelines import ShuffleEpoch, batches


def _body_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The top-level layers between the input and the output head."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(layers) < 2:
        raise RecipeError(f"model {model.name!r} has no body below its head to reuse")
    return layers[:-1]


def replace_head(model: keras.Model, num_classes: int, name: str = "output") -> keras.Model:
    """The same body (the same layer objects) under a new softmax head of `num_classes` units."""
    check_argument("num_classes", num_classes, count_field(1))
    _body_layers(model)  # a model with nothing under its head has nothing to reuse
    # The old head's input is the body's output in this model's own graph.
    head = keras.layers.Dense(num_classes, activation="softmax", name=name)(model.layers[-1].input)
    return keras.Model(model.inputs, head, name=f"{model.name}_transfer")


def _layer_count(name: str, value: str | int, words: dict[str, int], body: list) -> int:
    """A number of body layers given as a word ("all", "none") or an integer from 0 to len(body)."""
    try:
        if isinstance(value, str):
            return words[Field(str, None, name, choices=tuple(words)).check(name, value)]
        return count_field(0, len(body)).check(name, value)
    except RecipeError:
        raise RecipeError(
            f"{name} = {value!r} is not allowed; expected {', '.join(repr(w) for w in words)} or an integer "
            f"from 0 to {len(body)} (the body's layers: {', '.join(layer.name for layer in body)})"
        ) from None


def set_frozen(model: keras.Model, freeze: str | int) -> None:
    """Freeze the whole body ("all"), nothing ("none"), or its first `freeze` layers."""
    body = _body_layers(model)
    count = _layer_count("freeze", freeze, {"all": len(body), "none": 0}, body)
    for index, layer in enumerate(body):
        layer.trainable = index >= count


def transfer(
    source: keras.Model,
    num_classes: int,
    freeze: str | int = "all",
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    input_shape=None,
) -> keras.Model:
    """A compiled copy of `source` with a new head; `source` itself is never modified.

    This is zoo's one way to put a new head on a network: `load_pretrained(name, num_classes=)`
    and `fine_tune` both come here. `freeze` is "all", "none", or how many of the lowest body
    layers to freeze. Pass `input_shape` to check the new data fits the source model before training.

    Examples:
        >>> import zoo
        >>> transfer(zoo.build("fashion_mlp"), num_classes=3, freeze=1).output_shape
        (None, 3)
    """
    if input_shape is not None and tuple(input_shape) != tuple(source.input_shape[1:]):
        raise DataError(
            f"the new data has examples of shape {tuple(input_shape)}; "
            f"{source.name!r} takes {tuple(source.input_shape[1:])}"
        )
    copy = keras.models.clone_model(source)
    copy.set_weights(source.get_weights())
    model = replace_head(copy, num_classes)
    set_frozen(model, freeze)
    model.compile(
        optimizer=get_optimizer(optimizer, learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def fine_tune(
    source: keras.Model,
    data,
    num_classes: int | None = None,
    head_epochs: int = 10,
    tune_epochs: int = 10,
    unfreeze: str | int = "all",
    learning_rate: float = 1e-3,
    tune_learning_rate: float = 1e-4,
    verbose: int = 0,
    batch_size: int = 32,
    seed: int = 0,
) -> tuple[keras.Model, dict[str, Any]]:
    """Two phases: train a new head on a frozen body, then unfreeze and train on at a lower rate.

    `unfreeze` is "all" or how many of the *top* body layers to train in phase two. The lower
    rate keeps phase two from wrecking the reused features. `data` is a `zoo.data.Splits`,
    served in batches of `batch_size`, shuffled from `seed`.
    """
    num_classes = num_classes or data.info.num_classes
    examples = data.sizes["train"]
    if isinstance(batch_size, int) and batch_size > examples:  # named as the caller named it, not as a recipe key
        raise DataError(
            f"batch_size = {batch_size} is more than the {examples} training examples; pass a smaller one, e.g. "
            f"zoo.recipes.budget.adapted_batch({batch_size}, {examples}) = {adapted_batch(batch_size, examples)}"
        )
    served = batches(data, batch_size=batch_size, seed=seed)
    model = transfer(source, num_classes, "all", learning_rate=learning_rate, input_shape=data.info.input_shape)
    # A shuffled zoo pipeline reshuffles per epoch only when told the epoch (ShuffleEpoch).
    shuffle = [ShuffleEpoch(served.train)]
    head = model.fit(
        served.train,
        validation_data=served.validation,
        epochs=head_epochs,
        verbose=verbose,
        shuffle=False,
        callbacks=shuffle,
    )
    body = _body_layers(model)
    set_frozen(model, len(body) - _layer_count("unfreeze", unfreeze, {"all": len(body)}, body))
    # Recompiling is what makes the new trainable flags take effect.
    model.compile(
        optimizer=get_optimizer("adam", tune_learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    tune = (
        model.fit(
            served.train,
            validation_data=served.validation,
            epochs=tune_epochs,
            verbose=verbose,
            shuffle=False,
            callbacks=shuffle,
        )
        if tune_epochs
        else None
    )
    return model, {"head": head.history, "fine_tune": tune.history if tune else {}}
