"""The fast training path: same model quality as a plain Keras fit, and honest FLOP counting."""

import time

import keras
import numpy as np
import pytest

import zoo
from zoo.experiments.torch_twin import torch_network
from zoo.experiments.twins import (
    TrainingClock,
    examples_per_second,
    plain_keras_model,
    training_flops_per_example,
)
from zoo.nets.network import leaf_layers
from zoo.training.fastpath import chunk_batches, chunk_count, fit_fast

pytestmark = pytest.mark.xla  # the fast path and its speed are XLA's


def test_flops_count_the_dense_and_conv_layers():
    dense = keras.Sequential([keras.Input((784,)), keras.layers.Dense(300), keras.layers.Dense(10)])
    assert training_flops_per_example(dense) == 6 * (784 * 300 + 300 * 10)
    inputs = keras.Input((28, 28, 1))
    conv = keras.Model(inputs, keras.layers.Conv2D(8, 3, padding="same")(inputs))
    assert training_flops_per_example(conv) == 6 * (28 * 28 * 3 * 3 * 1 * 8)


def test_flops_count_the_convs_inside_a_residual_block():
    """fashion_resnet's convs are called by their blocks, so their symbolic outputs have no spatial shape; the
    count reads them from a forward pass (the speed experiment stopped with a TypeError on it before)."""
    recipe = zoo.get_recipe("fashion_resnet")
    model = zoo.build(recipe)
    convs = [layer for layer in leaf_layers(model) if isinstance(layer, keras.layers.Conv2D)]
    dense = [layer for layer in leaf_layers(model) if isinstance(layer, keras.layers.Dense)]
    # Each stage halves the 28 x 28 image and widens the filters: a conv's output channels say its stage.
    side = {filters: 28 // 2**stage for stage, filters in enumerate(recipe.model.filters)}
    positions = [side[layer.kernel.shape[-1]] ** 2 for layer in convs]
    expected = sum(n * int(np.prod(layer.kernel.shape)) for n, layer in zip(positions, convs))
    expected += sum(int(np.prod(layer.kernel.shape)) for layer in dense)
    assert training_flops_per_example(model) == 6 * expected
    assert any(None in layer.output.shape[1:3] for layer in convs), "the stand-in no longer nests its convs"
    assert all(type(layer).call is layer.call.__func__ for layer in convs), "every conv's own call is back"


def test_plain_keras_model_is_the_same_network_with_keras_defaults():
    recipe = zoo.get_recipe("fashion_mlp")
    fast, plain = zoo.build(recipe), plain_keras_model(recipe)
    assert fast.count_params() == plain.count_params()
    assert [type(layer).__name__ for layer in leaf_layers(fast)] == [
        type(layer).__name__ for layer in leaf_layers(plain)
    ]
    assert fast.steps_per_execution == recipe.train.steps_per_execution > 1 and fast.jit_compile is True
    assert plain.steps_per_execution == 1 and type(plain.optimizer) is type(fast.optimizer)


@pytest.mark.slow
def test_a_timed_pass_is_its_training_seconds_when_it_reports_them(digits):
    """The speed experiment times a Keras pass by its TrainingClock, not by the whole fit call."""
    assert examples_per_second(lambda: 2.0, 100) == 50.0  # the pass's own seconds, taken at its word
    assert examples_per_second(lambda: None, 100) > 100  # no seconds reported: timed from outside
    model = zoo.build(zoo.get_recipe("fashion_mlp", hidden=[8]), input_shape=(8, 8, 1))
    clock = TrainingClock()
    started = time.perf_counter()
    fit_fast(
        model,
        zoo.batches(digits, batch_size=16).train,
        examples=digits.sizes["train"],
        batch_size=16,
        verbose=0,
        callbacks=[clock],
    )
    assert 0 < clock.seconds <= time.perf_counter() - started


@pytest.mark.slow
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
    # auto: XLA for dense nets on TensorFlow; Keras's own rule (off on a CPU) for conv nets.
    import tensorflow as tf

    if keras.backend.backend() == "tensorflow" and not tf.config.list_physical_devices("GPU"):
        assert zoo.build(zoo.get_recipe("fashion_mlp")).jit_compile is True
        assert zoo.build(zoo.get_recipe("fashion_cnn")).jit_compile is False
    with pytest.raises(zoo.RecipeError, match="train.jit_compile = 'yes' is not allowed"):
        zoo.get_recipe("fashion_mlp", jit_compile="yes")


def test_chunks_hold_whole_batches_padded_to_one_shape():
    import numpy as np
    import tensorflow as tf

    x, y = np.arange(23 * 2, dtype="float32").reshape(23, 2), np.arange(23, dtype="int32")
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)  # 5 whole batches and one of 3
    chunks = chunk_batches(batches, examples=23, batch_size=4, steps=2)
    assert int(chunks.cardinality()) == chunk_count(23, 4, 2) == 3
    seen = list(chunks)
    assert [int(count) for _, _, count in seen] == [2, 2, 1]
    assert all(tuple(xs.shape) == (2, 4, 2) and tuple(ys.shape) == (2, 4) for xs, ys, _ in seen)
    kept = np.concatenate([ys.numpy()[: int(count)].ravel() for _, ys, count in seen])
    assert kept.tolist() == list(range(20))  # the short final batch (20, 21, 22) is left out
    assert not seen[-1][1].numpy()[1].any()  # padding is zeros


