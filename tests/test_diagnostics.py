"""Gradient diagnostics: vanishing gradients show up in sigmoid nets and not with the default stack."""

import json
import time
import warnings

import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.cli.main import main
from zoo.training.diagnostics import diagnose, first_last_ratio, fixed_batch, gradient_warning, layer_stats, table


def _deep(stack_name, depth=8):
    return zoo.get_recipe(
        "fashion_mlp",
        name="deep_digits",
        dataset="digits",
        validation_size=200,
        hidden=[30] * depth,
        batch_size=16,
        epochs=2,
        early_stopping_patience=0,
        dropout=0.0,
        **({"baseline.learning_rates": [0.1]} if stack_name == "baseline" else {}),
    )


def test_first_layer_gradient_vanishes_in_a_deep_sigmoid_net(digits):
    sigmoid = diagnose(_deep("baseline"), data=digits, baseline=True)
    default = diagnose(_deep("default"), data=digits)
    assert len(sigmoid) == len(default) == 8
    assert sigmoid[0]["weight_grad_norm"] < 1e-2 * sigmoid[-1]["weight_grad_norm"]
    assert 1e-2 <= first_last_ratio(default) <= 1e2
    # Speeds (bias-gradient norms) fall layer by layer towards the input in the sigmoid net.
    speeds = [row["bias_grad_norm"] for row in sigmoid]
    assert all(a < b for a, b in zip(speeds, speeds[1:]))
    assert sigmoid[0]["bias_source"] == "bias" and default[0]["bias_source"] == "batch_norm_beta"
    assert gradient_warning(sigmoid).startswith("vanishing gradients") and gradient_warning(default) is None


def test_activation_statistics(digits):
    x, y = fixed_batch(digits, 300)
    relu = zoo.build(zoo.get_recipe(_deep("default", 3), activation="relu", batch_norm=False))
    rows = layer_stats(relu, x, y)
    assert all(0 <= row["dead"] <= 1 and row["saturated"] is None for row in rows)
    sigmoid = zoo.baseline(_deep("baseline", 3), 0.1)
    rows = layer_stats(sigmoid, x, y)
    assert all(0 <= row["saturated"] <= 1 and row["dead"] is None and 0 < row["act_mean"] < 1 for row in rows)


def test_the_table_says_why_every_update_is_0_at_a_schedules_end(digits):
    """After a cosine schedule's last epoch the rate is 0, so is every update: it read like a dead net."""
    model = zoo.baseline(_deep("baseline", 2), 0.1)
    x, y = fixed_batch(digits, 100)
    assert "learning rate is 0" not in table(layer_stats(model, x, y))
    assert "update = 0 in every layer: the learning rate is 0 here" in table(layer_stats(model, x, y, learning_rate=0))


def test_diagnosing_does_not_change_the_model(digits):
    model = zoo.build(_deep("default", 3))
    before = [w.copy() for w in model.get_weights()]  # includes BatchNorm's moving statistics
    layer_stats(model, *fixed_batch(digits, 200))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.slow
def test_records_keep_to_their_share_of_the_run_time(digits, monkeypatch):
    from zoo.training import diagnostics

    x, y = fixed_batch(digits, 64)

    def records(**budget):
        for key, value in budget.items():
            monkeypatch.setattr(diagnostics, key, value)
        model = zoo.build(_deep("default", 2))
        callback = diagnostics.GradientDiagnostics(x, y)
        model.fit(x, y, epochs=5, batch_size=32, verbose=0, callbacks=[callback])
        return [record["epoch"] for record in callback.records]

    # Cheap records (far under FREE_SECONDS) keep the schedule: every epoch of a short run.
    assert records() == [0, 1, 2, 3, 4, 5]
    # Records that have used up their share are skipped, but the last epoch is always recorded.
    assert records(FREE_SECONDS=0.0, TIME_SHARE=0.0) == [0, 5]


@pytest.mark.slow
def test_training_records_every_layer_every_epoch_and_warns(digits, tmp_path):
    with pytest.warns(UserWarning, match="vanishing gradients at initialization: .*hidden_1"):
        result = zoo.train(
            _deep("baseline"), data=digits, out_dir=tmp_path / "sigmoid", baseline=True, learning_rate=0.1, verbose=0
        )
    saved = json.loads(result.paths["diagnostics"].read_text())
    assert [record["epoch"] for record in saved["records"]] == [0, 1, 2]
    assert all(len(record["layers"]) == 8 for record in saved["records"])
    assert result.metrics["gradient_warning"] == saved["warning"] and "stack.name" in saved["warning"]
    assert result.paths["diagnostics"].with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    # The same records in TensorBoard, as a run of their own beside the loss curves: a step per record.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(result.paths["tensorboard"] / "diagnostics")).Reload()
    tags = events.Tags()["tensors"]
    assert "hidden_1/weight_grad_norm" in tags and "hidden_8/saturated" in tags
    assert [event.step for event in events.Tensors("hidden_1/weight_grad_norm")] == [0, 1, 2]
    assert "hidden_1/weight_grad" in tags and "hidden_1/act_mean" in tags  # a histogram and the activations' mean
    histogram = events.Tensors("hidden_1/weight_grad")[-1].tensor_proto
    assert histogram.tensor_shape.dim[1].size == 3, "TensorBoard's histogram: (bucket, [left, right, count])"
    # The run's own summary at its root: the recipe's keys as hparams, the test metrics as scalars.
    root = EventAccumulator(str(result.paths["tensorboard"])).Reload()
    assert {"test/accuracy", "test/loss", "best_val_score"} <= set(root.Tags()["tensors"])
    assert root.Tensors("test/accuracy")[0].step == 2
    assert (
        pytest.approx(float(tf.make_ndarray(root.Tensors("test/accuracy")[0].tensor_proto)))
        == (result.metrics["test_accuracy"])
    )
    plugin = root.PluginTagToContent("hparams")
    assert "_hparams_/session_start_info" in plugin and b"train.learning_rate" in plugin["_hparams_/session_start_info"]

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the default stack must stay quiet
        quiet = zoo.train(_deep("default"), data=digits, out_dir=tmp_path / "default", verbose=0)
    assert quiet.metrics["gradient_warning"] is None


