"""The `zoo` command: every subcommand, and bad input as one clear line with exit status 2."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

import zoo
from zoo.cli.main import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "fashion_mlp" in out and "fashion_cnn" in out and "default stack" in out
    assert main(["list", "fashion_c*"]) == 0
    assert capsys.readouterr().out.startswith("fashion_cnn")
    assert main(["list", "zzz*"]) == 1


def test_show_prints_the_resolved_recipe_with_overrides(capsys):
    assert main(["show", "fashion_mlp", "--set", "stack.dropout=0.35", "--set", "train.epochs=3"]) == 0
    out = capsys.readouterr().out
    assert "dropout = 0.35" in out and "epochs = 3" in out and 'init = "he_normal"' in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["show", "fashon_mlp"], "unknown recipe 'fashon_mlp' (did you mean 'fashion_mlp'"),
        (["show", "fashion_mlp", "--set", "stack.dropout"], "does not parse; expected key=value"),
        (["show", "fashion_mlp", "--set", "stack.dropout=2"], "stack.dropout = 2.0 is out of range"),
        (["show", "fashion_mlp", "--set", "stack.activation=sigmod"], "did you mean 'sigmoid'"),
        (["train", "fashion_mlp", "--epochs", "0"], "--epochs 0 is not allowed"),
    ],
)
def test_bad_input_is_one_clear_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: ") and message in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_train_from_a_users_file(tiny_recipe_file, tmp_path, capsys):
    out_dir = tmp_path / "run"
    assert main(["train", str(tiny_recipe_file), "--epochs", "1", "--out", str(out_dir)]) == 0
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["epochs_run"] == 1 and metrics["variant"] == "recipe"
    assert "test accuracy" in capsys.readouterr().out
    # The same folder again: refused, nothing lost.
    assert main(["train", str(tiny_recipe_file), "--epochs", "1", "--out", str(out_dir)]) == 2
    assert "already holds a finished run" in capsys.readouterr().err
    assert json.loads((out_dir / "metrics.json").read_text()) == metrics


@pytest.mark.slow
def test_train_baseline(tiny_recipe_file, tmp_path):
    out_dir = tmp_path / "base"
    assert (
        main(
            [
                "train",
                str(tiny_recipe_file),
                "--epochs",
                "1",
                "--baseline",
                "--learning-rate",
                "0.5",
                "--out",
                str(out_dir),
            ]
        )
        == 0
    )
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["variant"] == "baseline" and metrics["learning_rate"] == 0.5


def test_zoo_lists_recipes_from_another_directory(tmp_path):
    # CI installs zoo non-editable and runs the tests from elsewhere, so this proves the
    # recipes ship inside the installed package.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "zoo.cli.main", "list"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "fashion_deep_mlp" in done.stdout


@pytest.mark.slow
@pytest.mark.fashion
def test_train_fashion_mlp_one_epoch_on_real_data(tmp_path, capsys):
    import os

    import zoo

    try:
        zoo.load_data("fashion_mnist", download=False)
    except zoo.DataError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Fashion-MNIST files absent")
    # A narrower net than the shipped [1024, 1024]: what is tested is the real files end to end.
    argv = ["train", "fashion_mlp", "--epochs", "1", "--set", "model.hidden=[256]", "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["data"]["train_size"] == 55000 and metrics["data"]["test_size"] == 10000
    assert metrics["test_accuracy"] > 0.80, "one epoch of the recipe reaches ~0.84 on Fashion-MNIST"


@pytest.mark.slow
def test_train_save_then_transfer_from_the_command_line(tiny_recipe_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZOO_SAVED_MODELS", str(tmp_path / "hub"))
    assert main(["train", str(tiny_recipe_file), "--epochs", "1", "--out", str(tmp_path / "run"), "--save"]) == 0
    from zoo.hub.saved import model_files

    assert model_files("tiny_digits")["model.keras"].is_file()
    assert model_files("tiny_digits")["model.keras"].is_relative_to(tmp_path / "hub" / "tiny_digits")
    assert "Saved for reuse" in capsys.readouterr().out
    assert (
        main(
            [
                "transfer",
                "tiny_digits",
                "--classes",
                "3,8",
                "--train-size",
                "50",
                "--head-epochs",
                "1",
                "--tune-epochs",
                "1",
            ]
        )
        == 0
    )
    assert "-> classes [3, 8] (3, 8), 50 training images: test accuracy" in capsys.readouterr().out
    # A user's own folder of images, at another size: resized to the source's 8x8 input, its folders the classes.
    # 18 images leave 13 to train on, fewer than the source's batch of 16: the batch adapts (it was refused).
    from PIL import Image

    digits = zoo.load("digits", validation_size=200)
    x, y = digits.arrays["train"]
    for index in np.flatnonzero(y < 3)[:18]:
        (tmp_path / "mine" / f"d{y[index]}").mkdir(parents=True, exist_ok=True)
        pixels = (x[index, :, :, 0] * 255 / max(x.max(), 1)).astype(np.uint8)
        Image.fromarray(pixels).resize((16, 16)).save(tmp_path / "mine" / f"d{y[index]}" / f"{index}.png")
    out = tmp_path / "transferred"
    argv = ["transfer", "tiny_digits", "--data", str(tmp_path / "mine"), "--epochs", "1", "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "tiny_digits -> classes d0, d1, d2, " in said and f"model in {out / 'model.keras'}" in said
    saved = json.loads((out / "transfer.json").read_text())
    assert saved["classes"] == ["d0", "d1", "d2"] and saved["head_epochs"] == saved["tune_epochs"] == 1
    assert saved["sizes"]["train"] == 13 and saved["batch_size"] == 8
    assert keras.saving.load_model(out / "model.keras").output_shape == (None, 3)
    assert main(argv) == 2 and "already holds a transferred model" in capsys.readouterr().err
    assert main(["transfer", "tiny_digits"]) == 2
    assert "name the new task: --data FOLDER (your images), or --classes of digits" in capsys.readouterr().err
    assert main(["transfer", "tiny_digits", "--classes", "3;8"]) == 2
    assert "--classes '3;8' does not parse" in capsys.readouterr().err
    assert main(["transfer", "nothing_here", "--classes", "3,8"]) == 2
    assert "unknown pretrained model 'nothing_here'; available: tiny_digits" in capsys.readouterr().err


def test_an_interruption_says_exactly_how_to_resume(tiny_recipe_file, monkeypatch, capsys):
    import zoo.training.trainer

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(zoo.training.trainer, "train", interrupted)
    assert main(["train", str(tiny_recipe_file), "--epochs", "1"]) == 130
    hint = capsys.readouterr().err
    assert (
        f"resume from the last finished epoch with: zoo train {tiny_recipe_file} --epochs 1 --out runs/tiny_digits-"
        in hint
    )


@pytest.mark.slow
def test_bench_command_runs_end_to_end(tiny_recipe_file, tmp_path, monkeypatch, capsys):
    """The main job's command (`zoo bench NAME --seeds 1 --no-ablation --epochs N --out DIR`), on a tiny recipe."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "bench"
    assert (
        main(["bench", str(tiny_recipe_file), "--seeds", "1", "--no-ablation", "--epochs", "1", "--out", str(out)]) == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert set(results["summary"]) == {"baseline", "recipe"} and (out / "report.md").is_file()
    shown = capsys.readouterr().out
    assert "1/3, ETA " in shown and "3/3]" in shown, "run k/N lines with an ETA: 2 baseline rates, 1 recipe seed"
    assert shown.rstrip().splitlines()[-1].startswith("tiny_digits: test accuracy ")


@pytest.mark.slow
def test_quiet_prints_only_the_answer(tiny_recipe_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(tiny_recipe_file), "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("tiny_digits: test accuracy ") and lines[1].startswith("Run folder")
    bench = tmp_path / "bench"
    argv = ["bench", str(tiny_recipe_file), "--seeds", "1", "--no-ablation", "--epochs", "1", "--out", str(bench)]
    assert main([*argv, "--quiet"]) == 0
    (line,) = capsys.readouterr().out.splitlines()  # no report echoed, no run k/N lines: the answer alone
    assert line.startswith("tiny_digits: test accuracy ") and line.endswith(f"report: {bench / 'report.md'}")


def test_version_prints_the_packages_version(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0 and capsys.readouterr().out.strip() == f"zoo {zoo.__version__}"


SMALL_TABLE_RECIPE = """
name = "small_table"
extends = "tabular"
[model]
hidden = [8]
[train]
epochs = 2
jit_compile = "off"
[tune]
"model.hidden" = { choices = [[8], [16]] }
[baseline]
learning_rates = [0.1]
"""


def _pasted(printed: str, prefix: str, end: str = ")") -> list[str]:
    """The command between `prefix` and `end` in what zoo printed, as the arguments a shell would pass."""
    import shlex

    line = next(line for line in printed.splitlines() if prefix in line)
    return shlex.split(line.split(prefix, 1)[1].split(end)[0])


@pytest.mark.slow
def test_every_next_step_command_zoo_prints_runs_on_the_same_data(tmp_path, capsys):
    rng = np.random.default_rng(0)
    weight = rng.normal(10, 3, 120)
    rows = pd.DataFrame({"weight": weight, "colour": rng.choice(["red", "blue"], 120)})
    rows.assign(kind=np.where(weight > 10, "heavy", "light")).to_csv(tmp_path / "my pets.csv", index=False)
    (tmp_path / "small.toml").write_text(SMALL_TABLE_RECIPE)
    data = ["--data", str(tmp_path / "my pets.csv"), "--target", "kind"]
    recipe = str(tmp_path / "small.toml")
    # lr-find prints a `zoo train ...` line; tune prints one; bench's report ends with its "Regenerate:" line.
    assert main(["lr-find", recipe, *data, "--epochs", "2", "--out", str(tmp_path / "lr")]) == 0
    commands = [_pasted(capsys.readouterr().out, "Train with it: zoo ")]
    # --epochs: two passes over the training rows in the recipe's batches, each step one rate of the sweep.
    rates = json.loads((tmp_path / "lr" / "lr_find.json").read_text())["rates"]
    from zoo.data.sources import recipe_data

    fitted, rows = recipe_data(zoo.get_recipe(recipe), zoo.load_data(tmp_path / "my pets.csv", target="kind"))
    steps = 2 * -(-rows.sizes["train"] // fitted.train.batch_size)  # the batch the table's size gave the recipe
    assert rates[1] / rates[0] == pytest.approx((10.0 / 1e-7) ** (1 / (steps - 1)))
    assert main(["tune", recipe, *data, "--trials", "1", "--out", str(tmp_path / "tune")]) == 0
    commands.append(_pasted(capsys.readouterr().out, "train it: zoo "))
    assert main(["bench", recipe, *data, "--seeds", "1", "--no-ablation", "--out", str(tmp_path / "bench")]) == 0
    capsys.readouterr()
    commands.append(_pasted((tmp_path / "bench" / "report.md").read_text(), "Regenerate: `zoo ", end="`"))
    for index, command in enumerate(commands):
        out = ["--out", str(tmp_path / f"pasted{index}")] if command[0] == "train" else []
        assert "--data" in command and main(command + out) == 0, command


def test_every_command_that_trains_takes_the_common_flags():
    import argparse

    from zoo.cli.dataflags import recipe_from_args
    from zoo.cli.parser import build_parser
    from zoo.tools.search import ALGORITHMS

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name in ("train", "diagnose", "pretrain", "lr-find", "tune"):
        flags = {flag for action in commands[name]._actions for flag in action.option_strings}
        assert {"--data", "--seed", "--out", "--set", "--quiet"} <= flags, name
    assert {"--data", "--seed", "--out"} <= {f for a in commands["transfer"]._actions for f in a.option_strings}
    for name in ("bench", "transfer", "experiment"):
        assert "--quiet" in {f for a in commands[name]._actions for f in a.option_strings}, name
    for name in ("train", "bench", "diagnose", "tune", "pretrain", "lr-find", "transfer"):
        assert "--epochs" in {f for a in commands[name]._actions for f in a.option_strings}, name
    algorithm = next(a for a in commands["tune"]._actions if "--algorithm" in a.option_strings)
    assert tuple(algorithm.choices) == tuple(ALGORITHMS)
    args = parser.parse_args(["train", "mlp", "--seed", "7", "--set", "train.epochs=3"])
    assert recipe_from_args(args).train.seed == 7 and recipe_from_args(args).train.epochs == 3


def test_experiment_options_go_to_the_experiments_that_take_them(capsys):
    from zoo.cli.main import main

    assert main(["experiment", "levers", "--sets", "mnist"]) == 2
    assert "--sets goes with `zoo experiment heldout`; levers takes --recipes, --seeds" in capsys.readouterr().err
    assert main(["experiment", "heldout", "--recipes", "fashion_mlp"]) == 2
    assert "--recipes goes with `zoo experiment levers`" in capsys.readouterr().err
    # A misspelt recipe is refused before anything trains (the sweep's first recipe would take minutes).
    assert main(["experiment", "levers", "--recipes", "fashion_selu,fashion_mpl"]) == 2
    assert "fashion_mpl" in capsys.readouterr().err


def test_an_experiment_run_in_sittings_says_how_long_this_call_took(capsys, monkeypatch):
    """The levers sweep's results record the seconds of every sitting that trained a recipe (13,962 s when a
    95-second call added fashion_cnn_tiny); the line a user reads after the call is that call's own time."""
    import zoo.experiments

    monkeypatch.setattr(zoo.experiments, "run_experiment", lambda name, **options: {"seconds": 13962.1})
    assert main(["experiment", "levers", "--recipes", "fashion_cnn_tiny"]) == 0
    assert "zoo experiment levers: done in 0 s; its report is under benchmarks/results/" in capsys.readouterr().out


def test_zoos_own_warnings_print_as_one_line_without_pythons_source_line(capsys):
    """A command's warning is `zoo: warning: ...`, not Python's `file:line: UserWarning: ...` and the source line."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["show", "mlp", "--set", "stack.dropout_kind=alpha", "--set", "stack.dropout=0.1"]) == 0
    err = capsys.readouterr().err
    assert "zoo: warning: stack.dropout_kind = 'alpha' with stack.activation = 'elu'" in err, err
    assert "UserWarning" not in err and "warnings.warn(" not in err and ".py:" not in err, err