@pytest.mark.slow
def test_the_fast_paths_bar_counts_optimizer_steps_not_chunks(digits, capsys):
    recipe = zoo.get_recipe("mlp", hidden=[8], steps_per_execution=8, jit_compile="on")
    model = zoo.build(recipe, input_shape=(8, 8, 1), num_classes=10)
    served = zoo.batches(digits, batch_size=16).train
    fit_fast(model, served, examples=digits.sizes["train"], batch_size=16, epochs=1, verbose=2)
    shown = capsys.readouterr().out
    assert "77/77" in shown and "10/10" not in shown, shown  # 1237 // 16 steps, in 10 chunks of up to 8


@pytest.mark.slow
def test_fast_fit_runs_every_whole_batch_once_and_restores_the_model(digits, tmp_path):
    import numpy as np

    recipe = zoo.get_recipe("mlp", hidden=[16], steps_per_execution=8, jit_compile="on")
    model = zoo.build(recipe, input_shape=(8, 8, 1), num_classes=10)
    train_step = model.train_step
    history = fit_fast(
        model,
        zoo.batches(digits, batch_size=16).train,
        examples=digits.sizes["train"],
        batch_size=16,
        validation_data=zoo.batches(digits, batch_size=16).validation,
        epochs=2,
        verbose=0,
    )
    # 1237 examples at batch 16: 77 whole batches per epoch, each one optimizer step; padding none.
    assert int(model.optimizer.iterations) == 2 * (1237 // 16)
    assert len(history.history["val_accuracy"]) == 2
    assert model.steps_per_execution == 8 and model.train_step == train_step and "train_step" not in vars(model)
    # The model is an ordinary Keras model again: plain fit, evaluate, save and load all work.
    (x, y), (x_test, y_test) = digits.arrays["train"], digits.arrays["test"]
    model.fit(x[:64], y[:64], batch_size=16, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 2 * 77 + 4
    assert model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"] > 0.5
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0), atol=1e-5)
    # A second fast fit reuses the chunked functions and keeps counting steps.
    fit_fast(
        model,
        zoo.batches(digits, batch_size=16).train,
        examples=digits.sizes["train"],
        batch_size=16,
        epochs=1,
        verbose=0,
    )
    assert int(model.optimizer.iterations) == 3 * 77 + 4


@pytest.mark.parametrize("jit", [False, True])
def test_zoo_dropout_draws_a_fresh_mask_every_step(jit):
    import numpy as np
    import tensorflow as tf

    from zoo.nets.layers import AlphaDropout, Dropout

    layer = Dropout(0.3, seed=0)
    ones = tf.ones((64, 512))
    apply = tf.function(lambda: layer(ones, training=True), jit_compile=jit)
    first, second = apply().numpy(), apply().numpy()
    np.testing.assert_allclose(np.unique(first), [0.0, 1 / 0.7], rtol=1e-6)  # dropped, or kept and scaled
    assert abs((first == 0).mean() - 0.3) < 0.02
    assert (first != second).any()  # a new mask each call, compiled or not
    assert (layer(ones, training=False).numpy() == 1).all()
    normal = tf.random.stateless_normal((64, 512), (1, 2))
    alpha_layer = AlphaDropout(0.1, seed=0)
    alpha = tf.function(lambda: alpha_layer(normal, training=True), jit_compile=jit)().numpy()
    assert abs(alpha.mean()) < 0.05 and abs(alpha.std() - 1) < 0.05  # self-normalizing: mean 0, std 1 kept


