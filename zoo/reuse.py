"""Reuse a trained network: a new head, a frozen body, then careful fine-tuning.

Frozen BatchNormalization layers run in inference mode (Keras does this for any BN layer
with `trainable = False`): they keep normalizing with the statistics learned on the big source
task instead of re-estimating them from the small new task's batches, which would shift every
activation the frozen layers above were trained on.

Example:
    >>> import zoo
    >>> new = transfer(zoo.build("fashion_mlp"), num_classes=2, freeze="all")
    >>> new.output_shape, sum(layer.trainable for layer in new.layers[1:-1])
    ((None, 2), 0)
"""

from __future__ import annotations

from typing import Any

import keras

from zoo.errors import DataError, RecipeError
from zoo.stack import get_optimizer


def _body_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The top-level layers between the input and the output head."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(layers) < 2:
        raise RecipeError(f"model {model.name!r} has no body below its head to reuse")
    return layers[:-1]


def replace_head(model: keras.Model, num_classes: int, name: str = "output") -> keras.Model:
    """The same body (the same layer objects) under a new softmax head of `num_classes` units."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise RecipeError(f"num_classes = {num_classes!r} is not allowed; expected an integer >= 1")
    _body_layers(model)  # a model with nothing under its head has nothing to reuse
    # The old head's input is the body's output in this model's own graph.
    head = keras.layers.Dense(num_classes, activation="softmax", name=name)(model.layers[-1].input)
    return keras.Model(model.inputs, head, name=f"{model.name}_transfer")


def set_frozen(model: keras.Model, freeze: str | int) -> None:
    """Freeze the whole body ("all"), nothing ("none"), or its first `freeze` layers."""
    body = _body_layers(model)
    if freeze == "all":
        count = len(body)
    elif freeze == "none":
        count = 0
    elif isinstance(freeze, int) and not isinstance(freeze, bool) and 0 <= freeze <= len(body):
        count = freeze
    else:
        raise RecipeError(f"freeze = {freeze!r} is not allowed; expected 'all', 'none' or an integer from 0 to {len(body)} "
                          f"(the body's layers: {', '.join(layer.name for layer in body)})")
    for index, layer in enumerate(body):
        layer.trainable = index >= count


def transfer(source: keras.Model, num_classes: int, freeze: str | int = "all", optimizer: str = "adam",
             learning_rate: float = 1e-3, input_shape=None) -> keras.Model:
    """A compiled copy of `source` with a new head; `source` itself is never modified.

    `freeze` is "all", "none", or how many of the lowest body layers to freeze. Pass
    `input_shape` to check the new data fits the source model before training.
    """
    if input_shape is not None and tuple(input_shape) != tuple(source.input_shape[1:]):
        raise DataError(f"the new data has examples of shape {tuple(input_shape)}; "
                        f"{source.name!r} takes {tuple(source.input_shape[1:])}")
    copy = keras.models.clone_model(source)
    copy.set_weights(source.get_weights())
    model = replace_head(copy, num_classes)
    set_frozen(model, freeze)
    model.compile(optimizer=get_optimizer(optimizer, learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def fine_tune(source: keras.Model, data, num_classes: int | None = None, head_epochs: int = 10, tune_epochs: int = 10,
              unfreeze: str | int = "all", learning_rate: float = 1e-3, tune_learning_rate: float = 1e-4,
              verbose: int = 0) -> tuple[keras.Model, dict[str, Any]]:
    """Two phases: train a new head on a frozen body, then unfreeze and train on at a lower rate.

    `unfreeze` is "all" or how many of the *top* body layers to train in phase two. The lower
    rate keeps phase two from wrecking the reused features. `data` is a `zoo.data.Splits`.
    """
    num_classes = num_classes or data.info.num_classes
    model = transfer(source, num_classes, "all", learning_rate=learning_rate, input_shape=data.info.input_shape)
    head = model.fit(data.train, validation_data=data.validation, epochs=head_epochs, verbose=verbose, shuffle=False)
    body = _body_layers(model)
    if unfreeze == "all":
        set_frozen(model, "none")
    elif isinstance(unfreeze, int) and not isinstance(unfreeze, bool) and 0 <= unfreeze <= len(body):
        set_frozen(model, len(body) - unfreeze)
    else:
        raise RecipeError(f"unfreeze = {unfreeze!r} is not allowed; expected 'all' or an integer from 0 to {len(body)}")
    # Recompiling is what makes the new trainable flags take effect.
    model.compile(optimizer=get_optimizer("adam", tune_learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    tune = model.fit(data.train, validation_data=data.validation, epochs=tune_epochs, verbose=verbose, shuffle=False) if tune_epochs else None
    return model, {"head": head.history, "fine_tune": tune.history if tune else {}}
