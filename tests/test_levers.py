"""The newer levers: label smoothing, cosine with warm-up, weight averaging, random erasing, the modern stack."""

import json

import numpy as np
import pytest

import zoo
from zoo.nets.network import learning_rate_schedule, loss


def test_label_smoothing_is_cross_entropy_against_smoothed_targets():
    import keras

    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype="float32")
    labels = np.array([0, 2])
    smoothed = loss(zoo.get_recipe("fashion_mlp", label_smoothing=0.3))(labels, probabilities)
    targets = np.eye(3)[labels] * 0.7 + 0.1
    expected = np.mean(-(targets * np.log(probabilities)).sum(axis=1))
    assert float(smoothed) == pytest.approx(expected, rel=1e-5)
    assert loss(zoo.get_recipe("fashion_mlp", label_smoothing=0.0)) == "sparse_categorical_crossentropy"
    model = zoo.build(zoo.get_recipe("fashion_mlp", label_smoothing=0.1))
    assert keras.models.clone_model(model) is not None and model.loss.label_smoothing == 0.1


def test_cosine_schedule_warms_up_then_decays_to_zero():
    recipe = zoo.get_recipe("fashion_mlp", schedule="cosine", warmup_epochs=1, learning_rate=0.01, epochs=5)
    rate = learning_rate_schedule(recipe, steps_per_epoch=100)
    values = [float(rate(step)) for step in (0, 50, 100, 300, 499)]
    # The ramp starts one step's worth up (0.01 / 100 steps), so the first step is not wasted at rate 0.
    assert values[0] == pytest.approx(1e-4) and values[1] == pytest.approx(0.00505) and values[2] == pytest.approx(0.01)
    assert values[2] > values[3] > values[4] >= 0 and values[4] < 1e-5
    plain = learning_rate_schedule(
        zoo.get_recipe("fashion_mlp", schedule="cosine", warmup_epochs=0, learning_rate=1e-3, epochs=2),
        steps_per_epoch=10,
    )
    assert float(plain(0)) == pytest.approx(1e-3)


@pytest.mark.slow
def test_weight_averaging_and_erasing_train(tiny_recipe, digits, tmp_path):
    """With train.ema every validation pass reads the average, which fit() writes into the model at its end:
    the last epoch's logged validation loss is the saved model's. Keras validates the raw weights unless
    SwapEMAWeights swaps the average in, and then a probe's choice reads a model that never ships."""
    recipe = zoo.get_recipe(tiny_recipe, ema=True, epochs=3, learning_rate=0.01, early_stopping_patience=0)
    result = zoo.train(recipe, data=digits, out_dir=tmp_path / "ema", verbose=0)
    assert result.model.optimizer.use_ema and result.test["accuracy"] > 0.5
    shipped = result.model.evaluate(*digits.arrays["validation"], verbose=0, return_dict=True)
    assert result.history["val_loss"][-1] == pytest.approx(shipped["loss"], rel=1e-5)
    assert result.history["val_accuracy"][-1] == pytest.approx(shipped["accuracy"], abs=1e-9)
    from zoo.nets.augment import augmenter

    eraser = augmenter(["erase"], seed=0)
    images = np.ones((64, 8, 8, 1), dtype="float32")
    erased = eraser(images, training=True).numpy()
    assert (erased != 1).any() and erased.shape == images.shape


@pytest.mark.slow
@pytest.mark.parametrize("jit_compile", ["off", pytest.param("auto", marks=pytest.mark.xla)])
def test_one_probe_with_the_average_also_scores_the_run_without_it(tiny_recipe, digits, tmp_path, jit_compile):
    """The average never touches training, so a run with it ends on the raw weights the same run without it ends
    on: the raw weights' last validation score it records is that run's last score, to the bit (with and
    without XLA), and a probe of the recipe with the average answers whether the average is worth keeping."""
    from zoo.experiments.probe import probe, report

    recipe = zoo.get_recipe(tiny_recipe, jit_compile=jit_compile, early_stopping_patience=0)
    arms = {"average": {"train.ema": True}, "raw weights": {"train.ema": False}}
    found = probe(recipe, arms, data=digits, epochs=2, out_dir=tmp_path / "probe")
    average, raw = found["rows"]["average"], found["rows"]["raw weights"]
    assert [run["val_last_raw"] for run in average["runs"]] == [run["val_last"] for run in raw["runs"]]
    assert average["val_last_raw"] == raw["val_last"] and "val_last_raw" not in raw
    assert average["val_last"] != raw["val_last"], "the average itself scores otherwise after 2 epochs"
    assert f"{average['val_last']:.4f} (raw weights {raw['val_last']:.4f}) |" in report(found)
    metrics = json.loads((tmp_path / "probe" / "0-average-0" / "metrics.json").read_text())
    assert metrics["raw_weights_val_score"] == average["runs"][0]["val_last_raw"], "the run folder keeps it"
    # Only the budget's last epoch is scored: a run early stopping ended sooner records none.
    from zoo.training.stopping import RawScore

    early = RawScore(None, "accuracy")
    early.set_params({"epochs": 3})
    early.on_epoch_end(1)
    assert early.score is None


