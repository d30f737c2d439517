"""Greedy layer-wise pretraining: RBMs learn, DAEs learn, their weights land in the MLP, bad settings are refused."""

import json

import keras
import numpy as np
import pytest

import zoo
from zoo.cli.main import main
from zoo.training.pretrain import RBM, DenoisingAutoencoder, hidden_dense_layers, load_into, pretrain_layers


@pytest.fixture(scope="module")
def binary_toy():
    """2,000 noisy copies of 4 random binary prototypes of 36 pixels: easy for an RBM to model."""
    rng = np.random.default_rng(0)
    prototypes = (rng.random((4, 36)) < 0.5).astype("float32")
    x = prototypes[rng.integers(0, 4, 2000)]
    return np.abs(x - (rng.random(x.shape) < 0.05)).astype("float32")


def _pretrain_recipe(tiny_recipe, **overrides):
    """The tiny digits recipe as a plain sigmoid net (what RBM pretraining is for)."""
    return zoo.get_recipe(
        tiny_recipe,
        **{
            "init": "scaled_normal",
            "activation": "sigmoid",
            "batch_norm": False,
            "dropout": 0.0,
            "optimizer": "sgd",
            "learning_rate": 0.1,
            "method": "rbm",
            "layer_epochs": 2,
            **overrides,
        },
    )


def test_cd1_lowers_reconstruction_error(binary_toy):
    rbm = RBM(36, 8, cd_k=1, learning_rate=0.1, seed=0)
    before = rbm.reconstruction_error(binary_toy)
    history = rbm.fit(binary_toy, epochs=5, batch_size=32, verbose=False)
    after = rbm.reconstruction_error(binary_toy)
    assert after < 0.5 * before, (before, after)
    assert history["reconstruction_error"][-1] < history["reconstruction_error"][0]
    # The model now finds the training data more likely: lower free energy.
    assert history["free_energy"][-1] < history["free_energy"][0]


def test_cd_k_runs_more_gibbs_steps_and_still_learns(binary_toy):
    rbm = RBM(36, 8, cd_k=3, learning_rate=0.1, seed=1)
    before = rbm.reconstruction_error(binary_toy)
    rbm.fit(binary_toy, epochs=3, batch_size=32, verbose=False)
    assert rbm.reconstruction_error(binary_toy) < before


@pytest.mark.slow
def test_denoising_autoencoder_learns_with_any_activation(binary_toy):
    for activation, init in (("sigmoid", "scaled_normal"), ("elu", "he_normal")):
        dae = DenoisingAutoencoder(
            36, 8, activation=activation, init=init, noise=0.3, learning_rate=0.05, momentum=0.9, seed=0
        )
        history = dae.fit(binary_toy, epochs=4, batch_size=32, verbose=False)
        assert history["reconstruction_error"][-1] < history["reconstruction_error"][0], activation
        assert dae.transform(binary_toy).shape == (2000, 8)


@pytest.mark.slow
def test_denoising_autoencoder_trains_the_same_every_time(binary_toy):
    # Its masks come from (seed, epoch, batch index) alone: two fits with one seed match to the
    # last digit, and a second epoch draws masks of its own (another seed trains differently).
    errors = [
        DenoisingAutoencoder(36, 8, noise=0.3, seed=seed).fit(binary_toy, epochs=2, batch_size=32, verbose=False)[
            "reconstruction_error"
        ]
        for seed in (0, 0, 1)
    ]
    assert errors[0] == errors[1]
    assert errors[0] != errors[2]


def test_greedy_stack_feeds_each_layer_the_one_below(binary_toy):
    stack = pretrain_layers(binary_toy, [16, 8], method="rbm", layer_epochs=1, verbose=False)
    assert [kernel.shape for kernel, _ in stack.layers] == [(36, 16), (16, 8)]
    assert [bias.shape for _, bias in stack.layers] == [(16,), (8,)]
    assert [layer["inputs"] for layer in stack.history] == [36, 16]


