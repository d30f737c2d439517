"""Your own data: image folders, CSV tables, .npz files and TFDS names, through the CLI and the API.

No test needs the internet: every dataset is generated here.
"""

import json

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import zoo
from zoo.cli.main import main
from zoo.data.columns import table_columns
from zoo.data.sources import load_data
from zoo.data.tables import read_table
from zoo.errors import DataError

TINY = ["--set", "model.hidden=[16]", "--set", "train.batch_size=32", "--epochs", "1"]


def _images(folder, classes=("circle", "square"), per_class=12, size=(12, 12), mode="L"):
    rng = np.random.default_rng(0)
    for index, name in enumerate(classes):
        (folder / name).mkdir(parents=True)
        for k in range(per_class):
            pixels = (rng.random(size + ((3,) if mode == "RGB" else ())) * 60 + 150 * index).astype(np.uint8)
            Image.fromarray(pixels, mode=None).convert(mode).save(folder / name / f"{k}.png")
    return folder


def _table(path, rows=120):
    rng = np.random.default_rng(0)
    weight = rng.normal(10, 3, rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    frame = pd.DataFrame(
        {
            "weight": weight,
            "colour": colour,
            "height": rng.normal(1, 0.2, rows),
            "kind": np.where((weight > 10) & (colour != "blue"), "yes", "no"),
            "price": 2 * weight + 3 * (colour == "red") + rng.normal(0, 0.3, rows),
        }
    )
    frame.to_csv(path, index=False)
    return frame


def _run_folder(capsys):
    out = capsys.readouterr().out
    return out.split("Run folder: ")[-1].split(" (")[0].strip()


@pytest.mark.slow
def test_an_image_folder_trains_through_the_cli_and_its_model_takes_raw_pixels(tmp_path, capsys):
    folder = _images(tmp_path / "shapes")
    assert (
        main(
            ["train", "cnn", "--data", str(folder), *TINY, "--set", "model.filters=[4]", "--out", str(tmp_path / "run")]
        )
        == 0
    )
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["task"] == "classification" and metrics["data"]["test_size"] == 5
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    raw = np.asarray(Image.open(folder / "square" / "0.png"), np.float32)[None, :, :, None]  # 0-255, as on disk
    assert model.predict(raw, verbose=0).shape == (1, 2)
    assert model.input_shape == (None, 12, 12, 1)
    assert load_data(folder, color_mode="rgb").info.input_shape == (12, 12, 3)


def test_16_bit_grey_images_are_one_channel(tmp_path):
    """A scanner's or microscope's 16-bit grey PNGs (PIL mode I;16) trained as three identical channels."""
    for name in ("dim", "bright"):
        (tmp_path / "scans" / name).mkdir(parents=True)
        for k in range(4):
            pixels = np.full((6, 6), 2000 + 30000 * (name == "bright") + k, np.uint16)
            Image.fromarray(pixels).save(tmp_path / "scans" / name / f"{k}.png")
    assert Image.open(tmp_path / "scans" / "dim" / "0.png").mode == "I;16"
    splits = load_data(tmp_path / "scans")
    assert splits.info.input_shape == (6, 6, 1)
    x, y = splits.arrays["train"]
    assert np.all(x[y == splits.info.class_names.index("bright")] > x[y == splits.info.class_names.index("dim")].max())


@pytest.mark.slow
def test_a_csv_with_a_categorical_column_trains_and_its_model_takes_raw_rows(tmp_path):
    frame = _table(tmp_path / "pets.csv")
    assert (
        main(
            [
                "train",
                "tabular",
                "--data",
                str(tmp_path / "pets.csv"),
                "--target",
                "kind",
                *TINY,
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    rows = frame.drop(columns=["kind"]).head(4)
    probabilities = model.predict(table_columns(rows), verbose=0)
    assert probabilities.shape == (4, 2) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_the_table_encoder_is_fitted_on_training_rows_only(tmp_path):
    _table(tmp_path / "pets.csv")
    splits = load_data(tmp_path / "pets.csv", target="kind")
    scale = splits.encoder.get_layer("robust_scale")
    train_rows = splits.arrays["train"][0]
    # Numeric features come first: centred on the training rows' median (which tanh's clip keeps at 0).
    assert np.allclose(np.median(train_rows[:, :3], axis=0), 0, atol=1e-4)
    assert not np.allclose(np.median(splits.arrays["validation"][0][:, :3], axis=0), 0, atol=1e-4)
    assert scale.mean.shape[-1] == 3
    assert splits.info.class_names == ("no", "yes")


@pytest.mark.slow
def test_a_float_target_is_regression_with_a_linear_output_in_the_targets_units(tmp_path, capsys):
    frame = _table(tmp_path / "pets.csv", rows=300)
    assert (
        main(
            [
                "train",
                "tabular",
                "--data",
                str(tmp_path / "pets.csv"),
                "--target",
                "price",
                "--set",
                "train.epochs=12",  # R^2 0.958 here: well past the 0.5 asked
                "--set",
                "train.batch_size=32",
                "--set",
                "train.jit_compile=off",  # compiling the step with XLA costs more than this run (11.5 s -> 8.7 s)
                "--set",
                "model.hidden=[64,64]",  # the recipe's 3 x 256 units learn this table no better, in more time
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["task"] == "regression" and metrics["score"] == "r2"
    assert metrics["test_score"] > 0.5, metrics["test_score"]
    # Training says first what it made of the table, as `zoo show --data` does.
    assert capsys.readouterr().out.startswith(f"Read as: 300 rows of {tmp_path / 'pets.csv'} (2 numeric, 2 categorical")
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    predicted = model.predict(table_columns(frame.drop(columns=["price"]).head(50)), verbose=0)
    assert predicted.shape == (50, 1)
    assert abs(float(np.mean(predicted)) - frame.price.head(50).mean()) < 0.2 * frame.price.std()
    # A search on the same table reads R^2 and says so (it once called it validation accuracy).
    capsys.readouterr()
    argv = ["tune", "tabular", "--data", str(tmp_path / "pets.csv"), "--target", "price", "--trials", "1"]
    assert main([*argv, "--epochs", "2", "--out", str(tmp_path / "search")]) == 0
    assert "tabular: best validation R^2 " in capsys.readouterr().out
    assert "| validation R^2 | seconds |" in (tmp_path / "search" / "trials.md").read_text()


def test_a_missing_number_becomes_the_training_median_and_is_flagged_where_training_had_gaps():
    gappy = [1.0, 2.0, np.nan, 4.0, 100.0, np.nan] * 5  # present values' median: 3
    frame = pd.DataFrame({"size": gappy, "whole": [1.0, 2, 3, 4, 5, 6] * 5, "label": [0, 1] * 15})
    encoder = read_table(frame, "label").encoder(np.arange(30))
    rows = {"size": np.array([[np.nan], [3.0], [2.0]], "float32"), "whole": np.array([[np.nan], [3.5], [3.5]], "f4")}
    encoded = encoder.predict(rows, verbose=0)
    # size and whole, scaled; then size's missing flag (whole had no gap in training: no flag, its gap is filled)
    assert encoded.shape == (3, 3)
    np.testing.assert_allclose(encoded[:2], [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]], atol=1e-6)
    assert encoded[2, 0] < 0 and encoded[2, 2] == 0.0, "a value present is scaled as before, unflagged"


def test_pandas_nullable_columns_with_gaps_are_read_and_encoded_as_their_kind():
    # Parquet files and DataFrames often hold pandas' nullable dtypes; a boolean one with a gap once crashed
    # the reader (fillna("") on a boolean array), and predicting read its text as numbers.
    frame = pd.DataFrame(
        {
            "count": pd.array([1, None, 3, 4] * 8, dtype="Int64"),
            "town": pd.array(["a", None, "b", "a"] * 8, dtype="string"),
            "owner": pd.array([True, False, None, True] * 8, dtype="boolean"),
            "label": [0, 1] * 16,
        }
    )
    table = read_table(frame, "label")
    assert table.numeric == ["count"] and table.categorical == ["town", "owner"]
    encoded = table.encoder(np.arange(32)).predict(table_columns(frame.drop(columns=["label"])), verbose=0)
    # count scaled, count's gap flag, then town's and owner's one-hot slots (a gap "" is a value of its own)
    assert encoded.shape[0] == 32 and np.isfinite(encoded).all()
    np.testing.assert_array_equal(encoded[:4, 1], [0, 1, 0, 0])


@pytest.mark.slow
def test_an_npz_file_trains_through_the_cli(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((80, 6), dtype=np.float32)
    np.savez(
        tmp_path / "arrays.npz",
        x_train=x,
        y_train=(x[:, 0] > 0.5).astype(int),
        x_test=x[:20],
        y_test=(x[:20, 0] > 0.5).astype(int),
    )
    assert main(["train", "mlp", "--data", str(tmp_path / "arrays.npz"), *TINY, "--out", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["data"]["test_size"] == 20 and metrics["data"]["validation_size"] == 8
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.predict(x[:3], verbose=0).shape == (3, 2)


def test_a_text_column_of_mostly_distinct_values_is_named_with_what_to_do():
    """Prices written "$1,234.50" were text: a category per price, all but 64 in one unseen slot, without a word."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "price": [f"${value:,.2f}" for value in rng.random(100) * 5000],
            "order": [f"A-{i:05d}" for i in range(100)],  # an id: named, but these are no numbers
            "town": rng.choice(["Leeds", "York"], 100),
            "sold": rng.integers(0, 2, 100),
        }
    )
    said = read_table(frame, "sold").describe()
    assert "price: 100 distinct values in 100 rows, only the 64 most frequent kept (numbers with other " in said
    assert "such as '$" in said and "order: 100 distinct values in 100 rows, only the 64 most frequent kept)" in said
    assert "town:" not in said


def test_show_resolves_the_recipe_for_the_data(tmp_path, capsys):
    _table(tmp_path / "pets.csv")
    assert main(["show", "tabular", "--data", str(tmp_path / "pets.csv"), "--target", "price"]) == 0
    out = capsys.readouterr().out
    assert 'task = "regression"' in out and "predicting one number" in out
    assert "# read as: 120 rows of" in out and "(2 numeric, 2 categorical columns; target price)" in out


def test_list_says_which_data_each_recipe_fits(capsys):
    assert main(["list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "any: images, tables, arrays" in lines["tabular"] and "any: images " in lines["cnn"] + " "
    assert "fashion_mnist" in lines["fashion_mlp"]


def _bad_inputs(tmp_path):
    (tmp_path / "empty").mkdir()
    _images(tmp_path / "one", classes=("only",))
    _images(tmp_path / "broken")
    for name in ("bad.png", "cut.png", "empty.png"):  # all named at once, not one run per file
        (tmp_path / "broken" / "circle" / name).write_bytes(b"not an image"[: 4 * (name != "empty.png")])
    _images(tmp_path / "mixed")
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "mixed" / "square" / "big.png")
    _images(tmp_path / "tiffs")  # Keras's folder reader would skip these two without a word
    for name in ("scan.tif", "scan2.tif"):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "tiffs" / "circle" / name)
    frame = _table(tmp_path / "pets.csv")
    frame.assign(price=frame.price.where(frame.index % 7 != 3)).to_csv(tmp_path / "holes.csv", index=False)
    np.savez(
        tmp_path / "labels.npz",
        x_train=np.zeros((20, 3)),
        y_train=np.arange(20) % 2,
        x_test=np.zeros((4, 3)),
        y_test=np.array([0, 1, 2, 1]),
    )
    return [
        (["--data", str(tmp_path / "nowhere.csv")], "no such file or folder"),
        (["--data", str(tmp_path / "empty")], "holds no images"),
        (["--data", str(tmp_path / "one")], "holds one class (only)"),
        (
            ["--data", str(tmp_path / "broken")],
            f"bad.png is not a readable image (cannot identify image file '{tmp_path}/broken/circle/bad.png'); "
            f"2 more: {tmp_path}/broken/circle/cut.png, {tmp_path}/broken/circle/empty.png; fix or remove them",
        ),
        (["--data", str(tmp_path / "mixed")], "images of different sizes"),
        (["--data", str(tmp_path / "tiffs")], f"tiffs holds 2 .tif image(s) (the first: {tmp_path}/tiffs/circle/scan"),
        (["--data", str(tmp_path / "pets.csv")], "name its target column with --target"),
        (
            ["--data", str(tmp_path / "pets.csv"), "--target", "prise"],
            "no column 'prise' (--target) (did you mean 'price'?)",
        ),
        (["--data", str(tmp_path / "holes.csv"), "--target", "price"], "'price' has 17 missing values"),
        (
            ["--data", str(tmp_path / "pets.csv"), "--target", "price", "--numeric", "colour"],
            "column 'colour' is treated as numeric but line 2 holds",
        ),
        (["--data", str(tmp_path / "labels.npz")], "y_test holds the label 2, outside y_train's classes 0..1"),
        (["--data", "tfds:mnistt"], "tfds:mnistt is not a TFDS dataset (did you mean tfds:mnist"),
        (["--target", "price"], "--target goes with --data"),
    ]


def test_each_bad_input_gets_one_clear_line_and_leaves_nothing_behind(tmp_path, capsys):
    for flags, message in _bad_inputs(tmp_path):
        out = tmp_path / "run"
        assert main(["train", "tabular", *flags, "--out", str(out)]) == 2, flags
        err = capsys.readouterr().err
        assert err.startswith("zoo: error: ") and message in err, (flags, err)
        assert not out.exists(), f"{flags} left {out} behind"


def test_a_cnn_on_a_table_is_refused_naming_the_recipe_kind(tmp_path, capsys):
    _table(tmp_path / "pets.csv")
    assert (
        main(["train", "cnn", "--data", str(tmp_path / "pets.csv"), "--target", "kind", "--out", str(tmp_path / "run")])
        == 2
    )
    err = capsys.readouterr().err
    assert "cnn is a cnn, which needs images" in err and "a table of shape (7,)" in err
    assert not (tmp_path / "run").exists()


def test_a_tfds_set_not_prepared_offline_says_how_to_prepare_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=r"tfds:mnist is not prepared in .*tfds build mnist"):
        load_data("tfds:mnist", download=False)


def test_an_architecture_recipe_without_data_names_the_flag():
    with pytest.raises(zoo.errors.RecipeError, match="pass --data"):
        zoo.train("tabular", epochs=1)


def test_an_offline_tfds_download_fails_fast_and_leaves_nothing(tmp_path, monkeypatch):
    import time

    import zoo.data.readers as readers

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(readers, "TFDS_HOST", ("127.0.0.1", 9))  # nothing listens there: as a machine offline
    started = time.perf_counter()
    with pytest.raises(zoo.DataError, match="this machine cannot download it"):
        zoo.load_data("tfds:mnist")
    assert time.perf_counter() - started < 30, "no retry loop when there is no network"
    assert [path for path in (tmp_path / "tfds").rglob("*") if ".tmp" in path.name or "incomplete" in path.name] == []


def test_whole_number_prices_are_regression_and_a_few_whole_number_labels_stay_classes(tmp_path):
    """A price column in whole dollars once became hundreds of classes, and the split then refused a test price
    missing from training ("y_test holds the label 129000, outside y_train's classes")."""
    rng = np.random.default_rng(0)
    area = rng.uniform(40, 200, 300)
    frame = pd.DataFrame({"area": area, "price": (3000 * area + rng.normal(0, 20000, 300)).round(-3).astype(int)})
    frame.to_csv(tmp_path / "houses.csv", index=False)
    assert zoo.load_data(tmp_path / "houses.csv", target="price").info.task == "regression"
    frame.assign(grade=frame.price // 100_000).drop(columns="price").to_csv(tmp_path / "grades.csv", index=False)
    assert zoo.load_data(tmp_path / "grades.csv", target="grade").info.task == "classification"
    # Set by hand, the task wins: whole-number prices as classes meet the split's check, which says what to do.
    with pytest.raises(zoo.DataError, match=r"outside y_train's classes .*set task = 'regression'"):
        zoo.load_data(tmp_path / "houses.csv", target="price", task="classification")


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("cp1252", "größe;farbe;klasse\n12,5;grün;a\n3,25;rot;b\n7;grün;a\n1,5;rot;b\n"),  # a German Excel's CSV
        ("utf-8-sig", "größe,farbe,klasse\n12.5,grün,a\n3.25,rot,b\n7,grün,a\n1.5,rot,b\n"),  # UTF-8 with a BOM
        ("utf-8", "größe\tfarbe\tklasse\n12.5\tgrün\ta\n3.25\trot\tb\n7\tgrün\ta\n1.5\trot\tb\n"),  # tabs
    ],
    ids=["semicolons-decimal-commas-cp1252", "utf8-bom", "tabs"],
)
def test_a_csv_reads_as_its_spreadsheet_wrote_it(tmp_path, encoding, text):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding=encoding)
    table = read_table(path, "klasse")
    assert table.numeric == ["größe"] and table.categorical == ["farbe"]
    assert table.frame["größe"].tolist() == [12.5, 3.25, 7.0, 1.5]
    assert table.frame["farbe"].tolist() == ["grün", "rot", "grün", "rot"]


def test_a_question_mark_in_a_csv_is_a_missing_value_as_the_uci_repository_writes_it(tmp_path):
    """A numeric column with a few "?" (the UCI repository's missing mark) was read as text: a category per
    number. It is a numeric column with gaps, filled and flagged inside the model."""
    lines = ["nuclei,clump,label"] + [f"{'?' if k % 7 == 0 else k % 10},{k % 5},{'ab'[k % 2]}" for k in range(40)]
    (tmp_path / "uci.csv").write_text("\n".join(lines) + "\n")
    table = read_table(tmp_path / "uci.csv", "label")
    assert table.numeric == ["nuclei", "clump"] and table.frame["nuclei"].isna().sum() == 6


def test_a_tsv_file_is_a_table_as_a_csv_is(tmp_path):
    (tmp_path / "t.tsv").write_text("size\tkind\n" + "".join(f"{k / 4}\t{'ab'[k % 2]}\n" for k in range(20)))
    splits = zoo.load_data(tmp_path / "t.tsv", target="kind")
    assert splits.info.input_shape == (1,) and splits.info.class_names == ("a", "b")


@pytest.mark.parametrize(
    "text",
    [
        ",size,kind\n0,1.5,a\n1,2.5,b\n2,0.5,a\n3,3.5,b\n",  # pandas' to_csv() with its default index=True
        '"","size","kind"\n"1",1.5,"a"\n"2",2.5,"b"\n"3",0.5,"a"\n"4",3.5,"b"\n',  # R's write.csv()
    ],
    ids=["pandas", "R"],
)
def test_a_csvs_unnamed_first_column_is_row_labels_not_a_feature(tmp_path, text):
    """pandas and R write a table's row labels as a first column with no name by default; read as a feature,
    the row number trained the net (and could carry the label, in a file sorted by it)."""
    (tmp_path / "saved.csv").write_text(text)
    table = read_table(tmp_path / "saved.csv", "kind")
    assert table.numeric == ["size"] and table.categorical == [] and list(table.frame.columns) == ["size"]
    assert "the first, unnamed column read as row labels" in table.describe()


def test_a_rare_class_whose_rows_all_fell_to_test_is_trained_on_not_refused(tmp_path):
    """The fixed-seed split put a one-row class in test 20% of the time, and the table was then refused."""
    from zoo.data.splitting import test_split

    _, test = test_split(61)  # the rows the plain split sends to test: put the rare class's one row there
    kinds = np.array(["cat", "dog"] * 30 + ["cat"], dtype=object)
    kinds[test[0]] = "axolotl"
    frame = pd.DataFrame({"weight": np.arange(61.0), "kind": kinds})
    frame.to_csv(tmp_path / "pets.csv", index=False)
    splits = zoo.load_data(tmp_path / "pets.csv", target="kind")
    assert splits.info.class_names == ("axolotl", "cat", "dog")
    assert sum(len(y) for _, y in splits.arrays.values()) == 61, "no row is lost"
    assert len(splits.arrays["test"][1]) == 11, "one row moved from test to training"


def test_a_rare_class_whose_one_training_row_fell_to_validation_is_trained_on():
    """Validation is carved from the training rows by a fixed order: it took a one-row class's only row 4 times
    in 60, and the net never saw that class. The table's encoder is fitted on the same training rows."""
    from zoo.data.splitting import test_split, validation_order

    train, _ = test_split(60)
    carved = train[validation_order(len(train))[: len(train) // 10]]  # the rows the plain order validates on
    kinds = np.array(["cat", "dog"] * 30, dtype=object)
    kinds[carved[0]] = "axolotl"
    colour = np.where(kinds == "axolotl", "pink", "grey")  # a category only the rare row holds
    splits = zoo.load_data(pd.DataFrame({"colour": colour, "kind": kinds}), target="kind")
    rare = splits.info.class_names.index("axolotl")
    assert (splits.arrays["train"][1] == rare).sum() == 1 and (splits.arrays["validation"][1] != rare).all()
    assert sum(len(y) for _, y in splits.arrays.values()) == 60 and len(splits.arrays["validation"][1]) == 4
    lookup = splits.encoder.get_layer("colour_one_hot")
    assert "pink" in lookup.get_vocabulary(), "the encoder was fitted on the training rows split() keeps"


def test_a_date_column_is_days_since_1970_not_a_category_a_date(tmp_path):
    """As text each date was its own category, and every date after the training rows' last an unseen one."""
    days = pd.date_range("2023-12-30", periods=40, freq="D")
    frame = pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "sold": np.arange(40.0)})
    frame.loc[3, "day"] = None  # a missing date is a gap, filled and flagged as any missing number
    frame.to_csv(tmp_path / "sales.csv", index=False)
    table = read_table(tmp_path / "sales.csv", "sold")
    assert (
        table.numeric == ["day"]
        and table.dates == {"day": "ISO8601"}
        and "dates as days since 1970-01-01" in table.describe()
    )
    assert table.frame["day"].iloc[2] == 19723.0 and np.isnan(table.frame["day"].iloc[3])  # 2024-01-01
    # --categorical keeps a date column as text, through the encoder too (table_columns reads dates as days)
    frame.dropna().to_csv(tmp_path / "whole.csv", index=False)
    kept = zoo.load_data(tmp_path / "whole.csv", target="sold", categorical=["day"])
    assert kept.info.dates == () and kept.info.numeric_features == 0
    # A DataFrame's datetime column, time zone and all, is days too; a text column with one non-date is text.
    zoned = read_table(frame.assign(day=days.tz_localize("Europe/Berlin"), note=["2024-01-01"] * 39 + ["soon"]), "sold")
    assert zoned.dates == {"day": "ISO8601"} and zoned.categorical == ["note"]
    assert zoned.frame["day"].iloc[2] == pytest.approx(19723.0 - 1 / 24)  # Berlin's midnight is 23:00 UTC
    assert zoo.load_data(tmp_path / "sales.csv", target="sold").info.dates == (("day", "ISO8601"),)


def test_dates_spelled_as_a_spreadsheet_writes_them_are_days_when_their_order_shows():
    """03/31/2024 or 31.03.2024 (a spreadsheet's locale) is a date where a day above 12 shows which number is the
    day; where none does (03/04/2024 is 3 April or 4 March), the column stays text rather than be guessed."""
    days = pd.date_range("2024-03-01", periods=40, freq="D")
    frame = pd.DataFrame(
        {
            "us": days.strftime("%m/%d/%Y"),
            "de": days.strftime("%d.%m.%Y %H:%M"),
            "unclear": days.strftime("%m/%d/%Y").str.replace(r"^03/(\d\d)", "03/01", regex=True),
            "short": [f"{day.month}/{day.day}/{day.year % 100}" for day in days],  # 3/1/24, as Excel writes it
            "sold": np.arange(40.0),
        }
    )
    table = read_table(frame, "sold")
    assert table.dates == {"us": "%m/%d/%Y", "de": "%d.%m.%Y %H:%M", "short": "%m/%d/%y"}
    assert table.categorical == ["unclear"]
    assert table.frame["us"].iloc[0] == table.frame["de"].iloc[0] == table.frame["short"].iloc[0] == 19783.0
    assert "us (read as 03/31/2024), de (read as 31.03.2024 08:30), short (read as 03/31/24)" in table.describe()
    assert "kept as text, no day above 12 showing which number is the day: unclear" in table.describe()
    # One value the spelling does not read, and the column is text.
    assert "us" not in read_table(frame.assign(us=[*frame.us[:-1], "13/13/2024"]), "sold").dates
