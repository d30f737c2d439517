"""tf.distribute on this machine: mirrored logical CPU devices, two workers on loopback, a killed
worker resumed, and bad cluster settings refused within a bounded time. Every run is a separate
process: TensorFlow fixes its devices and collectives when it starts."""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

import zoo
from zoo.errors import RecipeError, RunError
from zoo.training.distribute import cluster_from_tf_config, make_strategy
from zoo.training.launch import tf_configs

pytestmark = pytest.mark.slow


def _zoo(*argv, env=None, timeout=240, **popen):
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "zoo", *argv], capture_output=True, text=True, env=environment, timeout=timeout, **popen
    )


def _accuracy(folder):
    return json.loads((folder / "metrics.json").read_text())["test_accuracy"]


def test_mirrored_over_two_logical_cpus_matches_one_device(tiny_recipe_file, tmp_path):
    from zoo.cli.main import main

    # One device in this process; two logical CPUs need their own (they are set before TensorFlow starts).
    one = main(["train", str(tiny_recipe_file), "--epochs", "2", "--out", str(tmp_path / "one")])
    two = _zoo(
        "train",
        str(tiny_recipe_file),
        "--epochs",
        "2",
        "--distribute",
        "mirrored",
        "--devices",
        "2",
        "--out",
        str(tmp_path / "two"),
    )
    assert one == 0 and two.returncode == 0, two.stderr[-2000:]
    assert "Gradient diagnostics are skipped under a tf.distribute strategy" in two.stdout
    # Same global batch, same rate: the same accuracy within seed-level noise.
    assert abs(_accuracy(tmp_path / "one") - _accuracy(tmp_path / "two")) < 0.08
    assert _accuracy(tmp_path / "two") > 0.7


def _start_workers(recipe_file, out, port, epochs, stderr=subprocess.DEVNULL):
    processes = []
    for config in tf_configs(2, port):
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "zoo",
                    "train",
                    str(recipe_file),
                    "--distribute",
                    "multi_worker",
                    "--epochs",
                    str(epochs),
                    "--set",
                    "train.early_stopping_patience=0",
                    "--out",
                    str(out),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        )
    return processes


def _epochs_logged(out):
    path = out / "log.csv"
    return [int(row["epoch"]) for row in csv.DictReader(path.open())] if path.is_file() else []


def test_a_killed_worker_pair_resumes_through_zoo_launch_losing_at_most_one_epoch(tiny_recipe_file, tmp_path):
    out, epochs = tmp_path / "run", 5
    with tempfile.TemporaryFile("w+") as chief_err:
        processes = _start_workers(tiny_recipe_file, out, 24320, epochs, stderr=chief_err)
        deadline = time.monotonic() + 200
        while len(_epochs_logged(out)) < 2 and time.monotonic() < deadline and processes[0].poll() is None:
            time.sleep(0.2)
        logged_before = len(_epochs_logged(out))
        processes[1].kill()  # a worker dies mid-run: its partner, waiting on a collective, must not wait forever
        processes[1].wait()
        try:
            processes[0].wait(timeout=60)  # TensorFlow's heartbeats notice a dead peer within about 10 s
        finally:
            processes[0].kill()
        chief_err.seek(0)
        said = chief_err.read()
    assert 2 <= logged_before < epochs, "the run must be killed mid-way"
    assert processes[0].returncode == 2, said[-2000:]
    assert "zoo: error: a worker of the cluster stopped mid-run (" in said, said[-2000:]
    assert "/job:worker/task:1" in said.split("stopped mid-run (")[1].split(")")[0], said[-2000:]
    assert "Traceback" not in said
    # The worker may die between the chief's checkpoint write and its own, one epoch behind the chief: make it
    # so every time (it was a race), and the workers must agree to resume from the epoch both hold.
    newest = {
        folder: max((p.name for p in (folder / "backup").glob("epoch-*")), default=None)
        for folder in (out, tmp_path / "run.worker1")
    }
    if newest[out] is not None and newest[out] == newest[tmp_path / "run.worker1"]:
        shutil.rmtree(tmp_path / "run.worker1" / "backup" / newest[out])
    # The rerun goes through `zoo launch`, as a user on one machine would: two workers on loopback.
    argv = ["train", str(tiny_recipe_file), "--epochs", str(epochs)]
    argv += ["--set", "train.early_stopping_patience=0", "--out", str(out)]
    done = _zoo("launch", "--workers", "2", "--port", "24330", *argv, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # Only the chief writes: the run folder holds its files, and no worker left anything beside it.
    assert (out / "model.keras").is_file() and _accuracy(out) > 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "tiny_digits.toml"], "a worker left files behind"
    logged = _epochs_logged(out)
    assert logged[-1] == epochs - 1 and sorted(set(logged)) == list(range(epochs))
    assert len(logged) - epochs <= 1, f"more than one epoch was trained twice: {logged}"
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == epochs


