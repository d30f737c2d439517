"""The learning-rate finder: the sweep, the rule, the files, the CLI, and bad arguments."""

import json

import numpy as np
import pytest

import zoo
from zoo.cli.main import main
from zoo.tools.lrfind import lr_find, steepest


def test_steepest_rule_picks_the_fastest_fall_against_log_rate():
    rates = list(np.logspace(-5, 0, 21))
    losses = [2.3] * 8 + [2.3 - 0.4 * k for k in range(1, 5)] + [0.7] * 6 + [1.5, 3.0, 6.0]
    assert rates[8] <= steepest(rates, losses) <= rates[12]
    with pytest.raises(zoo.RecipeError, match="at least 3 are needed"):
        steepest([1e-3, 1e-2], [1.0, 0.5])


@pytest.mark.slow
def test_sweep_grows_the_rate_stops_at_blowup_and_suggests_a_working_rate(tiny_recipe, digits, tmp_path):
    found = lr_find(tiny_recipe, data=digits, start=1e-5, end=100.0, steps=120, out_dir=tmp_path)
    assert found.rates == sorted(found.rates) and found.rates[0] == pytest.approx(1e-5)
    assert len(found.rates) < 120, "Adam at rates up to 100 blows the loss up before the sweep ends"
    assert 1e-4 < found.suggestion < 1.0 and found.optimizer == "adam"
    assert found.command() == f"--set train.learning_rate={found.suggestion:.3g}"
    saved = json.loads((tmp_path / "lr_find.json").read_text())
    assert saved["suggestion"] == found.suggestion and saved["rule"] == "steepest"
    assert (tmp_path / "lr_find.png").stat().st_size > 5000
    trained = zoo.train(
        zoo.get_recipe(tiny_recipe, **{"train.learning_rate": found.suggestion}),
        data=digits,
        out_dir=tmp_path / "run",
        verbose=0,
    )
    assert trained.test["accuracy"] > 0.8, "the suggested rate trains the net"


def test_baseline_sweep_uses_sgd(tiny_recipe, digits):
    found = lr_find(tiny_recipe, data=digits, baseline=True, start=1e-3, end=100.0, steps=40)
    assert found.optimizer == "sgd" and found.recipe.endswith("_baseline")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"steps": 0}, "steps = 0"),
        ({"start": 1.0, "end": 0.1}, "the sweep needs start < end"),
        ({"start": 0.0}, "start = 0"),
    ],
)
def test_bad_sweep_arguments_are_named(tiny_recipe, digits, arguments, message):
    with pytest.raises(zoo.ZooError, match=message):
        lr_find(tiny_recipe, data=digits, **arguments)


@pytest.mark.slow
def test_cli_prints_the_suggestion_and_the_command(tiny_recipe_file, tmp_path, capsys):
    assert main(["lr-find", str(tiny_recipe_file), "--steps", "40", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "the loss falls fastest at rate" in out and "--set train.learning_rate=" in out
    assert main(["lr-find", str(tiny_recipe_file), "--steps", "0"]) == 2
    assert "steps = 0" in capsys.readouterr().err
