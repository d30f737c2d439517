"""Training runs: outputs, test metrics, refusal to overwrite, resume after an interruption."""

import csv
import json
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

import zoo

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_train_writes_a_complete_run_folder(tiny_recipe, digits, tmp_path):
    result = zoo.train(tiny_recipe, data=digits, out_dir=tmp_path / "run", verbose=0)
    for key in ("recipe", "csv_log", "model", "metrics", "curves"):
        assert result.paths[key].is_file(), key
    assert any(result.paths["tensorboard"].rglob("events.out.tfevents.*"))
    assert not (tmp_path / "run" / "backup").exists() or not any((tmp_path / "run" / "backup").iterdir())
    metrics = json.loads(result.paths["metrics"].read_text())
    assert metrics["epochs_run"] == 2 and len(metrics["history"]["val_accuracy"]) == 2
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["test_accuracy"] == result.test["accuracy"]
    assert metrics["test_accuracy"] > 0.5, "two epochs on digits should beat chance by far"
    assert metrics["versions"]["keras"] == keras.__version__
    # The saved model is the trained one, and the saved recipe is the one that was trained.
    loaded = keras.saving.load_model(result.paths["model"])
    x = digits.arrays["test"][0][:20]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), result.model.predict(x, verbose=0), rtol=1e-6)
    # The saved recipe is the one trained: its task resolved from the data.
    assert (
        zoo.get_recipe(result.paths["recipe"]).to_dict() == zoo.get_recipe(tiny_recipe, task="classification").to_dict()
    )


@pytest.mark.slow
def test_baseline_run_uses_the_baseline_stack(tiny_recipe, digits, tmp_path):
    result = zoo.train(tiny_recipe, data=digits, out_dir=tmp_path / "b", baseline=True, learning_rate=0.5, verbose=0)
    saved = zoo.get_recipe(result.paths["recipe"])
    assert saved.name == "tiny_digits_baseline" and saved.stack.activation == "sigmoid"
    assert saved.train.optimizer == "sgd" and saved.train.learning_rate == 0.5
    assert result.metrics["learning_rate"] == 0.5


@pytest.mark.slow
def test_finished_run_is_never_overwritten(tiny_recipe, digits, tmp_path):
    zoo.train(tiny_recipe, data=digits, out_dir=tmp_path / "run", epochs=1, verbose=0)
    with pytest.raises(zoo.RunError, match="already holds a finished run"):
        zoo.train(tiny_recipe, data=digits, out_dir=tmp_path / "run", epochs=1, verbose=0)


class _Interrupt(keras.callbacks.Callback):
    """Stops training the way Ctrl-C does, after `after` epochs."""

    def __init__(self, after):
        super().__init__()
        self.after = after

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after:
            raise KeyboardInterrupt


class _Rates(keras.callbacks.Callback):
    """The learning rate each epoch trains at."""

    def __init__(self):
        super().__init__()
        self.seen = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.seen[epoch] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


@pytest.mark.slow
def test_resume_refuses_a_different_recipe(tiny_recipe, digits, tmp_path):
    recipe = zoo.get_recipe(tiny_recipe, epochs=3, early_stopping_patience=0)
    with pytest.raises(KeyboardInterrupt):
        zoo.train(recipe, data=digits, out_dir=tmp_path / "run", verbose=0, callbacks=[_Interrupt(after=1)])
    with pytest.raises(zoo.RunError, match="interrupted run of a different recipe"):
        zoo.train(zoo.get_recipe(recipe, dropout=0.5), data=digits, out_dir=tmp_path / "run", verbose=0)
    # [bench] changes no run: `zoo bench` with or without the ladder resumes the same interrupted run.
    resumed = zoo.train(zoo.get_recipe(recipe, ablation=True), data=digits, out_dir=tmp_path / "run", verbose=0)
    assert resumed.metrics["epochs_run"] == 3