def test_torch_twin_has_the_same_parameter_count():
    pytest.importorskip("torch")
    recipes = (("fashion_mlp", {}), ("fashion_selu", {}), ("fashion_cnn", {}), ("cnn", {"padding": "valid"}))
    for name, options in recipes:
        recipe = zoo.get_recipe(name, **options)
        network, _ = torch_network(recipe)
        # Keras counts BatchNorm's moving mean and variance as (non-trainable) weights; PyTorch keeps them as buffers.
        buffers = sum(buffer.numel() for name_, buffer in network.named_buffers() if "running" in name_)
        built = zoo.build(recipe, input_shape=(28, 28, 1), num_classes=10)
        assert sum(p.numel() for p in network.parameters()) + buffers == built.count_params(), name


def test_torch_twin_orders_its_layers_as_zoo_builds_them():
    """Pooling before or after BatchNorm and the activation (model.pool_first) changes what each step costs."""
    pytest.importorskip("torch")
    kinds = {"Conv2d": "Conv2D", "MaxPool2d": "MaxPooling2D", "BatchNorm2d": "BatchNorm", "ELU": "Activation"}
    for pool_first in (False, True):
        recipe = zoo.get_recipe("cnn", filters=[8, 16], convs_per_block=2, pool_first=pool_first, dropout=0.0)
        network, _ = torch_network(recipe)
        convs = list(network)[: [type(m).__name__ for m in network].index("Flatten")]
        twin = [kinds[type(m).__name__] for m in convs if type(m).__name__ in kinds]
        blocks = [
            layer
            for layer in zoo.build(recipe, input_shape=(28, 28, 1), num_classes=10).layers
            if layer.name.startswith("conv_block")
        ]
        ours = [type(layer).__name__ for block in blocks for layer in block.layers]
        assert twin == [kind for kind in ours if kind in kinds.values()], pool_first


def test_torch_twin_keeps_the_weights_moving_average_as_keras_does():
    """Keras's use_ema: the average starts at the weights after the first step, then moves 1% a step."""
    torch = pytest.importorskip("torch")
    from zoo.experiments.torch_twin import torch_ema

    net = torch.nn.Linear(1, 1, bias=False)
    average = torch_ema(net)
    for value in (1.0, 3.0):
        net.weight.data.fill_(value)
        average.update_parameters(net)
    assert average.module.weight.item() == pytest.approx(0.99 * 1.0 + 0.01 * 3.0)


def test_keras_and_the_twin_average_the_weights_at_one_momentum():
    from zoo.nets.factories import get_optimizer
    from zoo.recipes.keys import EMA_MOMENTUM

    assert get_optimizer("adam", 1e-3, ema=True).ema_momentum == EMA_MOMENTUM == 0.99
    assert not get_optimizer("adam", 1e-3).use_ema


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
            row["median_examples_per_second"]["zoo"] / row["median_examples_per_second"]["keras"]
        )
        assert len(row["examples_per_second"]["zoo"]) == results["rounds"]
    report = (path.parent / "report.md").read_text()
    for row in results["rows"]:
        assert (
            f"| {row['median_examples_per_second']['zoo']:,.0f} | {row['median_examples_per_second']['keras']:,.0f} |"
            in report
        )
        assert f"| {row['recipe']} | {row['batch_size']} | " in report


def test_readme_speed_table_comes_from_the_committed_results():
    import json
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    path = repo / "benchmarks" / "results" / "speed" / "results.json"
    if not path.is_file():
        pytest.skip("speed experiment not committed yet")
    readme = (repo / "docs" / "speed.md").read_text()  # the speed table moved from the README to the docs
    for row in json.loads(path.read_text())["rows"]:
        rates = row["median_examples_per_second"]
        assert f"| {rates['zoo']:,.0f} | {rates['keras']:,.0f} |" in readme, row["recipe"]
        assert f"| {row['zoo_vs_keras']:.2f}x |" in readme, row["recipe"]


@pytest.mark.slow
def test_fast_path_matches_this_keras(digits):
    """The chunked path patches Keras internals; a Keras release that changes them must fail here, by name."""
    from zoo.training.fastpath import keras_internals_problem

    recipe = zoo.get_recipe("fashion_mlp", hidden=[8], steps_per_execution=4, jit_compile="on")
    model = zoo.build(recipe, input_shape=(8, 8, 1), num_classes=10)
    assert keras_internals_problem(model) is None, f"zoo.training.fastpath needs updating for Keras {keras.__version__}"
    fit_fast(
        model,
        zoo.batches(digits, batch_size=16).train,
        examples=digits.sizes["train"],
        batch_size=16,
        epochs=1,
        verbose=0,
    )
    assert int(model.optimizer.iterations) == 1237 // 16, (
        "zoo.training.fastpath's chunked steps no longer run one optimizer step per batch under Keras "
        f"{keras.__version__}"
    )


