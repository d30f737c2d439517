"""Nothing lost: a run folder is zoo's or refused, and no interrupt leaves a run that cannot resume.

The interrupts are real signals sent by the training process to itself at the exact point named
(inside the checkpoint write; after the model is saved and before its metrics are), hooked in
by patching the function that runs at that point: no sleep that hopes to hit a window.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo.cli.main import main
from zoo.training.resume import VARIABLES, AtomicBackup
from zoo.training.runfolder import RUN_MARK, claimed, run_paths

REPO = Path(__file__).resolve().parents[1]

# Runs `zoo train RECIPE --out DIR`, after the hook (Python source) has patched zoo or Keras.
TRAIN = """
import signal, sys
# Ctrl-C raises KeyboardInterrupt, as in a shell (a test runner's worker may start children ignoring SIGINT).
signal.signal(signal.SIGINT, signal.default_int_handler)
import keras
import zoo.training.trainer as trainer
from zoo.cli.main import main
{hook}
sys.exit(main({argv}))
"""
ARGV = ["train", "{recipe}", "--epochs", "3", "--set", "train.early_stopping_patience=0", "--out", "{out}"]

KILL_IN_SECOND_CHECKPOINT = """
import numpy
save, calls = numpy.savez, []
def dying_save(file, *args, **kwargs):
    if str(getattr(file, "name", file)).endswith("variables.npz"):  # a checkpoint, not RunState's best weights
        calls.append(file)
        if len(calls) == 2:  # epoch 2's checkpoint: half a file, then the signal
            file.write(b"PK\\x03\\x04")
            file.flush()
            signal.raise_signal(signal.{signal})
    return save(file, *args, **kwargs)
numpy.savez = dying_save
"""

KILL_AFTER_THE_MODEL_IS_SAVED = """
write_json = trainer.write_json
def dying_write(path, *args, **kwargs):
    if path.name == "metrics.json":  # the model is on disk; the metrics are not
        signal.raise_signal(signal.SIGKILL)
    return write_json(path, *args, **kwargs)
trainer.write_json = dying_write
"""


KILL_MID_SECOND_EPOCH = """
begin, end = keras.callbacks.TerminateOnNaN.on_epoch_begin, keras.callbacks.TerminateOnNaN.on_batch_end
def note_epoch(self, epoch, logs=None):
    self.zoo_epoch, self.zoo_calls = epoch, 0
    return begin(self, epoch, logs)
def dying_batch(self, batch, logs=None):
    self.zoo_calls += 1
    if self.zoo_epoch == 1 and self.zoo_calls == 2:  # two executions (of steps_per_execution steps) into epoch 2
        signal.raise_signal(signal.SIGKILL)
    return end(self, batch, logs)
