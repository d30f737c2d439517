"""The recurrent recipe kind: it builds, trains a step, round-trips through .keras, and refuses bad settings."""

import keras
import numpy as np
import pytest

import zoo
from zoo.nets.network import estimated_parameters


@pytest.mark.parametrize("cell", ["simple_rnn", "gru", "lstm"])
def test_every_cell_builds_takes_a_step_and_round_trips(cell, digits, tmp_path):
    recipe = zoo.get_recipe("rnn", cell=cell, recurrent=[16, 8], hidden=[12], dataset="digits", validation_size=200)
    model = zoo.build(recipe, input_shape=(8, 8, 1), num_classes=10)
    assert [layer.name for layer in model.layers[1:4]] == ["sequence", "recurrent_1", "recurrent_2"]
    model.run_eagerly = True  # one step: tracing it into a graph cost more than the step (as in test_build)
    x, y = digits.arrays["train"]
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(x[:32], y[:32])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.save(tmp_path / "rnn.keras")
    loaded = keras.saving.load_model(tmp_path / "rnn.keras")
    loaded.run_eagerly = True
    np.testing.assert_allclose(loaded.predict(x[:5], verbose=0), model.predict(x[:5], verbose=0), rtol=1e-5, atol=1e-6)
    # The estimate counts the kernels (biases aside) and must be near the real count.
    assert 0.9 < estimated_parameters(recipe, (8, 8, 1), 10) / model.count_params() <= 1.0


def test_tables_are_read_one_value_per_step():
    model = zoo.build(zoo.get_recipe("rnn", recurrent=[4], hidden=[]), input_shape=(30,), num_classes=2)
    assert model.get_layer("sequence").output.shape == (None, 30, 1)


def test_recurrent_init_gain_scales_the_orthogonal_recurrent_kernel():
    model = zoo.build(
        zoo.get_recipe("rnn", cell="simple_rnn", recurrent=[16], hidden=[], recurrent_init_gain=2.0),
        input_shape=(8, 8, 1),
        num_classes=3,
    )
    kernel = model.get_layer("recurrent_1").cell.recurrent_kernel.numpy()
    np.testing.assert_allclose(kernel.T @ kernel, 4.0 * np.eye(16), atol=1e-4)


@pytest.mark.slow
def test_the_recipe_trains_with_zoo_train(digits, tmp_path):
    recipe = zoo.get_recipe(
        "rnn", recurrent=[32], hidden=[], dataset="digits", validation_size=200, epochs=3, batch_size=16
    )
    result = zoo.train(recipe, data=digits, out_dir=tmp_path / "run", verbose=0)
    assert result.metrics["status"] == "ok" and result.metrics["test_accuracy"] > 0.5
    assert result.paths["diagnostics"].exists()


def test_clipnorm_and_clipvalue_together_are_refused():
    with pytest.raises(zoo.RecipeError, match="train.clipnorm = 1.0 and train.clipvalue = 0.5 are both set"):
        zoo.get_recipe("rnn", clipvalue=0.5)
