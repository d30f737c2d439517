"""What Keras's BackupAndRestore leaves out, kept beside its backup so a resumed run continues faithfully.

BackupAndRestore saves the weights, the optimizer and the epoch. It does not save the dropout
layers' random-seed states, nor the state of
the other callbacks (keras-team/keras#14862 for the Keras 2 form of the same gap): EarlyStopping
would forget its best score, patience count and best weights, ReduceLROnPlateau its counters,
and zoo's gradient diagnostics the records of the epochs before the interruption. `RunState`
writes those after every epoch, named by the epoch they belong to, and puts them back when
BackupAndRestore resumes at that epoch. The data order needs nothing here: zoo's shuffled
pipelines draw epoch k's order from (seed, k) alone (zoo.training.pipelines.pipeline).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo.reports.records import atomic_write, write_json
from zoo.training.diagnostics import GradientDiagnostics


def _state_path(folder: Path, epoch: int) -> Path:
    return folder / f"zoo_state-epoch{epoch}.json"


class RunState(keras.callbacks.Callback):
    """Saves and restores the state of zoo's other callbacks alongside Keras's backup in `folder`.

    It must come after the callbacks it covers in the callback list, so that it restores them
    after their own `on_train_begin` has reset them.
    """

    def __init__(self, folder: str | Path, callbacks: list):
        super().__init__()
        self.folder = Path(folder)
        self.stopping = next((c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)), None)
        self.plateau = next((c for c in callbacks if isinstance(c, keras.callbacks.ReduceLROnPlateau)), None)
        self.diagnostics = next((c for c in callbacks if isinstance(c, GradientDiagnostics)), None)
        self.restored_epoch: int | None = None

    def _random_states(self) -> list:
        """The model's variables that are not weights: the random-seed states of its dropout layers.

        save_weights leaves them out, so without them a resumed run would draw epoch 1's dropout
        masks again.
        """
        weights = {id(weight) for weight in self.model.weights}
        return [variable for variable in self.model.variables if id(variable) not in weights]

    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"random_states": [np.asarray(v.numpy()).tolist() for v in self._random_states()]}
        if self.stopping is not None:
            s = self.stopping
            state["early_stopping"] = {
                "wait": s.wait,
                "best": None if s.best is None else float(s.best),
                "best_epoch": s.best_epoch,
            }
        if self.plateau is not None:
            p = self.plateau
            state["plateau"] = {"wait": p.wait, "best": float(p.best), "cooldown_counter": p.cooldown_counter}
        if self.diagnostics is not None:
            state["diagnostics"] = {"records": self.diagnostics.records, "warning": self.diagnostics.warning}
        return state

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1  # BackupAndRestore records the next epoch to run; so does this
        if self.stopping is not None and self.stopping.best_weights is not None:
            atomic_write(
                self.folder / f"zoo_best-epoch{done}.npz",
                lambda tmp: np.savez(tmp.open("wb"), *self.stopping.best_weights),
            )
        write_json(_state_path(self.folder, done), self._state())
        for old in self.folder.glob("zoo_*-epoch*"):  # keep this epoch's and the one before
            if int(old.stem.split("epoch")[-1].split(".")[0]) < done - 1:
                old.unlink(missing_ok=True)

    def on_train_begin(self, logs=None):
        epoch = getattr(self.model, "_initial_epoch", None) or 0
        path = _state_path(self.folder, epoch)
        if not epoch or not path.is_file():
            return
        state = json.loads(path.read_text())
        randoms = self._random_states()
        if len(randoms) == len(state.get("random_states", [])):
            for variable, value in zip(randoms, state["random_states"]):
                variable.assign(np.asarray(value, dtype=variable.dtype))
        if self.stopping is not None and "early_stopping" in state:
            for key, value in state["early_stopping"].items():
                setattr(self.stopping, key, value)
            best = self.folder / f"zoo_best-epoch{epoch}.npz"
            if best.is_file():
                with np.load(best) as saved:
                    self.stopping.best_weights = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        if self.plateau is not None and "plateau" in state:
            for key, value in state["plateau"].items():
                setattr(self.plateau, key, value)
        if self.diagnostics is not None and "diagnostics" in state:
            self.diagnostics.records = state["diagnostics"]["records"]
            self.diagnostics.warning = state["diagnostics"]["warning"]
        self.restored_epoch = epoch
