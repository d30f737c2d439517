"""Shared fixtures: small real data (scikit-learn's digits) and tiny recipes that train in seconds."""

import os
from pathlib import Path

import pytest

# Under pytest-xdist each worker is its own TensorFlow process, and TensorFlow sizes its compute pool to every
# core: two workers on two cores ran four busy threads on two cores. Each worker gets its share of the cores
# (set before any test imports TensorFlow; the subprocesses a test starts inherit it).
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(share))

import zoo
from zoo.experiments.reproducibility import RECIPE as TINY_RECIPE  # the committed run trains it too


@pytest.fixture(autouse=True)
def _xla_only_where_asked(request, monkeypatch):
    """In-process tests resolve `train.jit_compile = "auto"` to no XLA, unless marked `xla`.

    Compiling a dense net's step with XLA cost more than the short runs the tests make (a 2-epoch
    digits run: about 5.9 s with it, 2.6 s without), and about 60 tests train one: off, the suite
    spent a sixth less time. The XLA path stays tested where it is the subject: tests marked
    `xla` (the fast path, the layers and options, every recipe's build and step, the fast path's
    doctest) and every test that runs zoo in a subprocess, where "auto" is left as users get it.
    """
    if request.node.get_closest_marker("xla"):
        return
    import zoo.nets.network as network

    resolve = network.resolve_jit_compile

    def without_xla(recipe, strategy=None):
        return False if recipe.train.jit_compile == "auto" else resolve(recipe, strategy)

    monkeypatch.setattr(network, "resolve_jit_compile", without_xla)


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


def pytest_collection_modifyitems(config, items):
    """The tests marked slow run first (otherwise in file order): pytest-xdist's workers then end on
    short tests, not one waiting out the other's long one."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
