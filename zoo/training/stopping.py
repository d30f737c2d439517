"""The validation-driven callbacks `zoo train` and every `zoo tune` trial share: BatchNorm's statistics started
at the data's, the weights' average swapped in for validation, early stopping, plateau cuts."""

from __future__ import annotations

import keras

from zoo.nets.network import leaf_layers, score_name
from zoo.recipes.recipe import Recipe


def shipped_weights(model) -> list:
    """The values `model.get_weights()` lists, each trainable weight replaced by its moving average, for a
    model whose optimizer keeps one (`train.ema`): what the run ships if it ends now (`fit` ends by writing
    the averages into the weights). Keras's own SwapEMAWeights reads the same two optimizer lists."""
    optimizer = model.optimizer
    average_of = {id(v): a for v, a in zip(optimizer._trainable_variables, optimizer._model_variables_moving_average)}
    return [keras.ops.convert_to_numpy(average_of.get(id(w), w)) for w in model.weights]


# How many training rows StartStatistics reads: `zoo train` and `zoo tune` hand over the same count.
START_ROWS = 256


class StartStatistics(keras.callbacks.Callback):
    """Starts every BatchNormalization layer's moving mean and variance at those of `rows` (training rows, one
    forward pass in training mode with momentum 0), instead of Keras's 0 and 1.

    Training itself never reads the moving statistics (a training step normalizes with its batch's); validation,
    early stopping, a test curve and a model saved early do. At momentum 0.99 they keep 0.99^t of their start
    after t steps: a 150-image set that trains 8 steps an epoch is validated after its first epoch with 92% of
    Keras's 0 and 1 in them, so its early scores swing with its statistics, not with what it has learnt. Started
    at the data's, they are close from the first epoch. Everything else the pass touches (the dropout layers'
    random streams) is put back, so the weights train exactly as they would without it.

    Examples:
        >>> import numpy as np
        >>> x = keras.Input((3,)); model = keras.Model(x, keras.layers.BatchNormalization()(x))
        >>> rows = np.random.default_rng(0).normal(5.0, 2.0, (256, 3)).astype("float32")
        >>> start = StartStatistics(rows); start.set_model(model); start.on_train_begin()
        >>> np.round(model.layers[1].moving_mean.numpy(), 1).tolist() == np.round(rows.mean(0), 1).tolist()
        True
    """

    def __init__(self, rows):
        super().__init__()
        self.rows = rows

    def on_train_begin(self, logs=None):
        norms = [layer for layer in leaf_layers(self.model) if isinstance(layer, keras.layers.BatchNormalization)]
        if not norms:
            return
        started = {id(v) for layer in norms for v in (layer.moving_mean, layer.moving_variance)}
        others = [v for v in self.model.non_trainable_variables if id(v) not in started]
        kept, momenta = [v.numpy() for v in others], [layer.momentum for layer in norms]
        try:
            for layer in norms:
                layer.momentum = 0.0  # moving = the batch's own statistics
            self.model(self.rows, training=True)
        finally:
            for layer, momentum in zip(norms, momenta):
                layer.momentum = momentum
            for variable, value in zip(others, kept):
                variable.assign(value)


class SwapAverage(keras.callbacks.SwapEMAWeights):
    """Keras's SwapEMAWeights (the weights' average in the model for each validation pass, the raw weights back
    for training), swapping exactly.

    On TensorFlow Keras swaps by adding and subtracting in place (to create no variable), and float32 rounds:
    each validation pass nudged the raw weights, so a run with the average trained other weights than the same
    run without it. A copy through memory swaps exactly, and the average never touches training.
    """

    def _swap_variables(self):
        self._apply_to_ema_optimizers(self._backend_swap_variables, self._backend_swap_variables)


class RawScore(keras.callbacks.Callback):
    """With `train.ema`: the validation score of the raw weights, not their average, after the budget's last epoch
    (`score`; None until then, and after a run stopped early).

    The average never touches training (`SwapAverage`), so these are the very weights the same run with
    `train.ema = false` ends on: with early stopping off, where each ships its last epoch, one run scores both
    arms of "is the average worth keeping" (a probe reads it as `val_last_raw`). It is read at the last epoch's
    end, after validation has swapped the raw weights back and before `fit` writes the average in for good.
    """

    def __init__(self, validation, name: str):
        super().__init__()
        self.validation, self.name, self.score = validation, name, None

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.params.get("epochs"):
            self.score = float(self.model.evaluate(self.validation, verbose=0, return_dict=True)[self.name])


class EarlyStopping(keras.callbacks.EarlyStopping):
    """Keras's early stopping, keeping the weights that ship, and saying "Restoring model weights" only when
    it restores an earlier epoch's.

    With `train.ema` the validation score it reads is the weights' average's (`SwapAverage` swaps it in for
    each validation pass), so the best epoch's weights it keeps are the averages too. Keras's own keeps the
    raw weights, and restoring them at the end would throw the average away.

    Keras prints the restoring line at the end of every run, also when the best epoch was the last one (after
    a 1-epoch run: "from the end of the best epoch: 1"), where restoring changes nothing.
    """

    def on_epoch_end(self, epoch, logs=None):
        kept = self.best_weights
        super().on_epoch_end(epoch, logs)
        self.last_epoch = epoch
        if self.best_weights is not kept and getattr(self.model.optimizer, "use_ema", False):
            self.best_weights = shipped_weights(self.model)  # the best epoch so far: keep what would ship

    def on_train_end(self, logs=None):
        loud = self.verbose
        if self.best_epoch == getattr(self, "last_epoch", None):
            self.verbose = 0  # the weights in the model are the best ones already
        try:
            super().on_train_end(logs)
        finally:
            self.verbose = loud


def validation_callbacks(recipe: Recipe, verbose: int = 0, start_rows=None, validation=None) -> list:
    """The recipe's validation-driven callbacks, which `zoo train` and every `zoo tune` trial share: with
    `train.bn_start` and training rows to read (`start_rows`; a resumed run has its statistics already),
    `StartStatistics` first; with `train.ema`, `SwapAverage`, so that every validation pass (the log, early
    stopping, the plateau cuts, a probe's choice) scores the weights' average, which is what the run ships,
    not the raw weights, and, given the `validation` batches, `RawScore` for the raw weights; early stopping on
    its validation score (restoring the best validation weights at the end, whether or not it stopped early;
    none when patience is 0); then the plateau schedule's rate cuts (`schedule = "plateau"`).

    Example:
        >>> import zoo
        >>> [type(c).__name__ for c in validation_callbacks(zoo.get_recipe("mlp", ema=True))]
        ['SwapAverage', 'EarlyStopping']
    """
    train, loud = recipe.train, int(verbose != 0)
    # Without the swap, fit() validates the raw weights and only writes the average in at its very end.
    callbacks: list = [StartStatistics(start_rows)] if train.bn_start and start_rows is not None else []
    callbacks += [SwapAverage()] if train.ema else []
    callbacks += [RawScore(validation, score_name(recipe))] if train.ema and validation is not None else []
    if train.early_stopping_patience:
        monitor = f"val_{score_name(recipe)}"
        stop = dict(mode="max", patience=train.early_stopping_patience, restore_best_weights=True, verbose=loud)
        callbacks.append(EarlyStopping(monitor, **stop))
    if train.schedule == "plateau":
        cut = dict(factor=train.plateau_factor, patience=train.plateau_patience, verbose=loud)
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **cut))
    return callbacks
