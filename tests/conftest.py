"""Shared fixtures: small real data (scikit-learn's digits) and tiny recipes that train in seconds."""

from pathlib import Path

import pytest

import zoo
from zoo.experiments.reproducibility import RECIPE as TINY_RECIPE  # the committed run trains it too


@pytest.fixture(scope="session")
def digits():
    """Digits split 1237 / 200 / 360 (the tiny recipe batches them by 16)."""
    return zoo.load_data("digits", validation_size=200)


@pytest.fixture
def tiny_recipe_file(tmp_path) -> Path:
    path = tmp_path / "tiny_digits.toml"
    path.write_text(TINY_RECIPE)
    return path


@pytest.fixture
def tiny_recipe(tiny_recipe_file):
    return zoo.get_recipe(tiny_recipe_file)
