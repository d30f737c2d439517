"""Only validation picks: the probe helper trains on data without its test split and reports validation alone."""

import json

import numpy as np
import pytest

import zoo
from zoo.experiments.probe import probe, report, without_test


def test_a_probe_never_sees_the_test_split_and_picks_on_validation(tiny_recipe, digits, tmp_path, monkeypatch):
    assert without_test(digits).sizes["test"] == 0 and len(without_test(digits).arrays["test"][0]) == 0
    found = probe(
        tiny_recipe,
        {"small/4 units": {"model.hidden": [4]}, "recipe": {}},  # a "/" in a label makes no nested folder
        data=digits,
        epochs=1,
        out_dir=tmp_path / "probe",
    )
    assert found["chosen"] == max(found["rows"], key=lambda label: found["rows"][label]["val_best"])
    for folder in (tmp_path / "probe").iterdir():  # no run computed a test score
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics.get("test_accuracy") is None and metrics["data"]["test_size"] == 0, folder.name
    text = report(found)
    assert "best validation" in text and "test" not in text.replace("the test split was never loaded", "")
    # Run again in the same folder (an interrupted levers sweep), it reads every finished run back.
    import zoo.tools.bench as bench  # what reads a finished run back or trains it

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(bench, "train", no_training)
    again = probe(tiny_recipe, found["variants"], data=digits, epochs=1, out_dir=tmp_path / "probe")
    assert again["rows"] == found["rows"]


def test_a_probe_refuses_a_bad_variant_before_training(tiny_recipe, digits, tmp_path):
    with pytest.raises(zoo.RecipeError, match="'hiden' is not allowed"):
        probe(tiny_recipe, {"typo": {"model.hiden": [4]}}, data=digits, out_dir=tmp_path / "probe")
    assert not (tmp_path / "probe").exists()
    with pytest.raises(zoo.RecipeError, match="at least one variant"):
        probe(tiny_recipe, {}, data=digits)


def test_a_levers_sweep_writes_one_choice_its_verdict_by_the_margin(tiny_recipe, digits, tmp_path):
    from zoo.experiments import levers

    joined = levers.run(tmp_path / "levers", (tiny_recipe,), seeds=1, epochs=1, data=digits, runs_dir=tmp_path / "runs")
    written = json.loads((tmp_path / "levers" / tiny_recipe.name / "results.json").read_text())
    # The probe's own "chosen" (highest best score, no margin) could name the other stack: it is not written.
    assert "chosen" not in written and "chosen" not in joined["recipes"][0]
    assert written["picked"] == levers.verdict(written, tiny_recipe)["picked"] in levers.STACKS


def _images(n=60, seed=0):
    """Tiny 6x6 two-class images whose class is which half of the image is bright (flip turns one into the other)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.random((n, 6, 6, 1), "float32") * 0.2
    x[y == 0, :, :3] += 0.8
    x[y == 1, :, 3:] += 0.8
    return zoo.load_data((x, y), validation_size=20, test_size=0)


def _saved(folder, net):
    folder.mkdir()
    net.save(folder / "model.keras")
    return folder


def test_averaged_scores_views_and_pairs_on_validation_only(tmp_path):
    import keras

    from zoo.experiments.averaging import averaged, report, shifted

    data = _images()
    x, y = data.arrays["validation"]
    # A net that reads the left half's brightness: right on plain images, wrong on every mirror image.
    left = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Cropping2D(((0, 0), (0, 3))),
            keras.layers.Flatten(),
            keras.layers.Dense(2, "softmax"),
        ]
    )
    left.layers[-1].set_weights([np.stack([np.ones(18), -np.ones(18)], 1), np.array([-9.0, 9.0])])  # sum - 9
    runs = [_saved(tmp_path / "a", left), _saved(tmp_path / "b", left)]
    (runs[0] / "metrics.json").write_text(json.dumps({"versions": {"git": {"commit": "abc"}}}))
    (runs[1] / "metrics.json").write_text(json.dumps({"versions": {"git": None}}))  # a wheel's run
    found = averaged(runs, data)
    assert found["trained_at"] == {"a": "abc", "b": None}
    plain = float(np.mean(np.argmax(left.predict(x, verbose=0), -1) == y))
    assert plain == 1.0 and [row["plain"] for row in found["runs"]] == [plain, plain]
    assert found["runs"][0]["flip"] < plain  # the mirror image's confident wrong answer drags the average
    assert found["pairs"] == [{"runs": ["a", "b"], "accuracy": plain}] and found["median"]["pair"] == plain
    assert "test" not in json.dumps(found) and "| **median** |" in report(found)
    assert shifted(x, 1, 0)[:, 0].max() == 0 and np.array_equal(shifted(x, 1, 0)[:, 1:], x[:, :-1])


def test_averaged_refuses_what_it_cannot_score(tmp_path):
    import keras

    from zoo.errors import DataError, ZooError
    from zoo.experiments.averaging import averaged

    with pytest.raises(ZooError, match="no model.keras"):
        averaged([tmp_path], _images())
    with pytest.raises(ZooError, match="at least one"):
        averaged([], _images())
    tables = zoo.load_data((np.zeros((40, 3), "float32"), np.arange(40) % 2), validation_size=10)
    net = _saved(tmp_path / "net", keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, "softmax")]))
    with pytest.raises(DataError, match="not images"):
        averaged([net], tables)