@pytest.mark.parametrize(
    "tf_config, message",
    [
        ("{not json", "TF_CONFIG is not JSON"),
        (
            '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "ps", "index": 0}}',
            "task.type = 'ps' is not allowed",
        ),
        (
            '{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
            'expected a list of "host:port"',
        ),
    ],
)
def test_a_bad_tf_config_is_one_clear_line(tf_config, message):
    with pytest.raises(RunError, match=message):
        cluster_from_tf_config(tf_config)


def test_an_unknown_distribute_value_names_the_allowed_ones():
    with pytest.raises(RecipeError, match="allowed: none, mirrored, multi_worker"):
        make_strategy("mirroed")
    with pytest.raises(RecipeError, match="train.distribute = 'ring' is not allowed"):
        zoo.get_recipe("fashion_mlp", distribute="ring")


def test_an_unreachable_peer_ends_the_worker_within_the_timeout(tiny_recipe_file, tmp_path):
    config = tf_configs(2, 24340)[0]  # worker 1 never starts
    started = time.monotonic()
    done = _zoo(
        "train",
        str(tiny_recipe_file),
        "--distribute",
        "multi_worker",
        "--out",
        str(tmp_path / "run"),
        env={"TF_CONFIG": json.dumps(config), "ZOO_PEER_TIMEOUT": "5"},
        timeout=120,
    )
    assert time.monotonic() - started < 60
    assert (
        done.returncode != 0 and "the cluster was not complete within 5 s (its peers: 127.0.0.1:24341)" in done.stderr
    )
    assert not (tmp_path / "run").exists()


def test_sigterm_ends_a_worker_at_once():
    # TensorFlow's coordination service swallows SIGTERM (a "preemption notice"): a worker waiting on a
    # dead peer's collective ignored `kill` and a cluster manager's stop. zoo gives SIGTERM back its default.
    config = tf_configs(1, 24350)[0]
    script = (
        "import os, signal, time\n"
        "from zoo.training.distribute import make_strategy\n"
        "make_strategy('multi_worker')\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "time.sleep(5)\n"
        "print('still running')\n"
    )
    env = {**os.environ, "TF_CONFIG": json.dumps(config)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == -15 and "still running" not in done.stdout, done.stderr[-2000:]


def test_mixed_precision_computes_in_16_bits_with_a_float32_output():
    model = zoo.build(zoo.get_recipe("fashion_mlp", precision="mixed_bfloat16"), input_shape=(8, 8, 1), num_classes=3)
    assert model.get_layer("hidden_1").layers[0].compute_dtype == "bfloat16"
    assert model.get_layer("output").compute_dtype == "float32"
    x, y = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32), np.arange(16) % 3
    assert np.all(np.isfinite(model.train_on_batch(x, y)))
    assert zoo.build("fashion_mlp").get_layer("hidden_1").layers[0].compute_dtype == "float32", "the policy leaked"


@pytest.mark.parametrize(
    ("features", "accelerator", "expected"),
    [(["avx512_bf16"], False, "mixed_bfloat16"), ([], False, "float32"), (["amx_bf16"], True, "float32")],
)
def test_auto_precision_is_bfloat16_only_on_a_cpu_that_multiplies_it_natively(
    features, accelerator, expected, monkeypatch, tmp_path
):
    from zoo.nets import precision

    monkeypatch.setattr(precision, "cpu_bf16_features", lambda: features)
    monkeypatch.setattr(precision, "_accelerator_visible", lambda: accelerator)
    precision._auto.cache_clear()
    try:
        assert precision.resolve_precision("auto") == expected
        recipe = zoo.get_recipe("fashion_mlp", precision="auto", epochs=1, hidden=[8], batch_size=8)
        model = zoo.build(recipe, input_shape=(8, 8, 1), num_classes=3)
        assert model.get_layer("hidden_1").layers[0].compute_dtype == expected.removeprefix("mixed_")
        x, y = np.random.default_rng(0).random((40, 8, 8, 1), dtype=np.float32), np.arange(40) % 3
        result = zoo.train(recipe, data=(x, y, x[:9], y[:9]), out_dir=tmp_path / "run", verbose=0)
        assert result.metrics["precision"] == expected  # what it trained in, not the word "auto"
    finally:
        precision._auto.cache_clear()


@pytest.mark.parametrize("text", ["inf", "-1", "nan", "0", "1e9"])
def test_a_peer_timeout_must_be_a_finite_wait(text, monkeypatch):
    from zoo.training.distribute import peer_timeout

    monkeypatch.setenv("ZOO_PEER_TIMEOUT", text)
    with pytest.raises(RunError, match=r"ZOO_PEER_TIMEOUT = .* is not allowed; expected a number > 0 and <= 86400"):
        peer_timeout()


def test_a_port_in_use_is_one_line_before_any_worker_starts(tmp_path):
    import socket

    from zoo.training.launch import launch_local

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with pytest.raises(RunError, match=rf"port {taken} on 127.0.0.1 is in use; .* pass --port with a free range"):
            launch_local(["train", "tiny", "--out", str(tmp_path / "run")], workers=2, port=taken)
    assert not list(tmp_path.iterdir()), "no worker started, nothing written"
