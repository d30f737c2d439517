"""Every docstring example in zoo runs, against zoo as installed (examples that cannot run here say why)."""

import doctest
import importlib
import pkgutil

import pytest

import zoo

MODULES = ["zoo"] + [
    info.name for info in pkgutil.walk_packages(zoo.__path__, "zoo.") if not info.name.endswith("__main__")
]
# Their examples train a net for seconds (pretraining, a learning-rate sweep, the fast path's fit, probes, estimators).
TRAINING_EXAMPLES = (
    "zoo.training.pretrain",
    "zoo.tools.lrfind",
    "zoo.training.fastpath",
    "zoo.experiments.device_probe",
    "zoo.experiments.probe",
    "zoo.tools.estimators",
)
# Their examples show what "auto" resolves to: XLA as users get it (conftest turns it off elsewhere).
XLA_EXAMPLES = ("zoo.training.fastpath", "zoo.nets.network")


def _marks(name: str) -> list:
    return [pytest.mark.slow] * (name in TRAINING_EXAMPLES) + [pytest.mark.xla] * (name in XLA_EXAMPLES)


@pytest.mark.parametrize("name", [pytest.param(name, marks=_marks(name)) for name in MODULES])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} docstring examples in {name} failed (printed above)"
    )


def test_skipped_examples_say_why():
    for name in MODULES:
        source = importlib.import_module(name).__file__
        lines = open(source).read().splitlines()
        for number, line in enumerate(lines):
            if "# doctest: +SKIP" in line and "# doctest: +SKIP" not in lines[number - 1]:
                assert "Not run by the doctests" in lines[number - 1], f"{source}:{number + 1} skips without a reason"
