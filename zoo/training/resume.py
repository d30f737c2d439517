"""Resuming a run: checkpoints no interrupt can break (`AtomicBackup`), and what Keras's
BackupAndRestore leaves out, kept beside them so a resumed run continues faithfully (`RunState`).

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

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo.errors import RunError
from zoo.reports.records import atomic_write, write_json
from zoo.training.diagnostics import GradientDiagnostics

# A checkpoint's variables, one array each in `_checkpointed`'s order: numpy's savez writes the cnn's in 5 ms where
# Keras's save_weights (LEGACY, which walks the model's object graph) took 47 ms, and a small set's run writes hundreds.
VARIABLES, LEGACY = "variables.npz", "model.weights.h5"


class EpochClock(keras.callbacks.Callback):
    """The training seconds from the start of the run to the end of each epoch.

    A resumed run's clock goes on from where the interrupted one stopped (`RunState` keeps
    `seconds`), so the records cover the whole run, not only the part after the resume.
    """

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.seconds: list[float] = []
        self.before = 0.0  # seconds trained before this process took over the run

    def resume(self, seconds: list[float]) -> None:
        self.seconds = list(seconds)
        self.before = seconds[-1] if seconds else 0.0

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(self.before + time.perf_counter() - self.started, 3))


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
        self.clock = next((c for c in callbacks if isinstance(c, EpochClock)), None)
        # Its state goes with the backup's checkpoints: written for the epochs the backup saves, kept while it is.
        self.backup = next((c for c in callbacks if isinstance(c, AtomicBackup)), None)
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
        if self.clock is not None:
            state["clock"] = {"seconds": self.clock.seconds}
        return state

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1  # BackupAndRestore records the next epoch to run; so does this
        if self.backup is not None and self.backup.saved != done:
            return
        if self.stopping is not None and self.stopping.best_weights is not None:
            atomic_write(
                self.folder / f"zoo_best-epoch{done}.npz",
                lambda tmp: _save_arrays(tmp, self.stopping.best_weights),
            )
        write_json(_state_path(self.folder, done), self._state())
        # Keep the states of the checkpoints the backup keeps (without one: this epoch's and the one before).
        kept = {_epoch_of(path) for path in self.backup.checkpoints()} if self.backup else {done, done - 1}
        for old in self.folder.glob("zoo_*-epoch*"):
            if int(old.stem.split("epoch")[-1].split(".")[0]) not in kept | {done}:
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
                self.stopping.best_weights = _load_arrays(best)
        if self.plateau is not None and "plateau" in state:
            for key, value in state["plateau"].items():
                setattr(self.plateau, key, value)
        if self.diagnostics is not None and "diagnostics" in state:
            self.diagnostics.records = state["diagnostics"]["records"]
            self.diagnostics.warning = state["diagnostics"]["warning"]
        if self.clock is not None and "clock" in state:
            self.clock.resume(state["clock"]["seconds"])
        self.restored_epoch = epoch


class AtomicBackup(keras.callbacks.Callback):
    """Keras's `BackupAndRestore` (weights, optimizer and epoch after every epoch), written so that
    no interrupt can leave a run that cannot resume.

    Keras rewrites one `latest.weights.h5` in place: an interrupt during that write left a file
    that every resume failed on (a SIGINT: "5 objects could not be loaded"; kill -9: a 0-byte
    file). Here each epoch's checkpoint is written into a `.partial` folder, flushed to disk, and
    only then renamed to `epoch-NNNNN/` (a rename is atomic), and the checkpoint before it is kept
    until the next one is complete. A resume loads the newest checkpoint that loads; when none
    does, it says so and that the run must start over. It stands where BackupAndRestore stood in the
    callback list: before the CSV log, so a logged epoch always has its checkpoint (the workers of a
    multi-worker run, killed together, then resume at the same epoch), and before `RunState`, which
    reads the epoch it resumed at.
    """

    KEEP = 2  # this epoch's checkpoint and the one before it
    # Once checkpoints have cost FREE_SECONDS, one is written only when the training since the last is at least
    # SPACING times what a checkpoint costs (so they take at most about 1/SPACING of the time): a 130-image set
    # trains hundreds of epochs of a few steps, and a checkpoint every epoch cost as much as the training.
    # An interrupt then loses the unfinished epoch or, on such short epochs, a few seconds of them.
    FREE_SECONDS, SPACING = 5.0, 20.0

    def __init__(self, folder: str | Path, agree: Callable[[list[int], int], int] | None = None):
        """`agree(held, most)`, for the workers of one run: given the epochs this worker holds checkpoints of
        (each at most `most`), the newest epoch every worker holds one of (0: start over). A worker killed
        between its partner's checkpoint write and its own holds one epoch fewer; without agreeing, the two
        resumed an epoch apart and the one ahead finished first, leaving its partner waiting on a collective."""
        super().__init__()
        self.folder = Path(folder)
        self.agree = agree
        self.saved: int | None = None  # the epoch of the last checkpoint this process wrote
        self.spent, self.writes, self.last_write = 0.0, 0, time.perf_counter()

    def checkpoints(self) -> list[Path]:
        """The complete checkpoints in the folder, newest first."""
        found = [path for path in self.folder.glob("epoch-*") if path.is_dir() and path.name[6:].isdigit()]
        return sorted(found, key=_epoch_of, reverse=True)

    def on_train_begin(self, logs=None):
        found = self.checkpoints()
        if self.agree is not None:  # every worker calls it, with or without checkpoints: it is a collective
            most = int(self.params.get("epochs") or 0)
            common = self.agree([_epoch_of(path) for path in found if _epoch_of(path) <= most], most)
            found = [path for path in found if _epoch_of(path) == common]
        if not found:
            return
        problems = []
        for checkpoint in found:
            try:
                _load_checkpoint(self.model, checkpoint)
                epoch = json.loads((checkpoint / "epoch.json").read_text())["epoch"]
            except Exception as error:  # a checkpoint that does not load, whatever broke it: try the one before
                problems.append(f"{checkpoint.name}: {type(error).__name__}: {str(error)[:200]}")
                continue
            self.model._initial_epoch = int(epoch)  # what BackupAndRestore sets: fit() starts there
            return
        raise RunError(
            f"no backup in {self.folder} can be loaded ({'; '.join(problems)}); the run must start over: "
            f"train into a new folder, or delete {self.folder.parent} first"
        )

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 >= int((self.params or {}).get("epochs") or 0)
        # The workers of one run must hold the same epochs (see `agree`): they write every epoch.
        due = (
            not self.writes
            or self.spent < self.FREE_SECONDS
            or time.perf_counter() - self.last_write >= self.SPACING * self.spent / self.writes
        )
        if last or self.agree is not None or due:
            self.save(epoch + 1)

    def save(self, done: int) -> None:
        """Write the checkpoint a run resumes from at epoch `done` (the next epoch to run)."""
        started = time.perf_counter()
        self._write(done)
        self.saved, self.writes, self.last_write = done, self.writes + 1, time.perf_counter()
        self.spent += self.last_write - started

    def _write(self, done: int) -> None:
        final, partial = self.folder / f"epoch-{done:05d}", self.folder / f".epoch-{done:05d}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        _save_arrays(partial / VARIABLES, [_array(variable) for variable in _checkpointed(self.model)])
        (partial / "epoch.json").write_text(json.dumps({"epoch": done}))
        for path in (partial / VARIABLES, partial / "epoch.json", partial):
            _fsync(path)
        if final.exists():  # this epoch again, after a resume from an older checkpoint
            shutil.rmtree(final)
        os.replace(partial, final)
        _fsync(self.folder)
        for old in self.checkpoints()[self.KEEP :]:
            shutil.rmtree(old, ignore_errors=True)

    def remove(self) -> None:
        """Delete what this backup wrote (checkpoints, partial ones, RunState's files), then the folder if empty."""
        for path in [*self.folder.glob("epoch-*"), *self.folder.glob(".epoch-*.partial"), *self.folder.glob("zoo_*")]:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.folder.rmdir()  # left in place if anything else is inside


def _checkpointed(model) -> list:
    """What a checkpoint holds, in an order fixed by the model's architecture alone: the model's weights
    (trainable and not: BatchNorm's moving statistics), then its optimizer's variables (step count, rate,
    moments; a loss-scale optimizer's own first). What Keras's save_weights holds, without its object-graph walk."""
    if model.optimizer is None:
        return list(model.weights)
    if not model.optimizer.built:  # its variables must exist to be saved or loaded (a model saved before any step)
        model.optimizer.build(model.trainable_variables)
    return [*model.weights, *model.optimizer.variables]


def _array(variable) -> np.ndarray:
    value = np.asarray(variable.numpy())
    # bfloat16 has no numpy type of its own to save as; float32 holds it exactly, and assign() casts it back.
    return value.astype(np.float32) if value.dtype.name == "bfloat16" else value


def _load_checkpoint(model, checkpoint: Path) -> None:
    """Load a checkpoint folder into `model`, or raise without changing it (any shape or count that does not match:
    a checkpoint of another net). One that Keras's save_weights wrote (zoo before VARIABLES) loads as Keras loads it."""
    variables = _checkpointed(model)
    if not (checkpoint / VARIABLES).is_file() and (checkpoint / LEGACY).is_file():
        model.load_weights(checkpoint / LEGACY)
        return
    values = _load_arrays(checkpoint / VARIABLES)
    if len(values) != len(variables):
        raise ValueError(f"{len(values)} arrays saved; the model and its optimizer have {len(variables)}")
    for variable, value in zip(variables, values):
        if tuple(variable.shape) != value.shape:
            raise ValueError(f"{variable.path}: shape {value.shape} saved; the model's is {tuple(variable.shape)}")
    for variable, value in zip(variables, values):
        variable.assign(value)


def _save_arrays(path: Path, arrays: list) -> None:
    """A list of arrays as one .npz file (numpy names them arr_0, arr_1, ... in order)."""
    with path.open("wb") as file:
        np.savez(file, *arrays)


def _load_arrays(path: Path) -> list[np.ndarray]:
    """The list `_save_arrays` wrote, in its order."""
    with np.load(path) as saved:
        return [saved[f"arr_{index}"] for index in range(len(saved.files))]


def _epoch_of(checkpoint: Path) -> int:
    """The epoch a checkpoint folder (`epoch-00012`) resumes at."""
    return int(checkpoint.name[6:])


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk (a rename is durable only once its folder is)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