def test_diagnose_command_at_initialization(capsys):
    assert (
        main(
            [
                "diagnose",
                "fashion_deep_mlp",
                "--baseline",
                "--epochs",
                "0",
                "--set",
                "dataset=digits",
                "--set",
                "validation_size=200",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "hidden_20" in out and "warning: vanishing gradients at initialization" in out


def test_diagnose_needs_data_for_a_model():
    with pytest.raises(zoo.DataError, match="diagnosing a model needs data"):
        diagnose(zoo.build("fashion_mlp"))


def test_conv_nets_report_every_conv_layer(digits):
    recipe = zoo.get_recipe("fashion_cnn", dataset="digits", validation_size=200, filters=[8, 8], hidden=[16])
    rows = diagnose(recipe, data=digits, examples=100)
    assert [row["name"] for row in rows] == [
        "conv_block_1/conv_1",
        "conv_block_1/conv_2",
        "conv_block_2/conv_1",
        "conv_block_2/conv_2",
        "hidden_1",
    ]
    assert all(row["weight_grad_norm"] > 0 for row in rows)


def test_gradient_snr_separates_signal_from_noise_and_needs_two_batches():
    from zoo.training.snr import gradient_snr

    rng = np.random.default_rng(0)
    clear = gradient_snr([np.ones(10) + rng.normal(size=10) * 0.1 for _ in range(20)], batch_size=4)
    pure_noise = gradient_snr([rng.normal(size=10) for _ in range(200)], batch_size=1)
    assert clear["snr"] > 10 and pure_noise["snr"] < 10 * pure_noise["resolution"]
    assert clear["resolution"] == 1 / 80
    with pytest.raises(zoo.DataError, match="at least 2 batches"):
        gradient_snr([np.ones(3)], batch_size=8)


def test_diagnose_command_adds_the_gradient_snr_column(capsys):
    assert (
        main(
            [
                "diagnose",
                "fashion_mlp",
                "--epochs",
                "0",
                "--snr",
                "--set",
                "dataset=digits",
                "--set",
                "validation_size=200",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    header, first = out.splitlines()[1:3]
    assert header.split()[-2:] == ["grad", "SNR"] and float(first.split()[-1]) > 0


def test_recurrent_layers_are_diagnosed_by_their_recurrent_kernel(digits):
    recipe = zoo.get_recipe(
        "rnn", cell="simple_rnn", recurrent=[12, 8], hidden=[10], dataset="digits", validation_size=200
    )
    rows = diagnose(recipe, data=digits, examples=100)
    assert [row["name"] for row in rows] == ["recurrent_1", "recurrent_2", "hidden_1"]
    assert rows[0]["activation"] == "tanh" and rows[0]["saturated"] is not None
    assert all(row["weight_grad_norm"] > 0 for row in rows)


@pytest.mark.slow
def test_a_real_tensorboard_serves_the_diagnostics_and_the_hparams(digits, tmp_path):
    """A tensorboard server on a free port over a tiny run's logs: its HTTP API lists zoo's own tags."""
    import socket
    import subprocess
    import sys
    import urllib.request

    result = zoo.train(_deep("default"), data=digits, epochs=1, out_dir=tmp_path / "run", verbose=0)
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir",
        str(result.paths["tensorboard"]),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--load_fast",
        "false",
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def get(path: str):
        return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read())

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                scalars = get("/data/plugin/scalars/tags")
                if "diagnostics" in scalars and "." in scalars:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "tensorboard did not come up"
            time.sleep(0.5)
        assert "hidden_1/weight_grad_norm" in scalars["diagnostics"] and "test/accuracy" in scalars["."]
        assert "hidden_1/weight_grad" in get("/data/plugin/histograms/tags")["diagnostics"]
        assert {"train", "validation"} <= set(scalars)
        assert get("/data/plugins_listing")["hparams"]["enabled"], "the run's hparams summary is served"
    finally:
        server.kill()
        server.wait()
