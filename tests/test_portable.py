"""Saved models load with plain Keras: zoo's training-speed layers are saved as the standard layers they equal."""

import json
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import zoo
from zoo.cli.main import main
from zoo.data.columns import table_columns
from zoo.nets.layers import AlphaDropout, Dropout, MCDropout, RReLU
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
    model = keras.Model(x, keras.layers.Dense(1)(MCDropout(0.2)(BatchNorm()(x))))
    assert needs_zoo(portable(model)) == ["zoo>MCDropout"]


def test_the_periodic_embedding_is_saved_as_standard_layers_with_the_same_outputs(tmp_path):
    x = keras.Input((5,))
    model = keras.Model(x, keras.layers.Dense(2)(PeriodicEmbedding(3, frequencies=4, dim=2, seed=1)(BatchNorm()(x))))
    model.layers[2].set_weights([w + 0.3 for w in model.layers[2].get_weights()])  # not the initial values
    plain = portable(model)
    assert needs_zoo(plain) == []
    plain.save(tmp_path / "m.keras")
    rows = np.random.default_rng(0).normal(size=(16, 5)).astype("float32")
    # The file names no zoo class (the no-zoo Python below loads a whole CSV model that holds one).
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(rows, verbose=0), model.predict(rows, verbose=0), atol=1e-5)


# Loads each model with Keras alone, checks zoo was never imported, and prints its predictions: the CSV model's
# from a dict keyed by the CSV's own column names, the folder model's from 0-255 pixels read with PIL.
PLAIN_KERAS = """
import csv, json, sys
import keras, numpy as np, tensorflow as tf
from PIL import Image
table = keras.saving.load_model(sys.argv[1] + "/model.keras", safe_mode=True)
folder = keras.saving.load_model(sys.argv[2], safe_mode=True)
manifest = json.load(open(sys.argv[3] + "/manifest.json"))
shipped = {key.split("/")[0]: keras.saving.load_model(sys.argv[3] + "/" + key, safe_mode=True).output_shape
           for key in manifest if key.endswith("model.keras")}
rows = list(csv.DictReader(open(sys.argv[4])))
columns = {"weight (kg)": np.array([[float(r["weight (kg)"] or "nan")] for r in rows], "float32"),
           "colour": tf.constant([[r["colour"]] for r in rows]),  # Keras takes text as a string tensor
           # a date column takes days since 1970-01-01; its year/week cycles are Keras ops inside the model
           "born": np.array([[(np.datetime64(r["born"]) - np.datetime64("1970-01-01")) / np.timedelta64(1, "D")]
                             for r in rows], "float32")}
classes = json.load(open(sys.argv[1] + "/metrics.json"))["classes"]
named = [classes[i] for i in table.predict(columns, verbose=0).argmax(-1)]
pixels = np.stack([np.asarray(Image.open(path).convert("L"))[..., None] for path in sys.argv[5:]]).astype("float32")
assert pixels.max() > 1, "the folder model takes 0-255 pixels, as read from the files"
print(json.dumps({"zoo_imported": "zoo" in sys.modules, "shipped": shipped, "table": named,
                  "folder": folder.predict(pixels, verbose=0).tolist()}))
"""


def _table_csv(path, rows=60):
    rng = np.random.default_rng(0)
    weight = rng.normal(10, 3, rows)
    frame = pd.DataFrame(
        {
            "weight (kg)": weight,
            "colour": rng.choice(["red", "blue"], rows),
            "born": pd.date_range("2019-02-01", periods=rows, freq="5D").strftime("%Y-%m-%d"),
            "kind": np.where(weight > 10, "big", "small"),
        }
    )
    frame.loc[::7, "weight (kg)"] = np.nan  # gaps: the model fills them in and flags them, in plain Keras too
    frame.to_csv(path, index=False)
    return frame


@pytest.mark.slow
def test_run_folders_load_and_predict_with_plain_keras_in_a_python_without_zoo(tmp_path):
    frame = _table_csv(tmp_path / "pets.csv")
    table_argv = ["train", "tabular", "--data", str(tmp_path / "pets.csv"), "--target", "kind", "--out"]
    assert main([*table_argv, str(tmp_path / "t"), "--epochs", "1", "--set", "model.hidden=[16]"]) == 0
    metrics = json.loads((tmp_path / "t" / "metrics.json").read_text())
    assert metrics["needs_zoo"] == [] and metrics["classes"] == ["big", "small"]
    assert metrics["input"]["types"] == {"born": "date", "colour": "text", "weight (kg)": "number"}
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
            str(tmp_path / "t"),
            str(tmp_path / "f" / "model.keras"),
            str(shipped_dir("saved_models")),
            str(tmp_path / "pets.csv"),
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
    # The same class names zoo itself predicts for those rows.
    in_zoo = keras.saving.load_model(tmp_path / "t" / "model.keras").predict(
        table_columns(frame.drop(columns=["kind"])),
        verbose=0,  # its ISO dates as the days the model takes
    )
    assert printed["table"] == [metrics["classes"][i] for i in in_zoo.argmax(-1)]
    pixels = np.stack([np.asarray(Image.open(path))[..., None] for path in files]).astype("float32")
    in_zoo = keras.saving.load_model(tmp_path / "f" / "model.keras").predict(pixels, verbose=0)
    np.testing.assert_allclose(printed["folder"], in_zoo, atol=1e-5)