keras.callbacks.TerminateOnNaN.on_epoch_begin = note_epoch
keras.callbacks.TerminateOnNaN.on_batch_end = dying_batch
"""


def _argv(recipe_file, out, argv=ARGV):
    return [arg.format(recipe=recipe_file, out=out) for arg in argv]


def _train(recipe_file, out, hook="", argv=ARGV):
    """The interrupted run: its own process, for a real signal."""
    return subprocess.run(
        [sys.executable, "-c", TRAIN.format(hook=hook, argv=_argv(recipe_file, out, argv))],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _resume(recipe_file, out, capsys):
    """The rerun, as the user types it; in this process (an interpreter start would cost more than the run)."""
    from zoo.cli.main import main

    capsys.readouterr()
    code = main(_argv(recipe_file, out))
    return code, capsys.readouterr().out


def _epochs(out):
    return json.loads((out / "metrics.json").read_text())["epochs_run"]


def test_a_folder_zoo_did_not_make_is_refused_and_left_as_it_was(tiny_recipe, tmp_path):
    users = tmp_path / "userdir"
    (users / "backup").mkdir(parents=True)
    (users / "backup" / "thesis.txt").write_text("four years of work")
    (users / "log.csv").write_text("my,own,log\n")
    before = {path: path.read_bytes() for path in users.rglob("*") if path.is_file()}
    with pytest.raises(zoo.RunError, match=r"holds files zoo did not write \(backup, log.csv\).*choose another --out"):
        zoo.train(tiny_recipe, out_dir=users, verbose=0)
    assert {path: path.read_bytes() for path in users.rglob("*") if path.is_file()} == before
    (tmp_path / "afile").write_text("x")
    with pytest.raises(zoo.RunError, match="is a file; name a new or empty folder"):
        zoo.train(tiny_recipe, out_dir=tmp_path / "afile", verbose=0)


def test_an_empty_folder_is_used_and_marked(tiny_recipe, digits, tmp_path):
    (tmp_path / "empty").mkdir()
    result = zoo.train(zoo.get_recipe(tiny_recipe, epochs=1), data=digits, out_dir=tmp_path / "empty", verbose=0)
    assert (result.run_dir / RUN_MARK).is_file() and not (result.run_dir / "backup").exists()
    assert json.loads((result.run_dir / RUN_MARK).read_text())["made_by"] == "zoo"


def test_one_process_at_a_time_trains_in_a_folder(tiny_recipe, tmp_path):
    paths, _ = run_paths(tiny_recipe, tmp_path / "run")
    with claimed(paths, tiny_recipe):
        with pytest.raises(zoo.RunError, match="another zoo process is training in"):
            zoo.train(tiny_recipe, out_dir=tmp_path / "run", verbose=0)
    with claimed(paths, tiny_recipe):  # released once the first run ends
        pass


def test_a_checkpoint_that_does_not_load_falls_back_to_the_one_before(tiny_recipe, digits, tmp_path):
    recipe = zoo.get_recipe(tiny_recipe, epochs=3, early_stopping_patience=0)
    model = zoo.build(recipe, input_shape=(8, 8, 1), num_classes=10)
    backup = AtomicBackup(tmp_path / "backup")
    backup.set_model(model)
    backup.save(1)
    backup.save(2)
    (tmp_path / "backup" / "epoch-00002" / VARIABLES).write_bytes(b"")  # as kill -9 once left Keras's file
    backup.on_train_begin()
    assert model._initial_epoch == 1, "epoch 2's checkpoint is broken: resume from epoch 1's"
    (tmp_path / "backup" / "epoch-00001" / VARIABLES).write_bytes(b"garbage")
    with pytest.raises(zoo.RunError, match=r"no backup in .* can be loaded .*the run must start over"):
        backup.on_train_begin()


def test_a_checkpoint_restores_every_weight_and_optimizer_variable_or_none(tiny_recipe, digits, tmp_path):
    import keras
    import numpy as np

    x, y = digits.arrays["train"]
    recipe = zoo.get_recipe(tiny_recipe, epochs=1)

    def trained(seed, steps):
        keras.utils.set_random_seed(seed)
        model = zoo.build(recipe, input_shape=(8, 8, 1), num_classes=10)
        model.fit(x[: 32 * steps], y[: 32 * steps], batch_size=32, verbose=0)
        return model

    def state(model):
        return [np.asarray(v.numpy()) for v in [*model.weights, *model.optimizer.variables]]

    source = trained(0, 3)
    assert int(source.optimizer.iterations.numpy()) == 3
    for folder, legacy in (("new", False), ("legacy", True)):
        backup = AtomicBackup(tmp_path / folder)
        backup.set_model(source)
        backup.save(4)
        if legacy:  # as zoo wrote checkpoints before VARIABLES: they still resume
            checkpoint = tmp_path / folder / "epoch-00004"
            (checkpoint / VARIABLES).unlink()
            source.save_weights(checkpoint / "model.weights.h5")
        resumed = trained(1, 1)
        assert not all(np.array_equal(a, b) for a, b in zip(state(resumed), state(source), strict=True))
        backup = AtomicBackup(tmp_path / folder)
        backup.set_model(resumed)
        backup.on_train_begin()
        assert resumed._initial_epoch == 4
        assert all(np.array_equal(a, b) for a, b in zip(state(resumed), state(source), strict=True)), folder
    # A checkpoint of another net (one more hidden unit) is refused before any variable changes.
    other = zoo.build(zoo.get_recipe(tiny_recipe, hidden=[33, 16]), input_shape=(8, 8, 1), num_classes=10)
    other.optimizer.build(other.trainable_variables)
    before = state(other)
    backup = AtomicBackup(tmp_path / "new")
    backup.set_model(other)
    with pytest.raises(zoo.RunError, match=r"shape .* saved; the model's is"):
        backup.on_train_begin()
    assert all(np.array_equal(a, b) for a, b in zip(state(other), before, strict=True))


@pytest.mark.slow
def test_checkpoints_of_short_epochs_keep_to_their_share_and_their_states_follow_them(digits, tmp_path, monkeypatch):
    import keras

    from zoo.training.resume import RunState

    x, y = digits.arrays["train"]

    def saved(free, spacing):
        monkeypatch.setattr(AtomicBackup, "FREE_SECONDS", free)
        monkeypatch.setattr(AtomicBackup, "SPACING", spacing)
        folder = tmp_path / f"backup-{free}"
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        stopping = keras.callbacks.EarlyStopping(patience=9, restore_best_weights=True)
        callbacks = [stopping, AtomicBackup(folder)]
        model.fit(
            x[:64],
            y[:64],
            epochs=5,
            validation_split=0.25,
            verbose=0,
            callbacks=[*callbacks, RunState(folder, callbacks)],
        )
        return [p.name for p in AtomicBackup(folder).checkpoints()], sorted(p.name for p in folder.glob("zoo_*"))

    # Cheap checkpoints (under FREE_SECONDS in all): every epoch, the newest two kept with their states.
    checkpoints, states = saved(5.0, 20.0)
    assert checkpoints == ["epoch-00005", "epoch-00004"]
    assert states == [
        f"zoo_{kind}-epoch{e}.{ext}" for kind, ext in (("best", "npz"), ("state", "json")) for e in (4, 5)
    ]
    # Checkpoints that have used up their share: the first and the last epoch's only, and the states of just those.
    checkpoints, states = saved(0.0, 1e9)
    assert checkpoints == ["epoch-00005", "epoch-00001"]
    assert states == [
        f"zoo_{kind}-epoch{e}.{ext}" for kind, ext in (("best", "npz"), ("state", "json")) for e in (1, 5)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("sent", ["SIGKILL", "SIGINT"])
def test_an_interrupt_inside_the_checkpoint_write_still_resumes(tiny_recipe_file, tmp_path, sent, capsys):
    out = tmp_path / "run"
    killed = _train(tiny_recipe_file, out, KILL_IN_SECOND_CHECKPOINT.format(signal=sent))
    assert killed.returncode != 0 and not (out / "metrics.json").exists()
    assert [path.name for path in AtomicBackup(out / "backup").checkpoints()] == ["epoch-00001"]
    code, printed = _resume(tiny_recipe_file, out, capsys)
    assert code == 0 and "Resuming the interrupted run" in printed
    assert _epochs(out) == 3 and not (out / "backup").exists()


@pytest.mark.slow
def test_an_interrupt_after_the_last_epoch_resumes_without_training_again(tiny_recipe_file, tmp_path, capsys):
    out = tmp_path / "run"
    killed = _train(tiny_recipe_file, out, KILL_AFTER_THE_MODEL_IS_SAVED)
    assert killed.returncode == -9 and (out / "model.keras").is_file() and not (out / "metrics.json").exists()
    code, printed = _resume(tiny_recipe_file, out, capsys)
    assert code == 0 and "Resuming the interrupted run" in printed and "Epoch 1/3" not in printed
    assert _epochs(out) == 3 and not (out / "backup").exists()


@pytest.mark.slow
def test_sigkill_mid_epoch_loses_at_most_that_epoch_and_ends_as_the_committed_run(tiny_recipe_file, tmp_path, capsys):
    # The tiny recipe as the committed reproducibility run trains it (2 epochs, seed 0), killed mid-epoch 2.
    out, argv = tmp_path / "run", ["train", "{recipe}", "--out", "{out}"]
    killed = _train(tiny_recipe_file, out, KILL_MID_SECOND_EPOCH, argv)
    assert killed.returncode == -9 and not (out / "metrics.json").exists()
    assert [path.name for path in AtomicBackup(out / "backup").checkpoints()] == ["epoch-00001"], "epoch 1 is kept"
    capsys.readouterr()
    assert main(_argv(tiny_recipe_file, out, argv)) == 0 and "Resuming the interrupted run" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert [int(row["epoch"]) for row in rows] == [0, 1], "only the killed epoch is trained again"
    # The same numbers as an uninterrupted run: the committed one, on its library versions (per-epoch metrics to
    # relative 1e-4, test accuracy to 1e-6).
    committed = json.loads((REPO / "benchmarks/results/reproducibility/results.json").read_text())
    from zoo.experiments.reproducibility import differing_libraries

    if not differing_libraries(committed["versions"]):
        for key in ("loss", "val_loss", "val_accuracy"):
            np.testing.assert_allclose([float(row[key]) for row in rows], committed["history"][key], rtol=1e-4)
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["test_accuracy"] == pytest.approx(committed["test_accuracy"], abs=1e-6)


class _Stop:
    """Stops training the way Ctrl-C does, after `after` epochs."""

    def __new__(cls, after):
        import keras

        class Stop(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch + 1 == after:
                    raise KeyboardInterrupt

        return Stop()


@pytest.mark.slow
def test_a_resumed_runs_records_cover_the_whole_run(tiny_recipe, digits, tmp_path):
    recipe = zoo.get_recipe(tiny_recipe, epochs=4, early_stopping_patience=0)
    with pytest.raises(KeyboardInterrupt):
        zoo.train(recipe, data=digits, out_dir=tmp_path / "run", verbose=0, callbacks=[_Stop(2)])
    before = json.loads((tmp_path / "run" / "backup" / "zoo_state-epoch2.json").read_text())["clock"]["seconds"]
    result = zoo.train(recipe, data=digits, out_dir=tmp_path / "run", verbose=0)
    seconds = result.metrics["epoch_end_seconds"]
    assert len(seconds) == 4 and seconds[:2] == before and seconds == sorted(seconds)
    assert result.metrics["train_seconds"] >= seconds[-1] > before[-1]
    assert result.metrics["epochs_run"] == 4
