"""The machinery of the "Failures of Gradient-Based Deep Learning" experiments, on tiny settings.

The experiments themselves are commands (`zoo experiment parity|tuples|conditioning|flat`) whose
committed results are checked for shape here, never rerun.
"""

import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
import zoo.experiments
from zoo.experiments import conditioning, flat, parity, tuples
from zoo.nets.layers import ForwardOnly, Staircase

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def test_forward_only_passes_the_gradient_straight_through():
    x = tf.constant([[-3.0, 0.2, 0.9, 7.5]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        stepped = Staircase([0.0, 1.0, 5.0])(x)
        through = ForwardOnly(Staircase([0.0, 1.0, 5.0]))(x)
    np.testing.assert_array_equal(through.numpy(), stepped.numpy())
    np.testing.assert_array_equal(through.numpy(), [[0.0, 0.0, 0.0, 5.0]])
    np.testing.assert_array_equal(tape.gradient(through, x).numpy(), np.ones((1, 4)))
    assert tape.gradient(stepped, x) is None or not np.any(tape.gradient(stepped, x).numpy())


def test_a_model_with_a_forward_only_staircase_round_trips_through_keras_files(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1), ForwardOnly(Staircase([-1.0, 0.0, 0.5]))])
    model.save(tmp_path / "step.keras")
    loaded = keras.saving.load_model(tmp_path / "step.keras")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.layers[-1], ForwardOnly) and loaded.layers[-1].layer.levels == [-1.0, 0.0, 0.5]


def test_parity_gradient_variance_falls_with_the_number_of_bits():
    small, large = parity.gradient_variance(3, targets=16), parity.gradient_variance(9, targets=16)
    assert large["variance"] < small["variance"] / 8


def test_parity_learning_curve_has_one_point_per_evaluation():
    run = parity.learn(4, "paper", steps=300, every=100)
    assert [p["iteration"] for p in run["points"]] == [0, 100, 200, 300] and 0 <= run["final_accuracy"] <= 1
    assert parity.learn(4, "default", steps=100, every=100)["stack"] == "default"


def test_tuple_gradient_snr_is_higher_for_one_image_than_for_three():
    images, tags = tuples.segment_images(4000, seed=0)
    one = tuples.score_gradient_snr(
        1, tuples.end_to_end_loss, tuples.tuple_sampler(images, tags, 1), batches=60, batch_size=100
    )
    three = tuples.score_gradient_snr(
        3, tuples.end_to_end_loss, tuples.tuple_sampler(images, tags, 3), batches=60, batch_size=100
    )
    assert one["snr"] > three["snr"] and one["snr"] > one["resolution"]


def test_tuple_net_outputs_the_tuple_score_then_each_image_score():
    x, y = tuples.tuple_sampler(*tuples.segment_images(50), k=2)(6)
    assert tuple(tuples.tuple_net(2)(x).shape) == (6, 3) and tuple(y.shape) == (6, 3)


def test_whitened_windows_are_decoded_in_one_step_and_raw_ones_are_not():
    whitened = conditioning.decode("whitened", 12, max_iterations=20, epsilon=1e-2, examples=200)
    raw = conditioning.decode("convolutional", 12, max_iterations=20, epsilon=1e-2, examples=200)
    assert whitened["iterations"] == 1 and whitened["condition_number"] == pytest.approx(1.0)
    assert raw["iterations"] is None and raw["condition_number"] > 10


@pytest.mark.slow
def test_flat_learners_each_produce_a_curve():
    for method in flat.METHODS:
        run = flat.learn(method, steps=40, every=20)
        assert [p["iteration"] for p in run["points"]] == [0, 20, 40] and run["final_error"] >= 0
    with pytest.raises(ValueError, match="allowed: smooth_approximation"):
        flat.learner("ridge", np.array([0.0, 1.0]))


@pytest.mark.parametrize("name", ["parity", "tuples", "conditioning", "flat"])
def test_committed_results_have_their_shape(name):
    folder = RESULTS / name
    results = json.loads((folder / "results.json").read_text())
    report = (folder / "report.md").read_text()
    assert results["experiment"] == name and results["runs"] and "versions" in results
    assert "**Verdict:" in report and "Paper against measurement" in report
    figures = re.findall(r"\]\(([\w.-]+\.png)\)", report)
    assert figures and all((folder / figure).exists() for figure in figures)


def test_the_experiments_are_listed():
    assert {"parity", "tuples", "conditioning", "flat"} <= set(zoo.experiments.EXPERIMENTS)
