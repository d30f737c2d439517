"""The fast training path: same model quality as a plain Keras fit, and honest FLOP counting."""

import keras
import pytest

import zoo
from zoo.build import leaf_layers
from zoo.speed import plain_keras_model, torch_network, training_flops_per_example


def test_flops_count_the_dense_and_conv_layers():
    dense = keras.Sequential([keras.Input((784,)), keras.layers.Dense(300), keras.layers.Dense(10)])
    assert training_flops_per_example(dense) == 6 * (784 * 300 + 300 * 10)
    inputs = keras.Input((28, 28, 1))
    conv = keras.Model(inputs, keras.layers.Conv2D(8, 3, padding="same")(inputs))
    assert training_flops_per_example(conv) == 6 * (28 * 28 * 3 * 3 * 1 * 8)


def test_plain_keras_model_is_the_same_network_with_keras_defaults():
    recipe = zoo.get_recipe("fashion_mlp")
    fast, plain = zoo.build(recipe), plain_keras_model(recipe)
    assert fast.count_params() == plain.count_params()
    assert [type(layer).__name__ for layer in leaf_layers(fast)] == [type(layer).__name__ for layer in leaf_layers(plain)]
    assert fast.steps_per_execution == recipe.train.steps_per_execution > 1
    assert plain.steps_per_execution == 1 and type(plain.optimizer) is type(fast.optimizer)


def test_fast_and_plain_paths_reach_the_same_quality(tiny_recipe, digits, tmp_path):
    """zoo's path (tf.data, many steps per call, XLA) learns as well as a plain Keras fit."""
    recipe = zoo.get_recipe(tiny_recipe, epochs=8, jit_compile="on", early_stopping_patience=0)
    fast = zoo.train(recipe, data=digits, out_dir=tmp_path / "fast", verbose=0).test["accuracy"]
    keras.utils.set_random_seed(0)
    plain = plain_keras_model(recipe)
    (x, y), (x_test, y_test) = digits.arrays["train"], digits.arrays["test"]
    plain.fit(x, y, batch_size=recipe.train.batch_size, epochs=recipe.train.epochs, verbose=0)
    plain_accuracy = plain.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    assert fast > 0.9 and plain_accuracy > 0.9
    assert abs(fast - plain_accuracy) < 0.04, (fast, plain_accuracy)


def test_jit_compile_reaches_the_compiled_model():
    assert zoo.build(zoo.get_recipe("fashion_mlp", jit_compile="on")).jit_compile is True
    assert zoo.build(zoo.get_recipe("fashion_mlp", jit_compile="off")).jit_compile is False
    # auto: Keras's rule. With the TensorFlow backend on a CPU-only machine that is off.
    import tensorflow as tf

    if keras.backend.backend() == "tensorflow" and not tf.config.list_physical_devices("GPU"):
        assert zoo.build(zoo.get_recipe("fashion_mlp")).jit_compile is False
    with pytest.raises(zoo.RecipeError, match="train.jit_compile = 'yes' is not allowed"):
        zoo.get_recipe("fashion_mlp", jit_compile="yes")


def test_torch_twin_has_the_same_parameter_count():
    pytest.importorskip("torch")
    for name in ("fashion_mlp", "fashion_selu", "fashion_cnn"):
        recipe = zoo.get_recipe(name)
        network, _ = torch_network(recipe)
        # Keras counts BatchNorm's moving mean and variance as (non-trainable) weights; PyTorch keeps them as buffers.
        buffers = sum(buffer.numel() for name_, buffer in network.named_buffers() if "running" in name_)
        assert sum(p.numel() for p in network.parameters()) + buffers == zoo.build(recipe).count_params(), name


def test_committed_speed_results_have_the_promised_shape():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "speed" / "results.json"
    if not path.is_file():
        pytest.skip("speed experiment not committed yet")
    results = json.loads(path.read_text())
    assert results["matmul_peak_gflops"] > 0 and results["rounds"] >= 3
    for row in results["rows"]:
        assert {"zoo", "keras"} <= set(row["median_examples_per_second"])
        assert row["zoo_vs_keras"] == pytest.approx(
            row["median_examples_per_second"]["zoo"] / row["median_examples_per_second"]["keras"])
        assert len(row["examples_per_second"]["zoo"]) == results["rounds"]
    report = (path.parent / "report.md").read_text()
    for row in results["rows"]:
        assert f"| {row['recipe']} | {row['batch_size']} | {row['median_examples_per_second']['zoo']:,.0f} |" in report


def test_readme_speed_table_comes_from_the_committed_results():
    import json
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    path = repo / "benchmarks" / "results" / "speed" / "results.json"
    if not path.is_file():
        pytest.skip("speed experiment not committed yet")
    readme = (repo / "README.md").read_text()
    for row in json.loads(path.read_text())["rows"]:
        rates = row["median_examples_per_second"]
        assert f"| {rates['zoo']:,.0f} | {rates['keras']:,.0f} |" in readme, row["recipe"]
        assert f"| {row['zoo_vs_keras']:.2f}x |" in readme, row["recipe"]
