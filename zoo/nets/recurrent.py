"""The recurrent body of a `model.kind = "rnn"` net: an example read as a sequence, one step at a time.

An image of shape (height, width, channels) is read row by row: `height` steps of
`width x channels` values (Fashion-MNIST: 28 steps of 28 pixels). A table row or a flat
array of `n` values is read one value per step; an array of shape (steps, features) as it is.
Then the recurrent layers (`model.recurrent` units each, cells of kind `model.cell`); every
layer but the last hands its whole sequence to the next, the last hands on its final state.

The cells keep their own nonlinearity (tanh, and sigmoid gates for GRU and LSTM), the
Keras defaults for their input kernels (Glorot uniform), and an orthogonal recurrent kernel
times `model.recurrent_init_gain`: above 1 the recurrent map stretches its state at every
step, and gradients through time can explode (Pascanu, Mikolov and Bengio 2013); this is
what gradient clipping (`train.clipnorm`, `train.clipvalue`) was invented for. The stack's
activation, BatchNorm and dropout apply to the dense `model.hidden` layers after the body.

Examples:
    >>> import zoo
    >>> recipe = zoo.get_recipe("rnn", recurrent=[16], hidden=[])
    >>> model = zoo.build(recipe, input_shape=(28, 28, 1), num_classes=10)
    >>> [layer.name for layer in model.layers[1:]]
    ['sequence', 'recurrent_1', 'output']
"""

from __future__ import annotations

import math

import keras

from zoo.nets.blocks import kernel_extras

CELLS = {"simple_rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}
# Weight matrices per cell: SimpleRNN has one input and one recurrent kernel, a GRU three of each, an LSTM four.
GATES = {"simple_rnn": 1, "gru": 3, "lstm": 4}


def sequence_shape(input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(steps, features per step) for an example of `input_shape`.

    Examples:
        >>> sequence_shape((28, 28, 1)), sequence_shape((30,)), sequence_shape((50, 2))
        ((28, 28), (30, 1), (50, 2))
    """
    if len(input_shape) == 1:
        return input_shape[0], 1
    return input_shape[0], math.prod(input_shape[1:])


def recurrent_body(x, model, seed: int, regularization: dict):
    """Reshape `x` into a sequence and apply `model.recurrent` layers of `model.cell` cells."""
    steps, features = sequence_shape(tuple(x.shape[1:]))
    x = keras.layers.Reshape((steps, features), name="sequence")(x)
    cell = CELLS[model.cell]
    for index, units in enumerate(model.recurrent):
        x = cell(
            units,
            return_sequences=index < len(model.recurrent) - 1,
            name=f"recurrent_{index + 1}",
            kernel_initializer=keras.initializers.GlorotUniform(seed * 1000 + 300 + index),
            recurrent_initializer=keras.initializers.Orthogonal(model.recurrent_init_gain, seed * 1000 + 400 + index),
            **kernel_extras(regularization),
        )(x)
    return x


def recurrent_parameters(model, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(weights of the recurrent layers, the width they hand on) for an example of `input_shape`.

    Examples:
        >>> from types import SimpleNamespace
        >>> recurrent_parameters(SimpleNamespace(cell="lstm", recurrent=[10]), (28, 28, 1))
        (1520, 10)
    """
    features, total = sequence_shape(input_shape)[1], 0
    for units in model.recurrent:
        total += GATES[model.cell] * (features + units) * units
        features = units
    return total, features
