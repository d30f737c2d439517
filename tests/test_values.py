"""Odd labels and values are caught before training, with the column or array named (issue: nothing lost)."""

import numpy as np
import pandas as pd
import pytest

import zoo


def _x(count=60, features=3):
    return np.random.default_rng(0).normal(size=(count, features)).astype("float32")


def test_labels_are_mapped_to_their_distinct_values_and_the_mapping_recorded():
    y = np.where(np.arange(60) % 2, 1_000_000, 0)
    splits = zoo.load_data((_x(), y))
    assert splits.info.num_classes == 2, "two labels are two classes, not a 1,000,001-way softmax"
    assert splits.info.class_names == ("0", "1000000")
    assert set(splits.arrays["train"][1].tolist()) == {0, 1}
    text = zoo.load_data((_x(), np.where(np.arange(60) % 3, "cat", "dog")))
    assert text.info.class_names == ("cat", "dog")


@pytest.mark.parametrize(
    "y, task, message",
    [
        (np.full(60, 3), "auto", r"y_train holds one class only \(3\); a classifier needs at least two"),
        (np.full(60, 2.5), "regression", "the target holds one value only; there is nothing to predict"),
        (np.where(np.arange(60) % 2, np.inf, 1.0), "classification", r"y_train holds \d+ infinite or NaN values"),
    ],
)
def test_a_target_with_nothing_to_learn_is_refused(y, task, message):
    with pytest.raises(zoo.DataError, match=message):
        zoo.load_data((_x(), y), task=task)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan, 1e38, -1e38])
def test_non_finite_or_absurd_features_are_refused_before_training(bad, tmp_path):
    x = _x()
    x[5, 1] = bad
    with pytest.raises(zoo.DataError, match=r"arrays: x_(train|test) holds"):
        zoo.load_data((x, np.arange(60) % 2))
    np.savez(tmp_path / "a.npz", x_train=x, y_train=np.arange(60) % 2)
    with pytest.raises(zoo.DataError, match=r"a.npz: x_(train|test) holds"):
        zoo.load_data(tmp_path / "a.npz")
    frame = pd.DataFrame({"size": x[:, 1].astype("float64"), "label": np.arange(60) % 2})
    if np.isnan(bad):  # a table's gap is a missing value: the encoder fills it in (test_sources)
        assert zoo.load_data(frame, target="label").sizes["train"] > 0
        return
    with pytest.raises(zoo.DataError, match=r"numeric column 'size' holds"):
        zoo.load_data(frame, target="label")


def test_duplicate_column_names_are_refused(tmp_path):
    (tmp_path / "dup.csv").write_text("a,a,label\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(30)))
    with pytest.raises(zoo.DataError, match=r"dup.csv has more than one column named 'a'; rename them apart"):
        zoo.load_data(tmp_path / "dup.csv", target="label")


def test_a_truncated_or_enormous_image_is_named(tmp_path):
    from PIL import Image

    for name in ("a", "b"):
        (tmp_path / "folder" / name).mkdir(parents=True)
        for index in range(3):
            Image.new("L", (8, 8), color=index * 40).save(tmp_path / "folder" / name / f"{index}.png")
    good = (tmp_path / "folder" / "a" / "0.png").read_bytes()
    (tmp_path / "folder" / "a" / "0.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(zoo.DataError, match=r"0.png is not a readable image"):
        zoo.load_data(tmp_path / "folder")
    (tmp_path / "folder" / "a" / "0.png").write_bytes(good)
    Image.MAX_IMAGE_PIXELS, limit = 20, Image.MAX_IMAGE_PIXELS  # an 8x8 image now counts as a bomb
    try:
        with pytest.raises(zoo.DataError, match="is too large to read safely"):
            zoo.load_data(tmp_path / "folder")
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def test_a_read_only_run_folder_is_one_line(tiny_recipe, tmp_path):
    import os

    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        with pytest.raises(zoo.RunError, match="cannot write the run folder"):
            zoo.train(tiny_recipe, out_dir=folder / "run", verbose=0)
    finally:
        folder.chmod(0o700)


def test_inf_in_a_tables_target_or_column_is_named(tmp_path):
    rows = "".join(f"{i},{i % 2}\n" for i in range(1, 10))
    (tmp_path / "target.csv").write_text("a,label\n" + rows + "10,inf\n")
    with pytest.raises(zoo.DataError, match=r"target.csv: y_(train|test) holds 1 infinite or NaN values"):
        zoo.load_data(tmp_path / "target.csv", target="label")
    (tmp_path / "column.csv").write_text("a,label\n" + rows + "inf,1\n")
    with pytest.raises(zoo.DataError, match=r"column.csv: numeric column 'a' holds 1 infinite or NaN values"):
        zoo.load_data(tmp_path / "column.csv", target="label")
