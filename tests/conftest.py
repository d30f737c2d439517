"""Shared fixtures: small real data (scikit-learn's digits) and tiny recipes that train in seconds."""

from pathlib import Path

import pytest

import zoo

TINY_RECIPE = """
name        = "tiny_digits"
description = "Two small hidden layers on digits, for tests"
dataset     = "digits"
validation_size = 200

[model]
hidden = [32, 16]

[train]
batch_size = 16
epochs     = 2
# The tests train this recipe dozens of times, and XLA-compiling each run's step cost more than the
# run (a 2-epoch fit: 11.7 s with XLA, 5.2 s without). The XLA path is tested where a test asks for it.
jit_compile = "off"

[baseline]
learning_rates = [0.1, 1.0]

[bench]
seeds = 1
target_accuracy = 0.5
"""


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
