"""`zoo predict`: a run's answers for new rows or images, with class names, and one clear line for bad input."""

import csv
import json

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image

from zoo.cli.main import main

TINY = ["--set", "model.hidden=[16]", "--set", "train.jit_compile=off", "--epochs", "1"]


def _rows(path, rows=80, seed=0):
    rng = np.random.default_rng(seed)
    weight = rng.normal(10, 3, rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    frame = pd.DataFrame({"weight": weight, "colour": colour, "kind": np.where(weight > 10, "heavy", "light")})
    frame.to_csv(path, index=False)
    return frame


def _read(path):
    return list(csv.reader(path.open()))


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("table")
    _rows(folder / "train.csv")
    argv = ["train", "tabular", "--data", str(folder / "train.csv"), "--target", "kind", "--out", str(folder / "run")]
    assert main([*argv, *TINY]) == 0
    return folder


@pytest.mark.slow
def test_a_table_runs_predictions_name_its_classes_and_leave_the_target_out(table_run, tmp_path, capsys):
    _rows(tmp_path / "new.csv", rows=5, seed=1)  # still holds the "kind" column: left out, and said so
    assert (
        main(["predict", str(table_run / "run"), "--data", str(tmp_path / "new.csv"), "--out", str(tmp_path / "p.csv")])
        == 0
    )
    assert "5 predictions written" in capsys.readouterr().out
    header, *rows = _read(tmp_path / "p.csv")
    classes = json.loads((table_run / "run" / "metrics.json").read_text())["classes"]
    assert classes == ["heavy", "light"] and header == ["id", "class", "p_heavy", "p_light"]
    assert [row[0] for row in rows] == ["0", "1", "2", "3", "4"] and {row[1] for row in rows} <= set(classes)
    assert all(abs(float(row[2]) + float(row[3]) - 1) < 1e-4 for row in rows)
    # Saved with its row labels (pandas' to_csv default): they name the rows, and are not read as a column.
    pd.read_csv(tmp_path / "new.csv").set_axis(list("vwxyz")).to_csv(tmp_path / "labelled.csv")
    assert main(["predict", str(table_run / "run"), "--data", str(tmp_path / "labelled.csv")]) == 0
    shown = capsys.readouterr()
    assert [row[0] for row in list(csv.reader(shown.out.splitlines()))[1:]] == list("vwxyz")
    assert [row[1:] for row in list(csv.reader(shown.out.splitlines()))[1:]] == [row[1:] for row in rows]
    assert "Unnamed" not in shown.err
    # Every table file training reads, predicting reads too (a .pq file was refused: "must be a .csv or .parquet").
    pytest.importorskip("pyarrow")
    pd.read_csv(tmp_path / "new.csv").to_parquet(tmp_path / "new.pq")
    assert main(["predict", str(table_run / "run"), "--data", str(tmp_path / "new.pq")]) == 0
    assert [row[1:] for row in list(csv.reader(capsys.readouterr().out.splitlines()))[1:]] == [r[1:] for r in rows]


@pytest.mark.slow
def test_new_rows_are_read_as_the_model_takes_each_column(table_run, tmp_path, capsys):
    """A word in a numeric column was a stack trace from inside TensorFlow ("Cast string to float is not
    supported"), and so was a category column whose new values all read as numbers."""
    pd.DataFrame({"weight": [9.5, 11.0], "colour": [1, 2]}).to_csv(tmp_path / "codes.csv", index=False)
    assert main(["predict", str(table_run / "run"), "--data", str(tmp_path / "codes.csv")]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3  # the header and two rows: unseen colours, still rows
    pd.DataFrame({"weight": ["9.5", "heavy"], "colour": ["red", "blue"]}).to_csv(tmp_path / "word.csv", index=False)
    assert main(["predict", str(table_run / "run"), "--data", str(tmp_path / "word.csv")]) == 2
    err = capsys.readouterr().err
    assert "word.csv: column 'weight' is treated as numeric but line 3 holds 'heavy'" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_a_missing_column_is_one_line_and_nothing_is_written(table_run, tmp_path, capsys):
    pd.DataFrame({"weight": [1.0, 2.0]}).to_csv(tmp_path / "short.csv", index=False)
    out = tmp_path / "p.csv"
    assert main(["predict", str(table_run / "run"), "--data", str(tmp_path / "short.csv"), "--out", str(out)]) == 2
    assert "lacks the column 'colour'; the model takes: colour, weight" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "short.csv"]


@pytest.mark.slow
def test_an_image_runs_predictions_and_its_bad_images(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for index, name in enumerate(("dark", "light")):
        (tmp_path / "images" / name).mkdir(parents=True)
        for k in range(8):
            Image.fromarray((rng.random((10, 10)) * 60 + 150 * index).astype(np.uint8)).save(
                tmp_path / "images" / name / f"{k}.png"
            )
    argv = ["train", "cnn", "--data", str(tmp_path / "images"), "--out", str(tmp_path / "run")]
    assert main([*argv, "--set", "train.jit_compile=off", "--epochs", "1"]) == 0
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["input"] == {
        "kind": "image",
        "shape": [10, 10, 1],
        "range": [0, 255],
    }
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "run"), "--data", str(tmp_path / "images" / "light")]) == 0
    header, *rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert header == ["id", "class", "p_dark", "p_light"] and [row[0] for row in rows] == [f"{k}.png" for k in range(8)]
    # Pixels as training read them (TensorFlow's decode and bilinear resize): a PNG's are its own, and an image
    # of another size is resized as `--image-size` resizes training images, and said so.
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    light = np.stack([np.asarray(Image.open(tmp_path / "images" / "light" / f"{k}.png"))[..., None] for k in range(8)])
    expected = model.predict(light.astype("float32"), verbose=0)
    assert np.allclose([[float(p) for p in row[2:]] for row in rows], expected, atol=2e-6)
    (tmp_path / "odd").mkdir()
    tall = (rng.random((12, 10)) * 255).astype(np.uint8)
    Image.fromarray(tall).save(tmp_path / "odd" / "tall.png")
    assert main(["predict", str(tmp_path / "run"), "--data", str(tmp_path / "odd")]) == 0
    shown = capsys.readouterr()
    assert "1 image(s) resized to 10x10 (bilinear" in shown.err
    resized = tf.image.resize(tall[..., None], (10, 10), method="bilinear").numpy()[None]
    got = [float(p) for p in list(csv.reader(shown.out.splitlines()))[1][2:]]
    assert np.allclose(got, model.predict(resized, verbose=0)[0], atol=2e-6)
    (tmp_path / "odd" / "tall.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "odd" / "wide.png").write_bytes(b"")
    assert main(["predict", str(tmp_path / "run"), "--data", str(tmp_path / "odd")]) == 2
    err = capsys.readouterr().err
    assert "tall.png is not a readable image" in err and f"1 more: {tmp_path}/odd/wide.png; fix or remove" in err
    Image.fromarray(tall).save(tmp_path / "odd" / "tall.webp")  # no row would say it was left out
    assert main(["predict", str(tmp_path / "run"), "--data", str(tmp_path / "odd")]) == 2
    assert "holds 1 .webp image(s)" in capsys.readouterr().err


def test_a_model_that_is_not_there_is_named(tmp_path, capsys):
    assert main(["predict", str(tmp_path / "nothing"), "--data", str(tmp_path)]) == 2
    assert "is not a run folder, a .keras file or a shipped model (shipped: fashion_cnn" in capsys.readouterr().err


@pytest.mark.slow
def test_a_regressions_answers_are_named_as_its_target(tmp_path, capsys):
    rng = np.random.default_rng(0)
    area = rng.uniform(40, 200, 200)
    pd.DataFrame({"area": area, "price": 3.0 * area + rng.normal(0, 5, 200)}).to_csv(tmp_path / "t.csv", index=False)
    argv = ["train", "tabular", "--data", str(tmp_path / "t.csv"), "--target", "price", "--out", str(tmp_path / "run")]
    assert main([*argv, *TINY[:-1], "20"]) == 0  # 20 epochs: a preset is made only from a run that learned
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["target"] == "price"
    pd.DataFrame({"area": [50.0, 150.0]}).to_csv(tmp_path / "new.csv", index=False)
    assert (
        main(["predict", str(tmp_path / "run"), "--data", str(tmp_path / "new.csv"), "--out", str(tmp_path / "p.csv")])
        == 0
    )
    header, *rows = _read(tmp_path / "p.csv")
    assert header == ["id", "price"] and [row[0] for row in rows] == ["0", "1"]
    assert all(np.isfinite(float(row[1])) for row in rows)
    # A preset made from the run (no metrics.json: its card is the record) answers under the same name.
    assert main(["save-preset", str(tmp_path / "run"), str(tmp_path / "preset")]) == 0
    assert main(["predict", str(tmp_path / "preset"), "--data", str(tmp_path / "new.csv")]) == 0
    assert capsys.readouterr().out.splitlines()[-3:][0] == "id,price"


@pytest.mark.slow
def test_a_date_columns_model_takes_days_and_predict_converts_dates_as_training_spelled_them(tmp_path, capsys):
    # Spelled month first, as a US spreadsheet writes them: days above 12 show the order in training, and the
    # new rows (01/02/2024, ...) are read that way too, though alone they could be 1 February.
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"day": days.strftime("%m/%d/%Y"), "rain": rng.random(120)})
    frame.assign(sold=np.arange(120.0) + frame.rain).to_csv(tmp_path / "sales.csv", index=False)
    argv = [
        "train",
        "tabular",
        "--data",
        str(tmp_path / "sales.csv"),
        "--target",
        "sold",
        "--out",
        str(tmp_path / "run"),
    ]
    assert main([*argv, *TINY]) == 0
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())["input"]
    assert record["types"] == {"day": "date", "rain": "number"} and record["date_formats"] == {"day": "%m/%d/%Y"}
    frame.head(3).to_csv(tmp_path / "new.csv", index=False)
    frame.head(3).assign(day=days[:3].strftime("%Y-%m-%d")).to_csv(tmp_path / "iso.csv", index=False)
    answers = []
    for new in ("new.csv", "iso.csv"):  # ISO 8601 dates are read too
        capsys.readouterr()
        assert main(["predict", str(tmp_path / "run"), "--data", str(tmp_path / new)]) == 0
        answers.append([float(row[1]) for row in list(csv.reader(capsys.readouterr().out.splitlines()))[1:]])
    got = answers[0]
    assert answers[1] == got
    # Plain Keras takes the dates as days since 1970-01-01 (2024-01-01 is day 19723), as the record says.
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    columns = {
        "day": np.array([[19723.0], [19724.0], [19725.0]], "float32"),
        "rain": frame.rain.head(3).to_numpy()[:, None],
    }
    assert np.allclose(got, model.predict(columns, verbose=0).ravel(), atol=1e-3)
    pd.DataFrame({"day": ["someday"], "rain": [0.5]}).to_csv(tmp_path / "bad.csv", index=False)
    assert main(["predict", str(tmp_path / "run"), "--data", str(tmp_path / "bad.csv")]) == 2
    said = capsys.readouterr().err
    assert "line 2 holds 'someday'; the model takes dates there (as in training, 03/31/2024, or ISO 8601" in said
