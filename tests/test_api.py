"""One way per task: one data entry point for every kind of data, batches from the recipe, names that
say what they do, and last release's names kept one release as warning aliases."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import zoo


def _toy(count: int = 120):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(count, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def test_every_kind_of_data_enters_through_load_data(tmp_path):
    x, y = _toy()
    np.savez(tmp_path / "toy.npz", x_train=x, y_train=y)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "colour": np.where(y, "red", "blue"), "label": y})
    kinds = {
        "built-in name": zoo.load_data("digits", validation_size=200),
        "path": zoo.load_data(tmp_path / "toy.npz"),
        "arrays": zoo.load_data((x, y)),
        "DataFrame": zoo.load_data(frame, target="label"),
        "tf.data.Dataset": zoo.load_data(tf.data.Dataset.from_tensor_slices((x, y)).batch(32)),
    }
    for kind, splits in kinds.items():
        assert isinstance(splits, zoo.Splits), kind
        assert sum(splits.sizes.values()) == (1797 if kind == "built-in name" else 120), kind
        assert splits.info.num_classes == (10 if kind == "built-in name" else 2), kind
    # Arrays, the npz file and the dataset hold the same rows, so they split the same way.
    np.testing.assert_array_equal(kinds["arrays"].arrays["test"][1], kinds["path"].arrays["test"][1])
    np.testing.assert_array_equal(kinds["arrays"].arrays["test"][0], kinds["tf.data.Dataset"].arrays["test"][0])
    assert kinds["DataFrame"].encoder is not None, "a DataFrame is encoded like a CSV table"
    assert zoo.load_data(kinds["arrays"]) is kinds["arrays"], "Splits come back as they are"
    # Four arrays keep the given test split.
    assert zoo.load_data((x[:100], y[:100], x[100:], y[100:])).sizes["test"] == 20


@pytest.mark.parametrize(
    "data, options, message",
    [
        ({"x": [1, 2]}, {}, r"data = dict is not allowed; expected fashion_mnist, digits, .* a pandas DataFrame"),
        (pd.DataFrame({"a": [1.0, 2.0]}), {}, "data is a DataFrame: name its target column with target=COLUMN"),
        ((np.zeros((5, 2)), np.zeros(4)), {}, r"x has shape \(5, 2\) and its targets \(4,\)"),
        ((np.zeros((5, 2)), np.zeros(5)), {"target": "y"}, "target='y' goes with a table or a DataFrame"),
        (tf.data.Dataset.range(3), {}, r"elements are .*; expected \(x, y\) pairs"),
    ],
)
def test_data_that_zoo_cannot_take_is_named(data, options, message):
    with pytest.raises(zoo.DataError, match=message):
        zoo.load_data(data, **options)


@pytest.mark.slow
def test_train_takes_what_load_data_takes(tmp_path):
    x, y = _toy(240)
    recipe = zoo.get_recipe("mlp", hidden=[8], epochs=1, batch_size=16, early_stopping_patience=0)
    result = zoo.train(recipe, data=(x, y), out_dir=tmp_path / "run", verbose=0)
    assert result.metrics["data"]["test_size"] == 48 and result.model.input_shape == (None, 4)


@pytest.mark.slow
def test_batches_come_from_the_recipe_not_from_the_data(tmp_path):
    """Data read with no batch size trains at the recipe's batch, and the schedule is sized for it."""
    data = zoo.load_data("digits", validation_size=200)  # 1,237 training examples
    recipe = zoo.get_recipe(
        "mlp", hidden=[16], batch_size=64, epochs=2, schedule="1cycle", fast_path=False, early_stopping_patience=0
    )
    steps = math.ceil(1237 / 64)
    assert zoo.batches(data, recipe).steps_per_epoch == steps == 20
    result = zoo.train(recipe, data=data, out_dir=tmp_path / "run", verbose=0)
    assert int(result.model.optimizer.iterations) == 2 * steps, "every epoch ran ceil(n / recipe batch) steps"
    assert result.model.optimizer._learning_rate.total_steps == 2 * steps, "the schedule's length matches"


def test_batches_read_the_recipe_and_take_keywords():
    data = zoo.load_data("digits", validation_size=200)
    served = zoo.batches(data, zoo.get_recipe("fashion_mlp"))  # batch 128, 1-pixel shifts
    first = next(iter(served.train))[0]
    assert tuple(first.shape) == (128, 8, 8, 1) and served.batch_size == 128
    assert zoo.batches(data, batch_size=10).steps_per_epoch == 124
    with pytest.raises(
        zoo.RecipeError, match=r"train.batch_size = 2000 is not allowed; expected an integer >= 1 and <= 1237"
    ):
        zoo.batches(data, batch_size=2000)


def test_last_releases_names_warn_and_still_work():
    with pytest.warns(DeprecationWarning, match=r"zoo.load is deprecated .* use zoo.load_data\(name\)"):
        splits = zoo.load("digits", batch_size=16, validation_size=200)
    assert splits.sizes["validation"] == 200
    with pytest.warns(DeprecationWarning, match="zoo.read_data is deprecated"):
        assert zoo.read_data("digits").sizes["validation"] == 200
    x, y = _toy()
    with pytest.warns(DeprecationWarning, match="zoo.from_arrays is deprecated"):
        assert zoo.from_arrays(x, y, x[:10], y[:10], batch_size=8).sizes["test"] == 10
    with pytest.warns(DeprecationWarning, match="zoo.get_dataset_info"):
        assert zoo.dataset_info("digits").input_shape == (8, 8, 1)
    with pytest.warns(DeprecationWarning, match=r"Splits.train is deprecated .* zoo.batches\(splits, recipe\).train"):
        first = next(iter(splits.train))
    assert tuple(first[0].shape) == (32, 8, 8, 1), "the old default batch of 32"
    recipe = zoo.get_recipe("fashion_mlp")
    with pytest.warns(DeprecationWarning, match=r"Recipe.replace\(...\) is deprecated"):
        assert recipe.replace(epochs=2).train.epochs == 2


def test_the_api_names_one_way_per_task():
    names = set(zoo.__all__)
    for old in ("load", "read_data", "from_arrays", "dataset_info"):
        assert old not in names, f"zoo.{old} is a deprecated alias, not part of the API"
    assert {"load_data", "batches", "bench", "save_pretrained", "TuneResult", "LRFindResult", "IntegrityError"} <= names
    loaders = sorted(n for n in names if n.startswith(("list_", "get_", "load_")))
    assert loaders == [
        "get_activation",
        "get_dataset_info",
        "get_initializer",
        "get_optimizer",
        "get_recipe",
        "get_stack",
        "list_datasets",
        "list_pretrained",
        "list_recipes",
        "load_data",
        "load_pretrained",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert zoo.list_datasets() == ["digits", "fashion_mnist"]


def test_the_old_layers_module_still_registers_zoo_layers_and_warns():
    import importlib
    import sys

    sys.modules.pop("zoo.layers", None)
    with pytest.warns(DeprecationWarning, match="zoo.layers is deprecated .* use zoo.nets.layers"):
        old = importlib.import_module("zoo.layers")
    assert old.RReLU is zoo.RReLU