def test_pretrained_weights_land_in_the_mlp_and_survive_save_load(tiny_recipe, digits, tmp_path):
    recipe = _pretrain_recipe(tiny_recipe, epochs=1)
    model = zoo.build(recipe)
    stack = pretrain_layers(digits.arrays["train"][0], list(recipe.model.hidden), layer_epochs=1, verbose=False)
    load_into(model, stack)
    for layer, (kernel, bias) in zip(hidden_dense_layers(model), stack.layers):
        np.testing.assert_array_equal(layer.kernel.numpy(), kernel)
        np.testing.assert_array_equal(layer.bias.numpy(), bias)
    path = tmp_path / "pretrained.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = digits.arrays["test"][0][:50]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_train_pretrains_then_fine_tunes(tiny_recipe, digits, tmp_path):
    recipe = _pretrain_recipe(tiny_recipe, epochs=1)
    result = zoo.train(recipe, data=digits, out_dir=tmp_path / "run", verbose=0)
    record = json.loads(result.paths["pretrain"].read_text())
    assert record["method"] == "rbm" and record["sizes"] == [32, 16]
    assert result.paths["filters"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # 8x8 digits: square tiles
    assert result.metrics["pretrain_seconds"] > 0
    # The sigmoid/SGD baseline of a pretraining recipe starts from random weights.
    plain = zoo.train(recipe, data=digits, out_dir=tmp_path / "plain", baseline=True, verbose=0)
    assert "pretrain" not in plain.paths and plain.metrics["pretrain_seconds"] == 0


@pytest.mark.slow
def test_fine_tuning_starts_from_the_pretrained_weights(tiny_recipe, digits, tmp_path):
    """With pretraining on, the first hidden layer's weights before fine-tuning are the RBM's."""
    recipe = _pretrain_recipe(tiny_recipe, epochs=1, learning_rate=1e-9)  # fine-tuning barely moves anything
    result = zoo.train(recipe, data=digits, out_dir=tmp_path / "run", verbose=0)
    keras.utils.set_random_seed(recipe.train.seed)
    stack = zoo.training.pretrain.pretrain_recipe(recipe, digits.arrays["train"][0], verbose=False)
    first = hidden_dense_layers(result.model)[0]
    np.testing.assert_allclose(first.kernel.numpy(), stack.layers[0][0], atol=1e-5)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"cd_k": 0}, "pretrain.cd_k = 0 is out of range"),
        ({"noise": 1.0}, "pretrain.noise = 1.0 is out of range"),
        ({"noise": -0.1}, "pretrain.noise = -0.1 is out of range"),
        ({"layer_epochs": 0}, "pretrain.layer_epochs = 0 is out of range"),
        ({"method": "boltzmann"}, "pretrain.method = 'boltzmann' is not allowed"),
        ({"activation": "elu"}, "pretrain.method = 'rbm' needs stack.activation = 'sigmoid'"),
        ({"batch_norm": True}, "needs stack.batch_norm = false"),
        ({"kind": "cnn"}, "needs model.kind = 'mlp'"),
    ],
)
def test_bad_pretraining_settings_are_refused(tiny_recipe, overrides, message):
    with pytest.raises(zoo.RecipeError, match=message.replace("(", r"\(").replace(".", r"\.")):
        _pretrain_recipe(tiny_recipe, **overrides)


def test_bad_arguments_to_the_building_blocks_are_refused(binary_toy):
    with pytest.raises(zoo.RecipeError, match=r"pretrain\.cd_k = 0"):
        RBM(36, 8, cd_k=0)
    with pytest.raises(zoo.RecipeError, match=r"pretrain\.noise = 1\.5"):
        DenoisingAutoencoder(36, 8, noise=1.5)
    with pytest.raises(zoo.RecipeError, match="visible units"):
        RBM(20, 8).fit(binary_toy, epochs=1, verbose=False)
    with pytest.raises(zoo.RecipeError, match=r"probabilities in \[0, 1\]"):
        RBM(36, 8).fit(binary_toy * 3, epochs=1, verbose=False)


def test_layer_sizes_not_matching_the_model_are_refused(tiny_recipe, digits):
    model = zoo.build(_pretrain_recipe(tiny_recipe))
    stack = pretrain_layers(digits.arrays["train"][0][:200], [20, 16], layer_epochs=1, verbose=False)
    with pytest.raises(zoo.RecipeError, match=r"pretrained layers \[20, 16\].*do not match.*\[32, 16\]"):
        load_into(model, stack)


@pytest.mark.slow
def test_cli_pretrain_writes_history_and_filters(tiny_recipe_file, tmp_path, capsys):
    out = tmp_path / "pre"
    status = main(
        [
            "pretrain",
            str(tiny_recipe_file),
            "--set",
            "stack.name=baseline",
            "--set",
            "stack.dropout=0.0",
            "--set",
            "pretrain.method=dae",
            "--epochs",
            "2",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    assert "dae pretraining of [32, 16]" in capsys.readouterr().out
    record = json.loads((out / "pretrain.json").read_text())
    assert record["sizes"] == [32, 16]
    assert [len(layer["reconstruction_error"]) for layer in record["layers"]] == [2, 2], "--epochs: per layer"
    assert (out / "filters.png").is_file()


def test_cli_pretrain_without_a_method_says_how_to_pick_one(tiny_recipe_file, capsys):
    assert main(["pretrain", str(tiny_recipe_file)]) == 2
    assert "pretrain.method = 'none'" in capsys.readouterr().err