@pytest.mark.slow
def test_recipe_key_forces_a_plain_fit(tiny_recipe, digits, tmp_path):
    # The plain fit also trains the short final batch (1237 = 77 x 16 + 5); the chunked path leaves it out.
    plain = zoo.train(
        zoo.get_recipe(tiny_recipe, epochs=1, fast_path=False, jit_compile="off"),
        data=digits,
        out_dir=tmp_path / "plain",
        verbose=0,
    )
    fast = zoo.train(
        zoo.get_recipe(tiny_recipe, epochs=1, jit_compile="on"), data=digits, out_dir=tmp_path / "fast", verbose=0
    )
    assert int(plain.model.optimizer.iterations) == 78 and int(fast.model.optimizer.iterations) == 77


def test_the_first_fit_traces_the_training_step_once_and_trains_the_same_weights(digits):
    # Keras's TensorFlow trainer creates the optimizer's and metrics' variables in the first trace of the
    # step, and a tf.function that creates variables is traced twice; fit_fast builds them first.
    import numpy as np

    from zoo.training import fastpath

    traces = []

    class Counting(keras.Sequential):
        def train_step(self, data):
            traces.append(1)
            return super().train_step(data)

    def trained(build_first):
        keras.utils.set_random_seed(0)
        model = Counting([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
        # Without XLA, which would only add compile time: the count of traces does not depend on it.
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
        traces.clear()
        served = zoo.batches(digits, batch_size=16).train
        if build_first:
            fit_fast(model, served, examples=digits.sizes["train"], batch_size=16, epochs=2, verbose=0, fast=False)
        else:
            model.fit(served, epochs=2, verbose=0, shuffle=False)
        return len(traces), model.get_weights()

    (once, built), (twice, lazy) = trained(True), trained(False)
    assert (once, twice) == (1, 2), "Keras no longer traces a variable-creating step twice: build_before_fit can go"
    for a, b in zip(built, lazy, strict=True):
        np.testing.assert_array_equal(a, b)
    # Under a strategy Keras builds in the strategy's scope itself: zoo leaves it alone.
    import tensorflow as tf

    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("adam", "mse")
    assert not fastpath.build_before_fit(model, tf.data.Dataset.from_tensor_slices(([[0.0, 0.0]], [[0.0]])).batch(1))
    assert not model.optimizer.built


def test_the_precision_experiment_times_both_precisions_in_alternating_rounds(tiny_recipe, tmp_path):
    """`zoo experiment precision` on the tiny digits recipe: both precisions timed every round, the ratio of the
    medians, the CPU's bfloat16 features named, and the report quoting the results file."""
    import json

    from zoo.experiments import precision

    found = precision.run(tmp_path, recipes=(tiny_recipe,), rounds=2, examples=256)
    (row,) = found["recipes"]
    assert row["recipe"] == tiny_recipe.name and row["examples_per_timing"] == 256, "light: a pass of `examples`"
    assert all(len(row["examples_per_second"][p]) == 2 for p in precision.PRECISIONS)
    medians = row["median_examples_per_second"]
    assert min(medians.values()) > 0
    assert row["bf16_vs_float32"] == pytest.approx(medians["mixed_bfloat16"] / medians["float32"])
    assert isinstance(found["cpu_bf16"], list) and found["versions"]["tensorflow"]
    assert json.loads((tmp_path / "results.json").read_text()) == found
    report = (tmp_path / "report.md").read_text()
    assert f"| {tiny_recipe.name} | 256 | {medians['float32']:,.0f} | {medians['mixed_bfloat16']:,.0f} |" in report


def test_the_cpus_bfloat16_features_are_read_from_its_flags(tmp_path):
    from zoo.nets.precision import cpu_bf16_features

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16\nprocessor\t: 1\n")
    assert cpu_bf16_features(info) == ["amx_bf16", "avx512_bf16"]
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 fma\n")
    assert cpu_bf16_features(info) == []


def test_committed_precision_results_have_the_promised_shape():
    import json
    from pathlib import Path

    from zoo.experiments.precision import RECIPES

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "precision" / "results.json"
    results = json.loads(path.read_text())
    assert [row["recipe"] for row in results["recipes"]] == list(RECIPES) and results["rounds"] >= 3
    report = (path.parent / "report.md").read_text()
    for row in results["recipes"]:
        medians = row["median_examples_per_second"]
        assert row["bf16_vs_float32"] == pytest.approx(medians["mixed_bfloat16"] / medians["float32"])
        assert f"| {row['recipe']} | {row['examples_per_timing']:,} |" in report
        assert f"{row['bf16_vs_float32']:.2f}x |" in report
