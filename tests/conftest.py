"""Shared fixtures: small real data (scikit-learn's digits) and tiny recipes that train in seconds."""

from collections import Counter
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


def pytest_collection_modifyitems(items):
    # The modules with the most slow tests first: with two xdist workers stealing work, a long test that starts last
    # keeps one worker busy while the other idles; started first, the short tests fill in around it. Whole
    # modules move, in their own order, so a module's shared fixtures are still made once.
    slow = Counter(item.module.__name__ for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.module.__name__])  # the most slow tests first
