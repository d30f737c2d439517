"""One cheap committed run that the test suite trains again: does zoo reproduce its own numbers?

The tests' tiny digits recipe (`RECIPE`: two small hidden layers on scikit-learn's digits, 2 epochs,
seed 0) trains once here, and its per-epoch metrics, test accuracy, library versions and CPU go to
benchmarks/results/reproducibility/. `tests/test_train.py::test_a_seed_reproduces_in_a_fresh_process`
trains the same recipe and compares: to float32 rounding (relative 1e-6) where the library versions
and the CPU's instruction sets are the ones recorded, and within `LOOSE` where they are not (other
kernels round differently; the check then says which of them differs).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from zoo.reports.records import stamp, write_results

# The tests' tiny recipe (tests/conftest.py reads it from here, so the committed run and the tests agree).
RECIPE = """
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
KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
# The versions a reproduction must share with the committed run, and whether oneDNN ran the CPU ops (its kernels
# round otherwise).
LIBRARIES = ("tensorflow", "keras", "numpy", "onednn")
LOOSE = 2e-3  # relative, on other library versions or another CPU


def cpu() -> dict[str, Any]:
    """The CPU's model name and the instruction sets TensorFlow's kernels choose between (Linux; {} elsewhere).

    Examples:
        >>> sorted(cpu()) in ([], ["isa", "model"])
        True
    """
    path = Path("/proc/cpuinfo")
    if not path.is_file():
        return {}
    fields = dict(line.split(":", 1) for line in path.read_text().splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    wanted = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")
    flags = set(fields.get("flags", "").split())
    return {"model": fields.get("model name", ""), "isa": [flag for flag in wanted if flag in flags]}


def differing_libraries(recorded: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The LIBRARIES whose version here differs from `recorded` (a results file's "versions"): name -> (then, now).

    Examples:
        >>> from zoo.reports.records import versions
        >>> differing_libraries(versions()), differing_libraries({**versions(), "numpy": "0.1"})["numpy"][0]
        ({}, '0.1')
    """
    from zoo.reports.records import versions

    now = versions()
    return {name: (recorded.get(name), now[name]) for name in LIBRARIES if recorded.get(name) != now[name]}


def measured(result) -> dict[str, Any]:
    """What is compared: the per-epoch metrics and the test accuracy of a `zoo.train` result."""
    return {"history": {key: result.history[key] for key in KEYS}, "test_accuracy": result.test["accuracy"]}


def run(out_dir: str | Path = Path("benchmarks/results/reproducibility")) -> dict[str, Any]:
    """Train RECIPE once and write what the test compares against."""
    from zoo.training.trainer import train

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zoo-repro-") as folder:
        recipe = Path(folder) / "tiny_digits.toml"
        recipe.write_text(RECIPE)
        result = train(recipe, out_dir=Path(folder) / "run", verbose=0)
    results = {"recipe": RECIPE, **measured(result), "cpu": cpu(), **stamp(started)}
    report = (
        "# Reproducibility: the committed run the tests train again\n\n"
        f"tiny_digits, 2 epochs, seed 0: test accuracy {results['test_accuracy']:.4f}; per-epoch loss "
        + ", ".join(f"{v:.6f}" for v in results["history"]["loss"])
        + f".\n\nTensorFlow {results['versions']['tensorflow']}, Keras {results['versions']['keras']}, "
        f"NumPy {results['versions']['numpy']}; CPU {results['cpu'].get('model', '?')}.\n\n"
        "Checked by `tests/test_train.py::test_a_seed_reproduces_in_a_fresh_process`. "
        "Regenerate: `zoo experiment reproducibility`.\n"
    )
    write_results(out_dir, results, report)
    return results
