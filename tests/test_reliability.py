"""Bad input gets a named zoo error, never a traceback; runs that did not train say so and are never shipped."""

import json

import pytest

import zoo
from zoo.cli.main import main
from zoo.training.status import training_status


def _recipe_file(tmp_path, body: str):
    path = tmp_path / "r.toml"
    path.write_text('name = "r"\ndataset = "digits"\nvalidation_size = 200\n' + body)
    return path


def test_a_recipe_file_that_is_not_utf8_or_is_a_folder(tmp_path):
    latin = tmp_path / "latin.toml"
    latin.write_bytes('name = "r"\ndescription = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(zoo.RecipeError, match="not UTF-8"):
        zoo.get_recipe(latin)
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(zoo.RecipeError, match="is a folder"):
        zoo.get_recipe(tmp_path / "folder.toml")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"model.hidden": []}, r"model\.hidden = \[\] is not allowed for model\.kind = 'mlp'"),
        ({"model.hidden": [8] * 2000}, "2000 hidden layers; zoo builds at most 500"),
    ],
)
def test_impossible_architectures_are_recipe_errors(overrides, message):
    with pytest.raises(zoo.RecipeError, match=message):
        zoo.get_recipe("fashion_mlp", **overrides)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"model.filters": [8] * 6},
            r"model\.filters = .* makes 6 2x2-pooling stages, more than 28x28 images allow with "
            r"model\.padding = 'same'; expected at most 4 stages",
        ),
        ({"model.kernel_size": 50}, r"model\.kernel_size = 50 is larger than the 28x28 images"),
    ],
)
def test_conv_nets_that_do_not_fit_the_images(overrides, message):
    with pytest.raises(zoo.RecipeError, match=message):
        zoo.build(zoo.get_recipe("fashion_cnn", **overrides))


def test_a_model_larger_than_memory_is_refused(monkeypatch):
    huge = zoo.get_recipe("fashion_mlp", hidden=[100_000] * 5)
    monkeypatch.delenv("ZOO_ALLOW_LARGE_MODELS", raising=False)
    with pytest.raises(zoo.RecipeError, match=r"needs about \d+\.\d GiB .* this machine has \d+\.\d GiB available"):
        zoo.build(huge)


def test_a_batch_larger_than_the_training_set(tmp_path, digits):
    recipe = zoo.get_recipe("fashion_mlp", dataset="digits", validation_size=200, batch_size=10_000_000)
    with pytest.raises(
        zoo.RecipeError, match=r"train\.batch_size = 10000000 is not allowed; expected an integer >= 1 and <= 1237"
    ):
        zoo.train(recipe, data=digits, out_dir=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists(), "a recipe that cannot train leaves no run folder behind"


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_an_unusable_zoo_data_dir_is_an_error_naming_it(tmp_path, monkeypatch, make):
    folder = tmp_path / "data"
    if make == "empty":
        folder.mkdir()
    monkeypatch.setenv("ZOO_DATA_DIR", str(folder))
    with pytest.raises(zoo.DataError, match=f"ZOO_DATA_DIR={folder}"):
        zoo.load_data("fashion_mnist", download=False)


def test_the_tfds_fallback_has_its_dependency():
    import importlib

    importlib.import_module("importlib_resources")  # tensorflow-datasets imports it to prepare a set


def test_training_status_names_divergence_and_chance():
    status, message = training_status({"loss": [2.3, float("nan")], "val_accuracy": [0.1]}, 10)
    assert status == "diverged" and "train.clipnorm" in message
    assert training_status({"loss": [2.3, 2.3], "val_accuracy": [0.1, 0.11]}, 10)[0] == "chance"
    assert training_status({"loss": [2.3, 0.5], "val_accuracy": [0.5, 0.9]}, 10) == ("ok", None)


@pytest.mark.slow
def test_a_diverging_run_exits_non_zero_and_is_never_saved(tiny_recipe_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZOO_SAVED_MODELS", str(tmp_path / "hub"))
    out = tmp_path / "run"
    code = main(
        [
            "train",
            str(tiny_recipe_file),
            "--epochs",
            "2",
            "--out",
            str(out),
            "--save",
            "--set",
            "train.optimizer=sgd",
            "--set",
            "train.learning_rate=1e6",
            "--set",
            "stack.batch_norm=false",
        ]
    )
    assert code == 3
    assert "diverged" in capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["diverged"] is True and metrics["status"] == "diverged"
    assert not (tmp_path / "hub").exists(), "a diverged model is never shipped"
    from zoo.errors import RunError
    from zoo.hub.saved import save_run

    with pytest.raises(RunError, match="never shipped"):
        save_run(out, root=tmp_path / "hub")