def test_early_stopping_keeps_the_average_when_the_optimizer_keeps_one():
    """Keras's EarlyStopping keeps the raw weights of its best epoch and restores them after fit() has written
    the averages in, throwing the average away; zoo's keeps (and restores) the averages."""
    import keras

    from zoo.training.stopping import EarlyStopping

    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    restored = {}
    for name, stopping in (("keras", keras.callbacks.EarlyStopping), ("zoo", EarlyStopping)):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(keras.optimizers.SGD(0.5, use_ema=True), "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[stopping("loss", restore_best_weights=True)])
        averages = [keras.ops.convert_to_numpy(a) for a in model.optimizer._model_variables_moving_average]
        restored[name] = [np.allclose(w, a) for w, a in zip(model.get_weights(), averages)]
    assert restored == {"keras": [False, False], "zoo": [True, True]}


def test_swapping_the_average_in_and_out_gives_the_raw_weights_back_to_the_bit():
    """Keras's SwapEMAWeights swaps by adding and subtracting in place, and float32 rounds: each validation
    pass would nudge the weights being trained. zoo's swaps through a copy, so the average never touches
    training."""
    import keras

    from zoo.training.stopping import SwapAverage

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 16)).astype("float32"), rng.integers(0, 2, 256).astype("int32")
    kept = {}
    for name, swap in (("keras", keras.callbacks.SwapEMAWeights()), ("zoo", SwapAverage())):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(64), keras.layers.Dense(2)])
        model.compile(keras.optimizers.SGD(0.1, use_ema=True), keras.losses.SparseCategoricalCrossentropy(True))
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # fit's end writes the average in: train on
        model.optimizer.apply_gradients([(rng.normal(size=w.shape), w) for w in model.trainable_weights])
        before = model.get_weights()
        swap.set_model(model)
        swap.on_test_begin(), swap.on_test_end()
        kept[name] = all(np.array_equal(b, a) for b, a in zip(before, model.get_weights()))
    assert kept == {"keras": False, "zoo": True}


def test_modern_stack_and_baseline_drops_the_new_levers():
    recipe = zoo.get_recipe(
        "fashion_mlp", **{"stack.name": "modern", "stack.activation": "swish"}, label_smoothing=0.1, ema=True
    )
    assert zoo.get_stack("modern").optimizer == "adamw"
    plain = zoo.nets.plain.baseline_recipe(recipe)
    assert plain.train.label_smoothing == 0.0 and plain.train.ema is False and plain.stack.activation == "sigmoid"


def test_random_shift_moves_each_image_on_its_own_by_whole_pixels():
    import keras

    from zoo.nets.augment import augmenter
    from zoo.nets.layers import RandomShift

    images = np.zeros((256, 9, 9, 1), dtype="float32")
    images[:, 4, 4] = 1.0  # one lit pixel in the middle of each image
    shifted = RandomShift(2, seed=3)(images, training=True).numpy()
    spots = np.array([np.argwhere(image[..., 0])[0] for image in shifted]) - 4
    assert shifted.sum(axis=(1, 2, 3)).tolist() == [1.0] * 256, "a shift by whole pixels keeps the pixel intact"
    assert np.abs(spots).max() == 2 and len({tuple(s) for s in spots}) == 25, "all 5 x 5 offsets, drawn per image"
    np.testing.assert_array_equal(RandomShift(2)(images, training=False), images)
    clone = keras.layers.deserialize(keras.layers.serialize(RandomShift(2, seed=3)))
    assert (clone.pixels, clone.seed) == (2, 3)
    layer = augmenter(["crop"], amount=0.1, input_shape=(28, 28, 1)).layers[0]
    assert isinstance(layer, RandomShift) and layer.pixels == 3
    with pytest.raises(ValueError, match="pixels = 0"):
        RandomShift(0)
