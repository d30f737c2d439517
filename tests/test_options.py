"""Every recipe option reaches the trained model, not just the config."""

import math
import warnings

import keras
import numpy as np
import pytest

import zoo
from zoo.nets.layers import RReLU
from zoo.nets.network import leaf_layers as _leaves
from zoo.nets.network import learning_rate_schedule

pytestmark = pytest.mark.xla  # every layer and option must also train under XLA, as users get it


def _small(**overrides):
    """A small digits MLP recipe with `overrides`, built for 8x8 inputs."""
    recipe = zoo.get_recipe("fashion_mlp", dataset="digits", validation_size=200, hidden=[16, 16], **overrides)
    return recipe, zoo.build(recipe)


def _batch(count=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((count, 8, 8, 1), dtype=np.float32), rng.integers(0, 10, count)


def test_l1_l2_penalties_add_to_the_loss():
    _, plain = _small()
    _, penalized = _small(l1=1e-3, l2=1e-2)
    assert not plain.losses and len(penalized.losses) == 2  # the two hidden kernels
    kernels = [
        layer.kernel for layer in _leaves(penalized) if isinstance(layer, keras.layers.Dense) and layer.name != "output"
    ]
    expected = sum(1e-3 * np.abs(k.numpy()).sum() + 1e-2 * np.square(k.numpy()).sum() for k in kernels)
    assert float(sum(penalized.losses)) == pytest.approx(expected, rel=1e-4)


@pytest.mark.slow
def test_max_norm_bounds_every_unit_after_a_step():
    _, model = _small(max_norm=0.5, learning_rate=0.5, dropout=0.0)
    x, y = _batch()
    model.train_on_batch(x, y)
    for layer in _leaves(model):
        if isinstance(layer, keras.layers.Dense) and layer.kernel_constraint is not None:
            norms = np.linalg.norm(layer.kernel.numpy(), axis=0)  # incoming weights of each unit
            assert norms.max() <= 0.5 + 1e-5


def test_rrelu_is_random_in_training_and_fixed_at_inference(tmp_path):
    layer = RReLU(0.1, 0.5, seed=3)
    x = -np.ones((4, 50), "float32")
    first, second = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    assert not np.array_equal(first, second)
    assert (-first >= 0.1 - 1e-6).all() and (-first <= 0.5 + 1e-6).all()
    np.testing.assert_allclose(layer(x, training=False).numpy(), -0.3 * np.ones((4, 50)), rtol=1e-6)
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())
    # A model using it loads in safe mode without custom_objects.
    _, model = _small(activation="rrelu", rrelu_lower=0.1, rrelu_upper=0.2)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    x, _ = _batch(4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


@pytest.mark.parametrize("activation", zoo.recipes.stacks.ACTIVATIONS)
def test_every_activation_builds_trains_and_round_trips(activation, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, model = _small(activation=activation)
    model.run_eagerly = True  # one step: tracing it into a graph cost more than the step (as in test_build)
    x, y = _batch()
    assert math.isfinite(model.train_on_batch(x, y, return_dict=True)["loss"])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    loaded.run_eagerly = True
    np.testing.assert_allclose(model.predict(x, verbose=0), loaded.predict(x, verbose=0), rtol=1e-6)


def test_activation_layers_and_parameters():
    _, model = _small(activation="leaky_relu", negative_slope=0.05)
    leaky = model.get_layer("hidden_1").get_layer("activation")
    assert isinstance(leaky, keras.layers.LeakyReLU) and leaky.negative_slope == pytest.approx(0.05)
    _, model = _small(activation="prelu")
    assert isinstance(model.get_layer("hidden_1").get_layer("activation"), keras.layers.PReLU)


def test_batch_norm_position():
    _, before = _small(bn_position="before")
    _, after = _small(bn_position="after")
    names = lambda m: [type(layer).__name__ for layer in m.get_layer("hidden_1").layers]
    assert names(before)[:3] == ["Dense", "BatchNorm", "Activation"]
    assert names(after)[:3] == ["Dense", "Activation", "BatchNorm"]
    _, none = _small(batch_norm=False)
    assert "BatchNorm" not in names(none) and none.get_layer("hidden_1").layers[0].use_bias


@pytest.mark.parametrize(
    "init, cls",
    [
        ("glorot_uniform", "GlorotUniform"),
        ("glorot_normal", "GlorotNormal"),
        ("he_uniform", "HeUniform"),
        ("lecun_normal", "LecunNormal"),
    ],
)
def test_initializers(init, cls):
    _, model = _small(init=init)
    assert type(model.get_layer("hidden_1").layers[0].kernel_initializer).__name__ == cls


def test_random_normal_init_uses_its_std():
    recipe = zoo.get_recipe("fashion_mlp", init="random_normal", init_std=0.3, hidden=[400])
    kernel = zoo.build(recipe).get_layer("hidden_1").layers[0].kernel.numpy()
    assert np.std(kernel) == pytest.approx(0.3, rel=0.02)


@pytest.mark.slow
def test_mc_dropout_spread_and_original_untouched():
    _, model = _small(dropout=0.3)
    x, _ = _batch(8)
    weights = [w.copy() for w in model.get_weights()]
    mean, spread = zoo.predict_mc(model, x, samples=10)
    assert mean.shape == (8, 10) and spread.max() > 0
    np.testing.assert_allclose(mean.sum(axis=1), 1, rtol=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(zoo.DataError, match="has no Dropout layers"):
        zoo.predict_mc(zoo.baseline("fashion_mlp"), np.zeros((1, 28, 28, 1)))


def test_augmentation_touches_training_batches_only(digits):
    plain = zoo.batches(digits, batch_size=16)
    changed = zoo.batches(
        digits, batch_size=16, augment=["flip", "translate", "rotate", "zoom", "noise"], augment_amount=0.2
    )
    plain_first = next(iter(plain.train))[0].numpy()
    aug_first = next(iter(changed.train))[0].numpy()
    assert aug_first.shape == plain_first.shape and not np.array_equal(aug_first, plain_first)
    for name in ("validation", "test"):
        before = b"".join(batch[0].numpy().tobytes() for batch in getattr(plain, name))
        after = b"".join(batch[0].numpy().tobytes() for batch in getattr(changed, name))
        assert before == after, f"{name} batches must not change"


@pytest.mark.slow
def test_augmentation_reaches_training(tiny_recipe, digits, tmp_path):
    """Same seed, same data: only the recipe's augmentation differs, so the training curves must too."""
    recipe = zoo.get_recipe(tiny_recipe, epochs=1, dropout=0.0)
    plain = zoo.train(recipe, data=digits, out_dir=tmp_path / "plain", verbose=0)
    noisy = zoo.train(
        zoo.get_recipe(recipe, augment=["translate", "noise"], augment_amount=0.5),
        data=digits,
        out_dir=tmp_path / "augmented",
        verbose=0,
    )
    assert noisy.metrics["epochs_run"] == plain.metrics["epochs_run"] == 1
    assert noisy.history["loss"][0] > plain.history["loss"][0] + 0.01, "the augmented run trained on the same batches"


@pytest.mark.parametrize("option, bound", [("clipnorm", 0.01), ("clipvalue", 0.001)])
def test_gradient_clipping_bounds_the_applied_update(option, bound):
    # Plain SGD with rate 1: each weight moves by exactly the (clipped) gradient.
    _, model = _small(optimizer="sgd", learning_rate=1.0, batch_norm=False, dropout=0.0, **{option: bound})
    x, y = _batch()
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.train_on_batch(x, y * 0 + 3)
    for old, new in zip(before, model.trainable_weights):
        step = new.numpy() - old
        if option == "clipnorm":
            assert np.linalg.norm(step) <= bound * (1 + 1e-4)
        else:
            assert np.abs(step).max() <= bound * (1 + 1e-4)
    assert any(np.abs(new.numpy() - old).max() > 0 for old, new in zip(before, model.trainable_weights))


def test_schedules_give_the_expected_rate():
    def rate(schedule, step, **keys):
        recipe = zoo.get_recipe("fashion_mlp", schedule=schedule, learning_rate=0.1, epochs=10, **keys)
        value = learning_rate_schedule(recipe, steps_per_epoch=100)
        return float(value(step)) if callable(value) else value

    assert rate("constant", 500) == 0.1
    assert rate("exponential", 0, decay_rate=0.5) == pytest.approx(0.1)
    assert rate("exponential", 200, decay_rate=0.5) == pytest.approx(0.025)
    assert rate("piecewise", 999, boundaries=[10, 20], factors=[1.0, 0.1, 0.01]) == pytest.approx(0.1)
    assert rate("piecewise", 1000, boundaries=[10, 20], factors=[1.0, 0.1, 0.01]) == pytest.approx(0.01)
    assert rate("piecewise", 2500, boundaries=[10, 20], factors=[1.0, 0.1, 0.01]) == pytest.approx(0.001)
    assert rate("1cycle", 0) == pytest.approx(0.004)
    assert rate("1cycle", 450) == pytest.approx(0.1)
    assert rate("1cycle", 900) == pytest.approx(0.004)
    assert rate("1cycle", 1000) == pytest.approx(0.00004, rel=1e-4)
    # The compiled optimizer carries the schedule.
    for schedule, name in (
        ("1cycle", "OneCycle"),
        ("piecewise", "EpochPiecewise"),
        ("exponential", "ExponentialDecay"),
    ):
        model = zoo.build(zoo.get_recipe("fashion_mlp", schedule=schedule))
        assert model.optimizer.get_config()["learning_rate"]["class_name"] == name


@pytest.mark.slow
def test_plateau_schedule_cuts_the_rate_when_validation_stalls(tiny_recipe, digits, tmp_path):
    # A rate this small cannot move validation loss by ReduceLROnPlateau's min_delta, so every
    # epoch after the first counts as a stall.
    recipe = zoo.get_recipe(
        tiny_recipe,
        schedule="plateau",
        plateau_patience=1,
        plateau_factor=0.5,
        learning_rate=1e-9,
        epochs=3,
        early_stopping_patience=0,
    )
    result = zoo.train(recipe, data=digits, out_dir=tmp_path / "run", verbose=0)
    assert float(result.model.optimizer.learning_rate) == pytest.approx(1e-9 * 0.25, rel=1e-3)


# ---- bad input ----


def test_bad_option_values():
    with pytest.raises(zoo.RecipeError, match=r"stack\.rrelu_lower = 0\.5 is greater than stack\.rrelu_upper = 0\.3"):
        zoo.get_recipe("fashion_mlp", activation="rrelu", rrelu_lower=0.5, rrelu_upper=0.3)
    with pytest.raises(zoo.RecipeError, match=r"train\.schedule = '1cylce' is not allowed \(did you mean '1cycle'"):
        zoo.get_recipe("fashion_mlp", schedule="1cylce")
    with pytest.raises(
        zoo.RecipeError, match=r"regularization\.augment\[0\] = 'flp' is not allowed \(did you mean 'flip'"
    ):
        zoo.get_recipe("fashion_mlp", augment=["flp"])
    with pytest.raises(zoo.RecipeError, match="piecewise needs one more factor than boundaries"):
        zoo.get_recipe("fashion_mlp", schedule="piecewise", boundaries=[5], factors=[1.0])
    with pytest.raises(zoo.RecipeError, match=r"regularization\.max_norm = -1\.0 is out of range"):
        zoo.get_recipe("fashion_mlp", max_norm=-1)


def test_alpha_dropout_with_a_non_selu_activation_warns():
    with pytest.warns(UserWarning, match="AlphaDropout preserves the self-normalizing statistics of SELU nets only"):
        zoo.get_recipe("fashion_mlp", dropout_kind="alpha", activation="relu")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        zoo.get_recipe("fashion_selu")
