"""`zoo export`: SavedModel, TFLite and ONNX files, each loaded back and checked against the Keras model."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from zoo.cli.main import main
from zoo.errors import DataError, RunError
from zoo.tools.export import export


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    """A small conv net over 0-255 pixels, as an image folder's run saves it (its record beside it)."""
    folder = tmp_path_factory.mktemp("images")
    pixels = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, activation="elu")(keras.layers.Rescaling(1 / 255)(pixels))
    x = keras.layers.Dropout(0.2)(keras.layers.BatchNormalization()(x))
    model = keras.Model(pixels, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x)))
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.normal(0, 0.1, w.shape) for w in model.get_weights()])
    model.save(folder / "model.keras")
    (folder / "metrics.json").write_text(json.dumps({"task": "classification", "input": {"range": [0, 255]}}))
    return folder


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite", "onnx"])
def test_each_format_is_written_only_after_it_matches_the_keras_model(image_model, tmp_path, fmt, capfd):
    out = tmp_path / f"model.{fmt}"
    assert main(["export", str(image_model), "--format", fmt, "--out", str(out)]) == 0
    shown = capfd.readouterr()  # file descriptors: C++ logging too
    assert f"{out}: {fmt}, its outputs within" in shown.out and out.exists()
    # TFLite's first interpreter run in a process announces its CPU delegate (C++): kept off the terminal.
    assert "XNNPACK" not in shown.err
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name], "no staging files left"
    report = export(image_model, fmt, tmp_path / "again")
    assert report["inputs_checked"] == 100 and report["max_abs_difference"] <= 1e-4


def test_bad_requests_are_one_line_and_write_nothing(image_model, tmp_path, capsys):
    with pytest.raises(DataError, match="--format 'pt' is not allowed; expected one of savedmodel, tflite, onnx"):
        export(image_model, "pt", tmp_path / "x")
    (tmp_path / "taken").mkdir()
    assert main(["export", str(image_model), "--format", "tflite", "--out", str(tmp_path / "taken")]) == 2
    assert "already exists; name a new path (zoo export never overwrites)" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nothing"), "--format", "onnx", "--out", str(tmp_path / "y")]) == 2
    assert "is not a run folder, a .keras file or a shipped model" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


@pytest.mark.slow
def test_a_table_model_exports_to_savedmodel_and_tflite_and_onnx_says_why_not(tmp_path):
    rng = np.random.default_rng(0)
    weight = rng.normal(10, 3, 80)
    frame = pd.DataFrame({"weight": weight, "colour": rng.choice(["red", "blue"], 80)})
    frame.assign(kind=np.where(weight > 10, "heavy", "light")).to_csv(tmp_path / "pets.csv", index=False)
    run = tmp_path / "run"
    argv = ["train", "tabular", "--data", str(tmp_path / "pets.csv"), "--target", "kind", "--out", str(run)]
    assert main([*argv, "--epochs", "1", "--set", "model.hidden=[8]", "--set", "train.jit_compile=off"]) == 0
    for fmt in ("savedmodel", "tflite"):
        assert export(run, fmt, tmp_path / fmt)["max_abs_difference"] <= 1e-4
    with pytest.raises(RunError, match="text columns use TensorFlow lookup tables, which ONNX has no op for"):
        export(run, "onnx", tmp_path / "onnx")
    assert not (tmp_path / "onnx").exists()


def test_a_regression_in_its_targets_large_units_exports(tmp_path):
    """Outputs in the thousands (a price, a count) differ by a float32 rounding step between runtimes (0.001 at
    10,000), which alone failed the absolute 1e-4 check: no such model could be exported."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2020-01-01", periods=120, freq="3D")
    frame = pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "staff": rng.normal(50, 10, 120)})
    frame.assign(calls=9000 + 40 * frame.staff + rng.normal(0, 50, 120)).to_csv(tmp_path / "calls.csv", index=False)
    run = tmp_path / "run"
    argv = ["train", "tabular", "--data", str(tmp_path / "calls.csv"), "--target", "calls", "--out", str(run)]
    assert main([*argv, "--epochs", "1", "--set", "model.hidden=[8]", "--set", "train.jit_compile=off"]) == 0
    for fmt in ("savedmodel", "tflite"):
        assert export(run, fmt, tmp_path / fmt)["max_abs_difference"] < 0.1
