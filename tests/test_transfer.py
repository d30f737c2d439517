"""Saved models and transfer learning: verified files, new heads, frozen bodies, untouched sources."""

import json

import numpy as np
import pytest

import zoo
from zoo.data.builtin import select_classes
from zoo.hub.reuse import fine_tune, transfer
from zoo.hub.saved import IntegrityError, list_pretrained, load_pretrained, model_files, save_run, verify


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, digits):
    recipe = zoo.get_recipe(
        "fashion_mlp",
        name="digits_mlp",
        dataset="digits",
        validation_size=200,
        hidden=[32, 16],
        batch_size=16,
        epochs=2,
        dropout=0.1,
    )
    out = tmp_path_factory.mktemp("run") / "run"
    return zoo.train(recipe, data=digits, out_dir=out, verbose=0)


@pytest.fixture
def hub(trained_run, tmp_path):
    save_run(trained_run.run_dir, root=tmp_path)
    return tmp_path


def test_save_then_load_gives_identical_predictions(trained_run, hub, digits):
    assert list_pretrained(hub) == ["digits_mlp"]
    manifest = json.loads((hub / "manifest.json").read_text())
    # One version folder per save: digits_mlp/<sha256 prefix>/{model.keras,card.json,README.md}.
    assert sorted(key.split("/")[-1] for key in manifest) == ["README.md", "card.json", "model.keras"]
    readme = (hub / next(key for key in manifest if key.endswith("README.md"))).read_text()
    import yaml

    meta = yaml.safe_load(readme.split("---")[1])  # the model-card metadata a hub reads
    assert meta["library_name"] == "keras" and meta["license"] == "apache-2.0" and meta["metrics"] == ["accuracy"]
    assert meta["zoo"]["classes"] == [str(k) for k in range(10)] and "8x8x1" in meta["zoo"]["input"]
    assert "## Intended use and limits" in readme and 'keras.saving.load_model("model.keras")' in readme
    assert all(key.startswith("digits_mlp/") for key in manifest)
    card = verify("digits_mlp", hub)
    assert card["test_accuracy"] == trained_run.metrics["test_accuracy"] and card["recipe"]["name"] == "digits_mlp"
    assert {"params", "train_seconds", "seed", "versions", "date", "split"} <= set(card)
    loaded = load_pretrained("digits_mlp", root=hub)
    x = digits.arrays["test"][0][:50]
    for saved, trained in zip(loaded.get_weights(), trained_run.model.get_weights()):
        np.testing.assert_array_equal(saved, trained)  # bit for bit
    # The trained model predicts through XLA (dense nets compile with it), the loaded one without:
    # the same weights, the float operations fused differently, so equal to rounding error.
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), trained_run.model.predict(x, verbose=0), rtol=1e-5, atol=1e-7
    )


def test_saved_file_holds_no_optimizer_state(hub):
    import io
    import zipfile

    import h5py

    with zipfile.ZipFile(model_files("digits_mlp", hub)["model.keras"]) as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        assert "optimizer" not in weights or not len(weights["optimizer"]), "shipped models carry no optimizer slots"
    assert oct((model_files("digits_mlp", hub)["model.keras"]).stat().st_mode & 0o044) == oct(0o044), (
        "readable by everyone"
    )


def test_one_changed_byte_is_refused(hub):
    path = model_files("digits_mlp", hub)["model.keras"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(
        IntegrityError,
        match=r"model\.keras has been altered or truncated: expected sha256 [0-9a-f]{64}, found [0-9a-f]{64}",
    ):
        load_pretrained("digits_mlp", root=hub)


def test_missing_file_and_unknown_name(hub):
    (model_files("digits_mlp", hub)["card.json"]).unlink()
    with pytest.raises(IntegrityError, match=r"card\.json is missing"):
        load_pretrained("digits_mlp", root=hub)
    with pytest.raises(zoo.RecipeError, match="unknown pretrained model 'nope'; available: digits_mlp"):
        load_pretrained("nope", root=hub)
    with pytest.raises(zoo.RecipeError, match="num_classes = 0 is not allowed"):
        load_pretrained("digits_mlp", num_classes=0, root=hub)


def test_new_head_keeps_the_body(trained_run, hub):
    model = load_pretrained("digits_mlp", num_classes=3, root=hub)
    assert model.output_shape == (None, 3)
    for name in ("hidden_1", "hidden_2"):
        for a, b in zip(model.get_layer(name).get_weights(), trained_run.model.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)


def test_frozen_body_does_not_change_and_the_source_is_untouched(trained_run, digits):
    source = trained_run.model
    source_weights = [w.copy() for w in source.get_weights()]
    two = select_classes(digits, [3, 8], train_size=64)
    model = transfer(source, num_classes=2, freeze="all", input_shape=two.info.input_shape)
    # Per block: kernel, BN gamma and beta, and BN moving mean and variance.
    body = [w.copy() for layer in model.layers[1:-1] for w in layer.get_weights()]
    head = [w.copy() for w in model.get_layer("output").get_weights()]
    model.fit(zoo.batches(two, batch_size=16).train, epochs=1, verbose=0, shuffle=False)
    after = [w for layer in model.layers[1:-1] for w in layer.get_weights()]
    assert len(body) == 10 and all(np.array_equal(a, b) for a, b in zip(body, after))
    assert not np.array_equal(head[0], model.get_layer("output").get_weights()[0]), "the head did train"
    assert all(np.array_equal(a, b) for a, b in zip(source_weights, source.get_weights()))
    assert source.output_shape == (None, 10)


@pytest.mark.slow
def test_partial_freeze_and_fine_tune(trained_run, digits):
    two = select_classes(digits, [3, 8], train_size=64)
    model = transfer(trained_run.model, 2, freeze=1)
    assert [layer.trainable for layer in model.layers[1:]] == [False, True, True, True]
    tuned, history = fine_tune(trained_run.model, two, head_epochs=1, tune_epochs=1)
    assert all(layer.trainable for layer in tuned.layers) and len(history["fine_tune"]["loss"]) == 1
    few = select_classes(digits, [3, 8], train_size=20)  # 18 to train on after validation's tenth
    with pytest.raises(zoo.DataError, match=r"batch_size = 32 is more than the \d+ training examples; .* = 8"):
        fine_tune(trained_run.model, few, head_epochs=1, tune_epochs=0)


def test_transfer_bad_input(trained_run):
    with pytest.raises(
        zoo.RecipeError, match="freeze = 9 is not allowed; expected 'all', 'none' or an integer from 0 to 3"
    ):
        transfer(trained_run.model, 2, freeze=9)
    with pytest.raises(zoo.RecipeError, match="num_classes = 0 is not allowed"):
        transfer(trained_run.model, 0)
    with pytest.raises(
        zoo.DataError, match=r"the new data has examples of shape \(28, 28, 1\); 'digits_mlp' takes \(8, 8, 1\)"
    ):
        transfer(trained_run.model, 2, input_shape=(28, 28, 1))


def test_select_classes(digits):
    two = select_classes(digits, [8, 3], train_size=40)
    assert two.info.num_classes == 2 and two.sizes["train"] == 40
    assert set(np.unique(two.arrays["test"][1])) == {0, 1}
    with pytest.raises(zoo.DataError, match="classes = \\[3, 3\\] is not allowed"):
        select_classes(digits, [3, 3])
