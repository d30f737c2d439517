"""Presets: a run as a folder (model.keras, card.json, README.md) that loads with zoo or plain Keras."""

import numpy as np
import pytest
import yaml

import zoo
from zoo.cli.main import main


@pytest.mark.slow
def test_a_preset_round_trips_and_its_readme_carries_the_model_card(tiny_recipe, digits, tmp_path, capsys):
    result = zoo.train(zoo.get_recipe(tiny_recipe, epochs=1), data=digits, out_dir=tmp_path / "run", verbose=0)
    assert main(["save-preset", str(tmp_path / "run"), str(tmp_path / "preset"), "--name", "digits_small"]) == 0
    assert sorted(p.name for p in (tmp_path / "preset").iterdir()) == ["README.md", "card.json", "model.keras"]
    x = digits.arrays["test"][0][:20]
    np.testing.assert_allclose(
        zoo.from_preset(tmp_path / "preset").predict(x, verbose=0), result.model.predict(x, verbose=0), atol=1e-5
    )
    readme = (tmp_path / "preset" / "README.md").read_text()
    meta = yaml.safe_load(readme.split("---")[1])
    assert meta["library_name"] == "keras" and meta["license"] == "apache-2.0" and meta["metrics"] == ["accuracy"]
    assert meta["datasets"] == ["digits"] and meta["zoo"]["classes"] == [str(k) for k in range(10)]
    assert meta["zoo"]["input"] == "8x8x1 images, values 0-1" and "# digits_small" in readme
    assert "## Intended use and limits" in readme
    # A second save into the same folder, and a folder that is not a preset, are one line each.
    capsys.readouterr()
    assert main(["save-preset", str(tmp_path / "run"), str(tmp_path / "preset")]) == 2
    assert "already exists; name a new folder for the preset" in capsys.readouterr().err
    with pytest.raises(zoo.DataError, match="is not a preset folder: it lacks card.json, README.md"):
        zoo.from_preset(tmp_path / "run")