@pytest.mark.slow
def test_train_on_users_own_arrays(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    data = zoo.load_data((x[:240], y[:240], x[240:], y[240:]), validation_size=40)
    result = zoo.train(
        zoo.get_recipe("mlp", hidden=[16], epochs=8, batch_size=16), data=data, out_dir=tmp_path / "r", verbose=0
    )
    assert result.model.input_shape == (None, 5) and result.model.output_shape == (None, 2)
    assert result.test["accuracy"] > 0.7


@pytest.mark.slow
def test_a_resumed_run_matches_an_uninterrupted_one(tiny_recipe, digits, tmp_path):
    """Weights, optimizer, data order, dropout masks, early stopping, the plateau schedule and the diagnostics all
    resume, and both callbacks act: they cut the rate and stop at the same epochs as an uninterrupted run."""
    import dataclasses

    # Shuffled validation labels: the validation loss stops improving at once, so the plateau schedule cuts the
    # rate (patience 1) and early stopping ends the run (patience 3) well before its 12 epochs.
    x_val, y_val = digits.arrays["validation"]
    stalling = dataclasses.replace(
        digits, arrays={**digits.arrays, "validation": (x_val, np.random.default_rng(0).permutation(y_val))}
    )
    recipe = zoo.get_recipe(tiny_recipe, epochs=12, early_stopping_patience=3, schedule="plateau", plateau_patience=1)
    full_rates = _Rates()
    full = zoo.train(recipe, data=stalling, out_dir=tmp_path / "full", verbose=0, callbacks=[full_rates])
    epochs, rates = len(full.history["loss"]), full_rates.seen
    assert epochs < 12, "early stopping must act"
    cut_at = next((epoch for epoch, rate in rates.items() if rate < rates[0]), None)
    assert cut_at is not None and cut_at < epochs - 1, f"the plateau schedule must cut the rate mid-run: {rates}"
    with pytest.raises(KeyboardInterrupt):  # after the first cut, before the stop: both callbacks' state must resume
        zoo.train(recipe, data=stalling, out_dir=tmp_path / "cut", verbose=0, callbacks=[_Interrupt(after=cut_at + 1)])
    assert not (tmp_path / "cut" / "metrics.json").exists(), "an interrupted run is not marked finished"
    resumed_rates = _Rates()
    resumed = zoo.train(recipe, data=stalling, out_dir=tmp_path / "cut", verbose=0, callbacks=[resumed_rates])
    # The resumed part trains the same epochs at the same rates, and stops where the uninterrupted run did.
    assert min(resumed_rates.seen) <= cut_at + 1 and max(resumed_rates.seen) == epochs - 1
    assert resumed_rates.seen == {epoch: rates[epoch] for epoch in resumed_rates.seen}
    for key in ("loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(resumed.history[key], full.history[key], rtol=1e-4, err_msg=key)
    assert resumed.test["accuracy"] == pytest.approx(full.test["accuracy"], abs=1e-6)
    records = json.loads((tmp_path / "cut" / "diagnostics.json").read_text())["records"]
    assert [record["epoch"] for record in records] == list(range(len(rates) + 1)), (
        "diagnostics from before the interruption are kept"
    )
    assert not (tmp_path / "cut" / "backup").exists()
    # The log and the records cover the whole run, each epoch once: the resumed part continued the log.
    with (tmp_path / "cut" / "log.csv").open() as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == list(range(epochs))
    assert len(resumed.metrics["epoch_end_seconds"]) == epochs and resumed.metrics["epochs_run"] == epochs


@pytest.mark.slow
def test_a_seed_reproduces_in_a_fresh_process(tiny_recipe_file, tmp_path):
    """Same seed, same versions: a fresh interpreter and this one (after whatever tests ran in it) give the same
    per-epoch metrics and test accuracy."""
    import subprocess
    import sys

    code = (
        "import json, sys, zoo; r = zoo.train(sys.argv[1], out_dir=sys.argv[2], verbose=0); "
        "print(json.dumps([r.history['loss'], r.test['accuracy']]))"
    )
    fresh = subprocess.Popen(
        [sys.executable, "-c", code, str(tiny_recipe_file), str(tmp_path / "fresh")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    here = zoo.train(tiny_recipe_file, out_dir=tmp_path / "here", verbose=0)  # while the other one starts
    out, err = fresh.communicate(timeout=300)
    assert fresh.returncode == 0, err[-2000:]
    outputs = [json.loads(out.splitlines()[-1]), [here.history["loss"], here.test["accuracy"]]]
    np.testing.assert_allclose(outputs[0][0], outputs[1][0], rtol=1e-6)
    assert abs(outputs[0][1] - outputs[1][1]) <= 0.002
    # And the committed run (`zoo experiment reproducibility`): on its library versions, to float32 rounding on
    # its CPU instruction sets and within LOOSE on others (other kernels round differently); other library
    # versions are named in a warning.
    from zoo.experiments import reproducibility

    committed = json.loads((REPO / "benchmarks/results/reproducibility/results.json").read_text())
    assert committed["recipe"] == reproducibility.RECIPE, "the tiny recipe changed: zoo experiment reproducibility"
    differ = reproducibility.differing_libraries(committed["versions"])
    if differ:  # other libraries may draw or round otherwise
        warnings.warn(f"reproducibility: (committed run, here) versions differ: {differ}", stacklevel=1)
        return
    same = reproducibility.cpu() == committed["cpu"]
    rtol = 1e-6 if same else reproducibility.LOOSE
    mine = reproducibility.measured(here)
    for key in reproducibility.KEYS:
        np.testing.assert_allclose(mine["history"][key], committed["history"][key], rtol=rtol, err_msg=key)
    assert abs(mine["test_accuracy"] - committed["test_accuracy"]) <= (0 if same else 0.01)
