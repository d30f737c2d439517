"""Builders: every recipe builds, trains a step, round-trips; stacks really are what they claim."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.errors import RecipeError
from zoo.nets.network import estimated_parameters
from zoo.nets.network import leaf_layers as _all_layers

pytestmark = pytest.mark.xla  # every recipe must build and step under XLA, as users get it


def _random_batch(model, count=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((count,) + model.input_shape[1:], dtype=np.float32)
    y = rng.integers(0, model.output_shape[-1], size=count)
    return x, y


@pytest.mark.parametrize("name", zoo.list_recipes())
@pytest.mark.parametrize("variant", ["recipe", "baseline"])
def test_every_recipe_builds_steps_and_round_trips(name, variant, tmp_path):
    # An odd class count catches heads hard-wired to the dataset (timm's test does the same).
    make = zoo.build if variant == "recipe" else zoo.baseline
    recipe = zoo.get_recipe(name)
    # An architecture recipe (dataset "any") has no shape of its own: give it small images or table rows.
    shape = None if recipe.dataset != "any" else ((16, 16, 3) if recipe.model.kind in ("cnn", "resnet") else (12,))
    model = make(recipe, input_shape=shape, num_classes=7)
    # One eager step: tracing a 20-layer net's training step into a graph took 6-8 s of the test's
    # 15 (0.6 s eagerly); what is tested is the net, its step and its file. test_speed and every
    # test that trains run the compiled path.
    model.run_eagerly = True
    x, y = _random_batch(model)
    before = [w.copy() for w in model.get_weights()]
    logs = model.train_on_batch(x, y, return_dict=True)
    assert math.isfinite(logs["loss"])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "one step changed no weight"
    assert model.output_shape == (None, 7)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    loaded.run_eagerly = True
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert not np.isnan(model.predict(x, verbose=0)).any()


def test_default_stack_really_is_he_bn_elu_dropout_adam():
    model = zoo.build("mlp", input_shape=(28, 28, 1), num_classes=10)  # mlp has the default stack
    hidden = model.get_layer("hidden_1")
    dense, norm, activation, dropout = hidden.layers
    assert isinstance(dense.kernel_initializer, keras.initializers.HeNormal)
    assert dense.use_bias is False, "BatchNorm's beta replaces the bias"
    assert isinstance(norm, keras.layers.BatchNormalization)
    assert activation.get_config()["activation"] == "elu"
    assert isinstance(dropout, keras.layers.Dropout) and dropout.rate == zoo.get_recipe("mlp").stack.dropout > 0
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    # He-normal: std = sqrt(2 / fan_in) (truncated normal, so allow a loose band).
    fan_in = dense.kernel.shape[0]
    std = float(np.std(keras.ops.convert_to_numpy(dense.kernel)))
    assert 0.8 * math.sqrt(2 / fan_in) < std < 1.1 * math.sqrt(2 / fan_in)


def test_baseline_really_is_sigmoid_small_init_plain_sgd():
    model = zoo.baseline("fashion_mlp")
    layers = list(_all_layers(model))
    assert not any(isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Dropout)) for layer in layers)
    activations = {layer.get_config()["activation"] for layer in layers if isinstance(layer, keras.layers.Activation)}
    assert activations == {"sigmoid"}
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.momentum) == 0.0 and not model.optimizer.nesterov
    dense = model.get_layer("hidden_1").layers[0]
    fan_in = dense.kernel.shape[0]
    std = float(np.std(keras.ops.convert_to_numpy(dense.kernel)))
    assert abs(std - 1 / math.sqrt(fan_in)) < 0.05 / math.sqrt(fan_in)
    # Same architecture as the recipe: the same dense widths.
    recipe_model = zoo.build("fashion_mlp")
    widths = lambda m: [layer.units for layer in _all_layers(m) if isinstance(layer, keras.layers.Dense)]
    assert widths(model) == widths(recipe_model)


def test_self_normalizing_stack():
    model = zoo.build("fashion_selu")
    layers = list(_all_layers(model))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers)
    assert any(isinstance(layer, keras.layers.AlphaDropout) for layer in layers)
    dense = model.get_layer("hidden_1").layers[0]
    assert isinstance(dense.kernel_initializer, keras.initializers.LecunNormal) and dense.use_bias


def test_cnn_recipe_has_conv_blocks():
    model = zoo.build("fashion_cnn")
    convs = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 4 and all(isinstance(c.kernel_initializer, keras.initializers.HeNormal) for c in convs)


def test_pooling_first_changes_the_cost_not_the_function_at_initialization():
    # Max-pooling commutes with an increasing map: at initialization BatchNorm's inference transform (moving mean
    # 0, variance 1, scale 1) and ELU are both increasing, so pooling first gives the same predictions from the
    # same weights, while BatchNorm and ELU run on a quarter of the values.
    x = np.random.default_rng(0).random((8, 12, 12, 1), dtype=np.float32)
    usual, first = (
        zoo.build(zoo.get_recipe("cnn", **{"model.pool_first": flag}), input_shape=(12, 12, 1), num_classes=3)
        for flag in (False, True)
    )
    assert usual.count_params() == first.count_params()
    first.set_weights(usual.get_weights())
    np.testing.assert_allclose(first.predict(x, verbose=0), usual.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    order = [layer.__class__.__name__ for layer in first.get_layer("conv_block_1").layers]
    assert order[:4] == ["Conv2D", "MaxPooling2D", "BatchNorm", "Activation"]


def test_valid_padding_trims_large_inputs_and_pads_small_ones():
    # valid trims kernel_size - 1 pixels a conv where the conv's input is at least 4 x (kernel_size - 1) on a side:
    # MNIST's 28 -> 26 -> 13 -> 11 -> 5; the 8x8 digits' second stage (3 pixels) is padded, so they still fit.
    recipe = zoo.get_recipe("cnn", **{"model.padding": "valid"})
    for shape, (height, width) in (((28, 28, 1), (5, 5)), ((8, 8, 1), (1, 1)), ((16, 12, 3), (3, 2))):
        model = zoo.build(recipe, input_shape=shape, num_classes=3)
        assert model.get_layer("flatten").output.shape[1] == height * width * 64, shape
        kernels = sum(int(np.prod(w.shape)) for w in model.weights if "kernel" in w.path)
        assert kernels == estimated_parameters(recipe, shape, 3), shape
    small = zoo.build(recipe, input_shape=(8, 8, 1), num_classes=3)
    convs = [layer for layer in _all_layers(small) if isinstance(layer, keras.layers.Conv2D)]
    assert [conv.padding for conv in convs] == ["valid", "same"]
    with pytest.raises(RecipeError, match=r"model.padding = 'valid'; expected at most 2 stages"):
        zoo.build(zoo.get_recipe("cnn", padding="valid", filters=[8, 8, 8]), input_shape=(9, 9, 1), num_classes=3)
    with pytest.raises(RecipeError, match="model.padding"):
        zoo.get_recipe("cnn", padding="full")


def test_regularization_reaches_the_layers():
    model = zoo.build(zoo.get_recipe("fashion_mlp", l2=1e-4, max_norm=2.0))
    dense = model.get_layer("hidden_1").layers[0]
    assert dense.kernel_regularizer is not None and isinstance(dense.kernel_constraint, keras.constraints.MaxNorm)
    x, y = _random_batch(model)
    assert len(model.losses) >= 2


def test_blocks_compose_into_a_users_own_model():
    inputs = keras.Input((20,))
    x = zoo.dense_block(32, dropout=0.1)(inputs)
    x = zoo.dense_block(32, stack="self_normalizing")(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    assert model(np.zeros((2, 20), "float32")).shape == (2, 3)
    conv = zoo.conv_block(8, convs=1, stack="baseline")
    assert [type(layer).__name__ for layer in conv.layers] == ["Conv2D", "Activation", "MaxPooling2D"]


def test_block_options_are_checked():
    with pytest.raises(zoo.RecipeError, match=r"stack\.dropout = 1\.5 is out of range"):
        zoo.dense_block(10, dropout=1.5)
    with pytest.raises(zoo.RecipeError, match="stack option = 'dropot' is not allowed"):
        zoo.dense_block(10, dropot=0.1)
    with pytest.raises(zoo.RecipeError, match="units = 0 is not allowed"):
        zoo.dense_block(0)
    with pytest.raises(zoo.RecipeError, match="stack = 'defualt' is not allowed"):
        zoo.dense_block(10, stack="defualt")
    # A conv stage's padding is one word for every conv or one per conv, refused as the other arguments are.
    with pytest.raises(
        zoo.RecipeError, match=r"padding = \['same'\] is not allowed; expected 'same', 'valid' or a list of 2 "
    ):
        zoo.conv_block(8, convs=2, padding=["same"])
    with pytest.raises(zoo.RecipeError, match="padding = 'full' is not allowed"):
        zoo.conv_block(8, padding="full")


def test_build_checks_shapes():
    with pytest.raises(zoo.RecipeError, match="num_classes = 1 is not allowed"):
        zoo.build("fashion_mlp", num_classes=1)
    with pytest.raises(zoo.RecipeError, match="input_shape = .* is not allowed"):
        zoo.build("fashion_mlp", input_shape=(28, -1))
    with pytest.raises(zoo.RecipeError, match="does not suit model.kind = 'cnn'"):
        zoo.build("fashion_cnn", input_shape=(784,))


def test_build_under_a_distribution_strategy():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    model = zoo.build("fashion_mlp", strategy=strategy)
    assert model.optimizer is not None
    x, y = _random_batch(model)
    assert math.isfinite(model.train_on_batch(x, y, return_dict=True)["loss"])


def test_factories_reject_unknown_words():
    with pytest.raises(zoo.RecipeError, match="activation = 'rellu' is not allowed"):
        zoo.get_activation("rellu")
    with pytest.raises(zoo.RecipeError, match="optimizer = 'adma' is not allowed"):
        zoo.get_optimizer("adma", 0.1)
    with pytest.raises(zoo.RecipeError, match="init = 'xavier' is not allowed"):
        zoo.get_initializer("xavier")
    assert zoo.get_optimizer("nesterov", 0.1).nesterov
