"""Data: IDX parsing, the offline source search, splits, pipelines, and bad data."""

import dataclasses
import gzip
import importlib.util
import json
import os
import struct

import keras
import numpy as np
import pytest

import zoo
from zoo.data.builtin import IDX_FILES, load, read_idx


def _write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def _fake_fashion_dir(folder, train=120, test=30):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (train, 28, 28)),
        "y_train": np.arange(train) % 10,
        "x_test": rng.integers(0, 256, (test, 28, 28)),
        "y_test": np.arange(test) % 10,
    }
    for key, filename in IDX_FILES.items():
        _write_idx(folder / filename, arrays[key])
    return arrays


def test_read_idx_round_trip(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.gz", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), array)


def test_read_idx_refuses_truncated_and_foreign_files(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.gz", array)
    raw = gzip.decompress((tmp_path / "a.gz").read_bytes())
    (tmp_path / "short").write_bytes(raw[:-3])
    with pytest.raises(zoo.DataError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "foreign").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(zoo.DataError, match="not an unsigned-byte IDX file"):
        read_idx(tmp_path / "foreign")


def test_idx_folder_source_and_split(tmp_path):
    arrays = _fake_fashion_dir(tmp_path)
    splits = load("fashion_mnist", validation_size=20, data_dir=tmp_path, download=False)
    assert splits.source == f"IDX files in {tmp_path}"
    assert splits.sizes == {"train": 100, "validation": 20, "test": 30}
    x, y = splits.arrays["train"]
    assert x.shape[1:] == (28, 28, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    # Train and validation are disjoint parts of the source's training set, and cover it.
    train, validation = splits.indices["train"], splits.indices["validation"]
    assert not set(train) & set(validation) and len(set(train) | set(validation)) == 120
    np.testing.assert_array_equal(splits.arrays["validation"][1], arrays["y_train"][validation])
    batch_x, batch_y = next(iter(zoo.batches(splits, batch_size=16).train))
    assert tuple(batch_x.shape) == (16, 28, 28, 1) and batch_y.dtype.name == "int32"


def test_split_is_fixed_whatever_the_training_seed(tmp_path):
    _fake_fashion_dir(tmp_path)
    splits = load("fashion_mnist", validation_size=20, data_dir=tmp_path, download=False)
    again = load("fashion_mnist", validation_size=20, data_dir=tmp_path, download=False)
    np.testing.assert_array_equal(splits.indices["validation"], again.indices["validation"])
    first = lambda seed: next(iter(zoo.batches(splits, seed=seed).train))[1].numpy()
    assert not np.array_equal(first(1), first(2)), "different seeds should shuffle differently"


def test_data_not_found_lists_what_was_tried(tmp_path):
    with pytest.raises(zoo.DataError) as error:
        load("fashion_mnist", data_dir=tmp_path, download=False)
    message = str(error.value)
    assert "Fashion-MNIST not found. Tried:" in message
    assert f"TFDS prepared data in {tmp_path}: none" in message
    assert f"IDX files in {tmp_path}: missing train-images-idx3-ubyte.gz" in message
    assert "apt-get install dataset-fashion-mnist" in message and "ZOO_DATA_DIR" in message


def test_zoo_data_dir_is_searched(tmp_path, monkeypatch):
    _fake_fashion_dir(tmp_path)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "no_tfds"))
    assert load("fashion_mnist", validation_size=20, download=False).source == f"IDX files in {tmp_path}"


def test_digits(digits):
    assert digits.sizes == {"train": 1237, "validation": 200, "test": 360}
    assert digits.info.num_classes == 10 and digits.arrays["test"][0].shape[1:] == (8, 8, 1)
    assert "train" not in {f.name for f in dataclasses.fields(digits)}, "splits hold arrays; batching is training's"


def test_from_arrays_checks_labels_and_shapes():
    x = np.random.rand(50, 4).astype("float32")
    with pytest.raises(zoo.DataError, match=r"y_test holds labels from 0 to 9; expected 0..2"):
        zoo.from_arrays(x, np.arange(50) % 3, x[:10], np.arange(10), num_classes=3)
    with pytest.raises(zoo.DataError, match=r"y_train has shape \(49,\); expected \(50,\)"):
        zoo.from_arrays(x, np.arange(49) % 3, x[:10], np.arange(10) % 3)
    with pytest.raises(zoo.DataError, match="holds float64 values; expected integer class ids"):
        zoo.from_arrays(x, np.zeros(50), x[:10], np.arange(10) % 3)
    with pytest.raises(zoo.DataError, match="x_test has examples of shape"):
        zoo.from_arrays(x, np.arange(50) % 3, np.zeros((10, 5)), np.arange(10) % 3)
    with pytest.raises(zoo.DataError, match="validation_size = 50 is not allowed"):
        zoo.from_arrays(x, np.arange(50) % 3, x[:10], np.arange(10) % 3, validation_size=50)


def test_unknown_dataset():
    with pytest.raises(zoo.RecipeError, match="dataset = 'fashion' is not allowed"):
        load("fashion")


fashion = pytest.mark.fashion


@fashion
def test_real_fashion_mnist():
    try:
        splits = load("fashion_mnist", validation_size=5000, download=False)
    except zoo.DataError as error:
        if os.environ.get("CI"):  # CI installs the files; their absence there is a failure
            raise
        pytest.skip(f"Fashion-MNIST files absent: {error}")
    assert splits.sizes == {"train": 55000, "validation": 5000, "test": 10000}
    x, y = splits.arrays["train"]
    assert x.shape[1:] == (28, 28, 1) and set(np.unique(y)) == set(range(10))
    assert set(np.unique(splits.arrays["test"][1])) == set(range(10))
    assert not set(splits.indices["train"]) & set(splits.indices["validation"])


def test_augmented_batches_depend_on_seed_epoch_and_batch_alone():
    # A resumed run must see the augmented batches an uninterrupted one would, and a re-run the
    # same ones: the draws are keyed by (seed, epoch, batch index), not by how many came before.
    from zoo.nets.augment import augmenter
    from zoo.training.pipelines import pipeline

    x = np.random.default_rng(0).random((300, 28, 28, 1), dtype=np.float32)
    y = np.arange(300) % 10

    def served(dataset, epoch):
        dataset.zoo_epoch.assign(epoch)
        return np.concatenate([images.numpy() for images, _ in dataset])

    def build(seed):
        return pipeline(x, y, 64, shuffle=True, seed=seed, augment=augmenter(["crop", "flip", "noise"], 0.1, seed))

    run = build(3)
    assert not run.options().autotune.enabled, (
        "autotuning stalls epochs at teardown (zoo.training.pipelines.without_autotune)"
    )
    first, second = served(run, 0), served(run, 1)
    np.testing.assert_array_equal(served(build(3), 1), second)  # resumed at epoch 1
    np.testing.assert_array_equal(served(run, 0), first)  # epoch 0 served again
    assert not np.array_equal(served(build(4), 0), first)
    plain = pipeline(x, y, 64, shuffle=True, seed=3)
    shifted = pipeline(x, y, 64, shuffle=True, seed=3, augment=augmenter(["crop"], 0.036, 3))
    unmoved = (served(shifted, 0) == served(plain, 0)).reshape(len(x), -1).all(axis=1)
    assert 0.03 < unmoved.mean() < 0.25, "each image draws its own shift (1 in 9 stays put)"


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install jax)")
def test_augmented_training_runs_under_jax(tiny_recipe_file, tmp_path):
    # On JAX the augmentation layers (and the DAE's masking noise) run JAX ops and hold JAX
    # variables, which a tf.data graph cannot run: the pipeline runs them eagerly there, keyed
    # the same way. Keras picks its backend once per process, hence the subprocess.
    import subprocess
    import sys

    code = """
import json, sys
import keras
import numpy as np
import zoo
from zoo.nets.augment import augmenter
from zoo.training.pipelines import pipeline
x = np.random.default_rng(0).random((100, 8, 8, 1), dtype=np.float32)
def served(seed, epoch):
    dataset = pipeline(x, np.arange(100), 32, shuffle=True, seed=seed, augment=augmenter(["crop", "noise"], 0.2, seed))
    dataset.zoo_epoch.assign(epoch)
    return np.concatenate([images.numpy() for images, _ in dataset])
# "auto": XLA on JAX (the tiny recipe turns it off, which on JAX would run every step eagerly).
recipe = zoo.get_recipe(sys.argv[1], augment=["crop", "noise"], jit_compile="auto")
run = zoo.train(recipe, epochs=1, out_dir=sys.argv[2], verbose=0)
# The masks are drawn in the pipeline.
masked = zoo.DenoisingAutoencoder(64, 8, noise=0.3).fit(x.reshape(100, 64), epochs=2, verbose=False)
print(json.dumps([keras.backend.backend(), bool(np.array_equal(served(3, 1), served(3, 1))),
                  bool(np.array_equal(served(3, 0), served(3, 1))), run.test["accuracy"],
                  masked["reconstruction_error"]]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code, str(tiny_recipe_file), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    backend, repeats, same_across_epochs, accuracy, errors = json.loads(done.stdout.splitlines()[-1])
    assert backend == "jax" and repeats and not same_across_epochs
    assert errors[1] < errors[0], "the denoising autoencoder, its masks drawn in the pipeline, learns"
    assert accuracy > 0.2, "an epoch on digits, with shifts and noise, learns (chance: 0.1)"


def test_keras_datasets_arrays_load_as_they_come_and_grey_images_without_a_channel_train_a_cnn(tmp_path):
    """keras.datasets.*.load_data() gives ((x_train, y_train), (x_test, y_test)) with (examples, 28, 28) uint8
    images: that raised a numpy ValueError, and a cnn refused the images for want of a channel axis."""
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (60, 6, 6), dtype=np.uint8), np.arange(60) % 2
    splits = zoo.load_data(((x[:50], y[:50]), (x[50:], y[50:])))
    assert splits.sizes["test"] == 10 and splits.info.input_shape == (6, 6)
    run = zoo.train(zoo.get_recipe("cnn", jit_compile="off"), data=splits, epochs=1, verbose=0, out_dir=tmp_path / "r")
    saved = keras.saving.load_model(tmp_path / "r" / "model.keras")
    assert saved.input_shape == (None, 6, 6), "the saved model takes the arrays as they were given"
    np.testing.assert_allclose(
        saved.predict(x[50:], verbose=0), run.model.predict(x[50:, ..., None] / 255, verbose=0), atol=1e-5
    )
    # The same pixels in an .npz, keyed x and y as `zoo predict` reads them: scaled inside the model too.
    np.savez(tmp_path / "d.npz", x=x, y=y)
    from_file = zoo.load_data(tmp_path / "d.npz")
    assert from_file.encoder is not None and from_file.arrays["train"][0].max() <= 1.0
