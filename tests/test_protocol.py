"""Only validation picks: the probe helper trains on data without its test split and reports validation alone."""

import json

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
