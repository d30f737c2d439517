"""Training speed per tf.distribute configuration on this machine, for one small recipe.

Each configuration is `zoo train` (or `zoo launch`) in its own process, as a user runs it: the tests'
tiny digits recipe (1,237 training images, hidden layers of 32 and 16, batch 16), 5 epochs, early
stopping off, `rounds` times in turn; the report gives each configuration's median training seconds
(metrics.json's `train_seconds`: the fit alone, no start-up), images per second and test accuracy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from zoo.experiments.reproducibility import RECIPE
from zoo.reports.records import stamp, write_results

EPOCHS = 5
# name -> (what the row says, the zoo command line before the common flags)
CONFIGURATIONS: dict[str, tuple[str, list[str]]] = {
    "none": ("no strategy (zoo's path)", ["train"]),
    "none_plain_fit": ("no strategy, plain `fit`", ["train", "--set", "train.fast_path=false"]),
    "mirrored_1": ("mirrored, 1 CPU device", ["train", "--distribute", "mirrored", "--devices", "1"]),
    "mirrored_2": ("mirrored, 2 logical CPU devices", ["train", "--distribute", "mirrored", "--devices", "2"]),
    "workers_2": ("2 workers on 127.0.0.1 (`zoo launch`)", ["launch", "--workers", "2", "--port", "24460", "train"]),
}


def _one(name: str, recipe: Path, out: Path) -> dict[str, Any]:
    command = CONFIGURATIONS[name][1]
    argv = [*command, str(recipe), "--epochs", str(EPOCHS), "--set", "train.early_stopping_patience=0"]
    done = subprocess.run(
        [sys.executable, "-m", "zoo", *argv, "--out", str(out)], capture_output=True, text=True, timeout=900
    )
    if done.returncode:
        raise RuntimeError(f"{name}: exit {done.returncode}: {done.stderr[-2000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    images = metrics["data"]["train_size"] * metrics["epochs_run"]
    return {
        "seconds": metrics["train_seconds"],
        "images_per_second": images / metrics["train_seconds"],
        "test_accuracy": metrics["test_accuracy"],
    }


def run(out_dir: str | Path = Path("benchmarks/results/distribute"), rounds: int = 3) -> dict[str, Any]:
    """Every configuration `rounds` times, in turn (so a burst of load spreads over all of them)."""
    started = time.perf_counter()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in CONFIGURATIONS}
    with tempfile.TemporaryDirectory(prefix="zoo-distribute-") as folder:
        recipe = Path(folder) / "tiny_digits.toml"
        recipe.write_text(RECIPE)
        for round_index in range(rounds):
            for name in CONFIGURATIONS:
                runs[name].append(_one(name, recipe, Path(folder) / f"{name}-{round_index}"))
                print(f"[{time.perf_counter() - started:5.0f} s] {name} round {round_index + 1}: {runs[name][-1]}")
    rows = {
        name: {key: median(r[key] for r in results) for key in ("seconds", "images_per_second", "test_accuracy")}
        for name, results in runs.items()
    }
    results = {"experiment": "distribute", "epochs": EPOCHS, "rounds": rounds, "rows": rows, "runs": runs}
    results.update(stamp(started))
    lines = [
        "# tf.distribute configurations on this machine",
        "",
        f"The tests' tiny digits recipe, {EPOCHS} epochs, each configuration in its own process, median of "
        f"{rounds} rounds. Regenerate: `zoo experiment distribute`.",
        "",
        "| configuration | training seconds | images/s | test accuracy |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {CONFIGURATIONS[name][0]} | {row['seconds']:.1f} | {row['images_per_second']:,.0f} | "
        f"{row['test_accuracy']:.4f} |"
        for name, row in rows.items()
    ]
    write_results(out_dir, results, "\n".join(lines) + "\n")
    return results
