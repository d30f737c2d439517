"""The validation-driven callbacks `zoo train` and every `zoo tune` trial share: early stopping, plateau cuts."""

from __future__ import annotations

import keras

from zoo.nets.network import score_name
from zoo.recipes.recipe import Recipe


class EarlyStopping(keras.callbacks.EarlyStopping):
    """Keras's early stopping, which says "Restoring model weights" only when it restores an earlier epoch's.

    Keras prints the line at the end of every run, also when the best epoch was the last one (after a
    1-epoch run: "from the end of the best epoch: 1"), where restoring changes nothing.
    """

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        self.last_epoch = epoch

    def on_train_end(self, logs=None):
        loud = self.verbose
        if self.best_epoch == getattr(self, "last_epoch", None):
            self.verbose = 0  # the weights in the model are the best ones already
        try:
            super().on_train_end(logs)
        finally:
            self.verbose = loud


def validation_callbacks(recipe: Recipe, verbose: int = 0) -> list:
    """The recipe's validation-driven callbacks, which `zoo train` and every `zoo tune` trial share: early
    stopping on its validation score (restoring the best validation weights at the end, whether or not it
    stopped early; none when patience is 0), then the plateau schedule's rate cuts (`schedule = "plateau"`)."""
    train, loud = recipe.train, int(verbose != 0)
    callbacks: list = []
    if train.early_stopping_patience:
        monitor = f"val_{score_name(recipe)}"
        stop = dict(mode="max", patience=train.early_stopping_patience, restore_best_weights=True, verbose=loud)
        callbacks.append(EarlyStopping(monitor, **stop))
    if train.schedule == "plateau":
        cut = dict(factor=train.plateau_factor, patience=train.plateau_patience, verbose=loud)
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **cut))
    return callbacks
