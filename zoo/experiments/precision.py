"""bfloat16 against float32 on zoo's training path, on this CPU (`zoo experiment precision`).

Mixed bfloat16 (`train.precision = "mixed_bfloat16"`: weights in float32, the layers' arithmetic in
bfloat16) halves the bytes every conv moves, and CPUs with AVX512_BF16 (AMD Zen 4, Intel Cooper Lake and
later) multiply bfloat16 pairs at twice float32's rate; on a CPU without it oneDNN converts and computes in
float32, and bfloat16 can only cost. So the answer depends on the machine: the report names the CPU's
bfloat16 features next to the numbers.

For each recipe both precisions build zoo's network and train zoo's pass (`twins.keras_epoch(..., "zoo")`):
one warm-up pass each, then `rounds` timed passes, alternating, so a slow spell of a shared machine hits
both alike; the median examples per second is reported. A pass is what `zoo experiment speed` times: an
epoch of 55,000 examples, or 4,096 for nets over `speed.HEAVY` training FLOPs an example. The weights'
moving average is off in both, as in the speed experiment. This measures speed only: whether a recipe's
accuracy holds in bfloat16 is a validation question (`zoo.experiments.probe`), not this module's.

Examples:
    (Not run by the doctests: it times minutes of training.)
    >>> found = run(recipes=("fashion_cnn_tiny",), rounds=3)                                 # doctest: +SKIP
    >>> found["recipes"][0]["bf16_vs_float32"] > 0                                           # doctest: +SKIP
    True
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from zoo.experiments import twins
from zoo.experiments.speed import HEAVY
from zoo.nets.network import build
from zoo.nets.precision import cpu_bf16_features
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.reports.records import stamp, write_results

PRECISIONS = ("float32", "mixed_bfloat16")
RECIPES = ("fashion_cnn_tiny", "fashion_cnn", "fashion_resnet")


def measure(recipe: Recipe, rounds: int, examples: int, say=print) -> dict[str, Any]:
    """One recipe's alternating rounds: median examples per second in each precision, and their ratio."""
    variants = {precision: get_recipe(recipe, **{"train.precision": precision}) for precision in PRECISIONS}
    x, y = twins.training_arrays(recipe, examples)
    epochs = {}
    for precision, variant in variants.items():
        epochs[precision] = twins.keras_epoch(variant, "zoo", x, y)
        epochs[precision]()  # warm-up: tracing, caches
    rates = twins.alternate(epochs, examples, rounds, recipe.name, say)
    medians = {precision: statistics.median(values) for precision, values in rates.items()}
    return {
        "recipe": recipe.name,
        "examples_per_timing": examples,
        "examples_per_second": rates,
        "median_examples_per_second": medians,
        "bf16_vs_float32": medians["mixed_bfloat16"] / medians["float32"],
    }


def run(
    out_dir: str | Path = Path("benchmarks/results/precision"),
    recipes: tuple[str | Recipe, ...] = RECIPES,
    rounds: int = 5,
    examples: int = 55_000,
    heavy_examples: int = 4096,
) -> dict[str, Any]:
    """Time both precisions on each of `recipes`; write results.json and report.md to `out_dir`."""
    started = time.perf_counter()
    say = lambda text: print(f"[{time.perf_counter() - started:5.0f} s] {text}", flush=True)
    chosen = [get_recipe(name, **{"train.ema": False}) for name in recipes]  # a bad name fails before any timing
    rows = []
    for recipe in chosen:
        heavy = twins.training_flops_per_example(build(recipe)) > HEAVY
        rows.append(measure(recipe, rounds, heavy_examples if heavy else examples, say))
    results = {"experiment": "precision", "rounds": rounds, "cpu_bf16": cpu_bf16_features(), "recipes": rows}
    results.update(stamp(started))
    write_results(out_dir, results, _report(results), echo=False)
    return results


def _report(results: dict[str, Any]) -> str:
    features = ", ".join(results["cpu_bf16"]) or "none named in /proc/cpuinfo"
    lines = [
        "# bfloat16 against float32 on zoo's training path (this CPU)",
        "",
        f"Training examples per second, median of {results['rounds']} alternating rounds after one warm-up pass "
        "each, in one process: zoo's network and pass (`zoo.build`, zoo's pipeline, `fit`) with "
        "`train.precision` float32 and mixed_bfloat16, the weights' moving average off. The CPU's bfloat16 "
        f"instructions: {features}. Speed only: whether a recipe's accuracy holds in bfloat16 is read on "
        "validation before any recipe takes it.",
        "",
        "| recipe | examples a pass | float32 | mixed_bfloat16 | bfloat16 / float32 |",
        "|---|---|---|---|---|",
    ]
    for row in results["recipes"]:
        medians = row["median_examples_per_second"]
        lines.append(
            f"| {row['recipe']} | {row['examples_per_timing']:,} | {medians['float32']:,.0f} | "
            f"{medians['mixed_bfloat16']:,.0f} | {row['bf16_vs_float32']:.2f}x |"
        )
    lines += ["", f"Regenerate: `zoo experiment precision` ({results['seconds']:.0f} s on this run's machine).", ""]
    return "\n".join(lines)
