"""Saved models load with plain Keras: zoo's training-speed layers are saved as the standard layers they equal."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.cli.main import main
from zoo.nets.layers import AlphaDropout, Dropout, RReLU
from zoo.nets.normalization import BatchNorm
from zoo.nets.portable import needs_zoo, portable
from zoo.nets.tabular import PeriodicEmbedding
from zoo.paths import shipped_dir


def test_the_standard_layers_replace_zoos_with_the_same_weights_and_outputs():
    images = keras.Input((6, 6, 2))
    x = BatchNorm()(keras.layers.Conv2D(3, 3)(images))  # 4-D: the fused kernel's path
    x = keras.layers.Flatten()(RReLU(0.1, 0.3)(x))
    x = AlphaDropout(0.1)(Dropout(0.3)(keras.layers.Dense(5)(x)))
    inner = keras.Model(images, keras.layers.Dense(2)(x))
    outer_input = keras.Input((6, 6, 2))
    model = keras.Model(outer_input, inner(outer_input))  # nested, as a run's encoder + net is
    rng = np.random.default_rng(0)
    model.layers[1].layers[2].set_weights([w + rng.normal(size=w.shape) for w in model.layers[1].layers[2].weights])
    plain = portable(model)
    assert needs_zoo(model) == ["zoo>AlphaDropout", "zoo>BatchNorm", "zoo>Dropout", "zoo>RReLU"]
    assert needs_zoo(plain) == []
    names = [type(layer).__name__ for layer in plain.layers[1].layers]
    assert {"BatchNormalization", "LeakyReLU", "Dropout", "AlphaDropout"} <= set(names)
    batch = rng.normal(size=(4, 6, 6, 2)).astype("float32")
    np.testing.assert_allclose(plain.predict(batch, verbose=0), model.predict(batch, verbose=0), atol=1e-5)


def test_a_layer_without_a_standard_equal_is_kept_and_named():
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(1)(PeriodicEmbedding(3, 4)(BatchNorm()(x))))
    assert needs_zoo(portable(model)) == ["zoo>PeriodicEmbedding"]


# Loads each model with Keras alone, checks zoo was never imported, and prints its predictions.
PLAIN_KERAS = """
import json, sys
import keras, numpy as np
from PIL import Image
digits = keras.saving.load_model(sys.argv[1], safe_mode=True)
folder = keras.saving.load_model(sys.argv[2], safe_mode=True)
manifest = json.load(open(sys.argv[3] + "/manifest.json"))
shipped = {key.split("/")[0]: keras.saving.load_model(sys.argv[3] + "/" + key, safe_mode=True).output_shape
           for key in manifest if key.endswith("model.keras")}
pixels = np.stack([np.asarray(Image.open(path).convert("L"))[..., None] for path in sys.argv[4:]]).astype("float32")
assert pixels.max() > 1, "the folder model takes 0-255 pixels, as read from the files"
rows = np.load(sys.argv[1] + ".rows.npy")
print(json.dumps({"zoo_imported": "zoo" in sys.modules, "shipped": shipped,
                  "digits": digits.predict(rows, verbose=0).tolist(),
                  "folder": folder.predict(pixels, verbose=0).tolist()}))
"""


@pytest.mark.slow
def test_run_folders_load_and_predict_with_plain_keras_in_a_python_without_zoo(tiny_recipe, digits, tmp_path):
    result = zoo.train(tiny_recipe, data=digits, out_dir=tmp_path / "digits", verbose=0)
    assert json.loads((tmp_path / "digits" / "metrics.json").read_text())["needs_zoo"] == []
    rows = digits.arrays["test"][0][:5].astype("float32")
    np.save(tmp_path / "digits" / "model.keras.rows.npy", rows)
    rng = np.random.default_rng(0)
    for index, name in enumerate(("dark", "light")):
        (tmp_path / "images" / name).mkdir(parents=True)
        for k in range(8):
            pixels = (rng.random((10, 10)) * 60 + 150 * index).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "images" / name / f"{k}.png")
    folder_argv = ["train", "cnn", "--data", str(tmp_path / "images"), "--epochs", "1", "--out", str(tmp_path / "f")]
    assert main([*folder_argv, "--set", "train.jit_compile=off"]) == 0
    files = [str(tmp_path / "images" / name / "0.png") for name in ("dark", "light")]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PLAIN_KERAS,
            str(tmp_path / "digits" / "model.keras"),
            str(tmp_path / "f" / "model.keras"),
            str(shipped_dir("saved_models")),
            *files,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = json.loads(done.stdout.splitlines()[-1])
    assert printed["zoo_imported"] is False
    assert {name: shape[-1] for name, shape in printed["shipped"].items()} == {
        name: 10 for name in zoo.list_pretrained()
    }, "every shipped model loads with Keras alone"
    np.testing.assert_allclose(printed["digits"], result.model.predict(rows, verbose=0), atol=1e-5)
    pixels = np.stack([np.asarray(Image.open(path))[..., None] for path in files]).astype("float32")
    in_zoo = keras.saving.load_model(tmp_path / "f" / "model.keras").predict(pixels, verbose=0)
    np.testing.assert_allclose(printed["folder"], in_zoo, atol=1e-5)
