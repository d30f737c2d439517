"""zoo.nets.normalization.BatchNorm: Keras's BatchNormalization, through the fused kernel for conv inputs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.nets.network import leaf_layers
from zoo.nets.normalization import BatchNorm


def _pair(shape, **options):
    """A BatchNorm and a Keras BatchNormalization with the same (non-trivial) weights."""
    fused, plain = BatchNorm(momentum=0.9, **options), keras.layers.BatchNormalization(momentum=0.9, **options)
    for layer in (fused, plain):
        layer.build(shape)
    rng = np.random.default_rng(1)
    weights = [rng.normal(1.0, 0.3, w.shape).astype("float32") for w in plain.get_weights()]
    weights[-1] = np.abs(weights[-1])  # moving variance
    fused.set_weights(weights)
    plain.set_weights(weights)
    return fused, plain


def _outputs_and_gradients(layer, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * tf.sin(y))  # a loss whose gradient depends on every output
    grads = tape.gradient(loss, [x] + layer.trainable_variables)
    return y.numpy(), [g.numpy() for g in grads]


@pytest.mark.parametrize("options", [{}, {"center": False}, {"scale": False}])
def test_training_step_matches_keras(options):
    x = np.random.default_rng(0).normal(0.5, 2.0, (16, 5, 5, 3)).astype("float32")
    fused, plain = _pair(x.shape, **options)
    (y_fused, g_fused), (y_plain, g_plain) = _outputs_and_gradients(fused, x), _outputs_and_gradients(plain, x)
    np.testing.assert_allclose(y_fused, y_plain, atol=1e-4)
    for a, b in zip(g_fused, g_plain):
        np.testing.assert_allclose(a, b, atol=1e-3)
    for a, b in zip(fused.non_trainable_weights, plain.non_trainable_weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5)


def test_inference_matches_keras_and_uses_moving_statistics():
    x = np.random.default_rng(2).normal(size=(4, 3, 3, 2)).astype("float32")
    fused, plain = _pair(x.shape)
    np.testing.assert_allclose(fused(x, training=False), plain(x, training=False), atol=1e-5)
    fused.trainable = False  # a frozen layer normalizes with its moving statistics, like Keras's
    plain.trainable = False
    np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-5)


def test_conv_inputs_take_the_fused_kernel_and_dense_inputs_do_not():
    def ops_for(shape, **options):
        layer = BatchNorm(**options)
        layer.build(shape)
        graph = tf.function(lambda x: layer(x, training=True)).get_concrete_function(tf.TensorSpec(shape)).graph
        return {op.type for op in graph.get_operations()}

    assert "FusedBatchNormV3" in ops_for((2, 4, 4, 3))
    assert "FusedBatchNormV3" not in ops_for((2, 3))
    assert "FusedBatchNormV3" not in ops_for((2, 4, 4, 3), epsilon=1e-6)  # below the kernel's floor
    x = np.random.default_rng(3).normal(size=(6, 3)).astype("float32")
    fused, plain = _pair(x.shape)
    np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-6)


def test_conv_nets_use_it_and_round_trip_through_keras_files(tmp_path):
    model = zoo.build(zoo.get_recipe("fashion_cnn"), input_shape=(8, 8, 1))
    norms = [layer for layer in leaf_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(isinstance(layer, BatchNorm) for layer in norms)
    x = np.random.default_rng(4).random((3, 8, 8, 1)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")  # safe mode, no custom_objects
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_the_statistics_start_at_the_datas_and_the_random_stream_is_put_back():
    """StartStatistics: each BatchNorm's moving mean and variance are a training-mode pass's own (the second
    layer's read through the first, which sits nested in a block); the dropout layer's random state is what it
    was before the pass."""
    from zoo.nets.layers import Dropout
    from zoo.training.stopping import StartStatistics

    x = keras.Input((4, 4, 2))
    block = keras.Sequential([BatchNorm(name="inner")], name="block")
    features = keras.layers.Conv2D(3, 1, bias_initializer="ones", name="conv")(block(x))
    dropout = Dropout(0.5, seed=3)
    model = keras.Model(x, dropout(BatchNorm(name="outer")(features)))
    rows = np.random.default_rng(0).normal(7.0, 3.0, (64, 4, 4, 2)).astype("float32")
    state = dropout.seed_generator.state.numpy().copy()
    start = StartStatistics(rows)
    start.set_model(model)
    start.on_train_begin()
    inner, outer = block.layers[0], model.get_layer("outer")
    np.testing.assert_allclose(inner.moving_mean.numpy(), rows.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(inner.moving_variance.numpy(), rows.var(axis=(0, 1, 2)), rtol=1e-4)
    seen = keras.Model(x, features)(rows, training=True).numpy()  # what the outer layer saw
    np.testing.assert_allclose(outer.moving_mean.numpy(), seen.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outer.moving_variance.numpy(), seen.var(axis=(0, 1, 2)), rtol=1e-4)
    assert inner.momentum == outer.momentum == 0.99
    np.testing.assert_array_equal(dropout.seed_generator.state.numpy(), state)


def test_bn_start_changes_what_validation_reads_and_nothing_that_trains(tmp_path):
    """The cnn with and without train.bn_start, same seed: the trained weights agree (training normalizes with
    each batch's statistics), the first epoch's validation loss does not (it reads the moving statistics)."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    x = rng.uniform(0, 80, (120, 8, 8, 1)).astype("float32")
    for label in range(3):
        x[y == label, :, 2 * label : 2 * label + 3] += 150.0
    data = zoo.load_data((x[:96], y[:96], x[96:], y[96:]), validation_size=24)
    runs = {}
    for flag in (False, True):
        recipe = zoo.get_recipe(
            "cnn", **{"train.bn_start": flag, "train.steps": 12, "train.min_epochs": 0, "model.filters": [4, 8]}
        )
        runs[flag] = zoo.train(recipe, data=data, out_dir=tmp_path / str(flag), verbose=0)
    assert runs[True].metrics["epochs_run"] == runs[False].metrics["epochs_run"] >= 2
    for a, b in zip(runs[True].model.trainable_weights, runs[False].model.trainable_weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    first = [run.history["val_loss"][0] for run in (runs[True], runs[False])]
    assert abs(first[0] - first[1]) > 1e-3
