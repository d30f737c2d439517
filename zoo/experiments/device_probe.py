"""Probes on an accelerator: `zoo.experiments.probe`'s rules where zoo's own path cannot run.

The GPU machines this project is lent carry no TensorFlow (see `zoo.experiments.accelerator`), so a
choice between settings made there trains each variant as the accelerator board does: the recipe's
network from `zoo.build`, its augmentation as layers on the device, `fit` on arrays, on Keras's
backend (JAX). The rules are a probe's: the data's test split is emptied before anything trains
(`probe.without_test`), each run reports its last epoch's validation accuracy and nothing else, and
the variant validation picks must beat the recipe (the variant labelled "recipe") by more than
`MARGIN` to replace it. Each variant trains in its own process, all at once, seeds in turn.

Examples:
    >>> import zoo
    >>> row = probe_run("mlp", {"train.epochs": 1, "model.hidden": [16]}, 0,
    ...                 zoo.load_data("digits", validation_size=200))
    >>> sorted(row), 0 <= row["validation_accuracy"] <= 1
    (['train_seconds', 'validation_accuracy'], True)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

from zoo.experiments.accelerator import Entry, device_name, framework_versions, keras_train
from zoo.experiments.probe import without_test
from zoo.recipes.recipe import get_recipe
from zoo.reports.records import stamp, write_results

MARGIN = 0.001  # 5 of 5,000 validation images: a variant must beat the recipe by more to replace it


def probe_run(recipe: str, overrides: dict[str, Any], seed: int, data) -> dict[str, float]:
    """One variant, one seed: validation accuracy of the last epoch and training seconds; no test split."""
    chosen = get_recipe(recipe, **{**overrides, "train.seed": seed})
    return keras_train(Entry("keras", "probe", recipe, overrides), chosen, without_test(data), seed, "validation")


def run(
    plan: dict[str, dict[str, dict[str, Any]]],
    out_dir: str | Path,
    seeds: int = 3,
    validation_size: int = 5000,
    backend: str = "jax",
    commit: str = "",
) -> dict[str, Any]:
    """Probe every variant of `plan` (recipe -> label -> overrides; each recipe's own settings labelled
    "recipe"), each in its own process writing its runs to `out_dir`/runs/ as they finish (a machine taken
    back mid-way keeps them: `assemble` reads what is there); then results.json and report.md."""
    started = time.perf_counter()
    env = {**os.environ, "KERAS_BACKEND": backend, "XLA_PYTHON_CLIENT_PREALLOCATE": "false", "PYTHONUNBUFFERED": "1"}
    folder = Path(out_dir) / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    workers = []
    for index, (recipe, label, overrides) in enumerate(_variants(plan)):
        with (folder / f"{index:02d}.jsonl").open("w") as log:
            log.write(json.dumps({"recipe": recipe, "label": label}) + "\n")
            log.flush()
            payload = json.dumps([recipe, overrides, seeds, validation_size])
            command = [sys.executable, "-m", "zoo.experiments.device_probe", payload]
            workers.append(subprocess.Popen(command, stdout=log, env=env))
    for worker in workers:
        worker.wait()
    return assemble(plan, out_dir, seconds=time.perf_counter() - started, commit=commit)


def assemble(
    plan: dict[str, dict[str, dict[str, Any]]], out_dir: str | Path, seconds: float | None = None, commit: str = ""
) -> dict[str, Any]:
    """results.json and report.md from the runs `run` left in `out_dir`/runs/; `commit`: what they trained at."""
    runs, device = [], {}
    for path in sorted((Path(out_dir) / "runs").glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
        runs += [{**lines[0], **line} for line in lines[1:] if "seed" in line]  # the first line names the variant
        device = next((line for line in lines if "device" in line), device)
    results = {"experiment": "device_probe", "plan": plan, "runs": runs, "chosen": choose(plan, runs)}
    results.update(stamp(time.perf_counter() - (seconds or 0.0)))
    results.update(device=device.get("device"), device_versions=device.get("versions"))
    if commit:  # the machine that trained holds a copy of the tree, not its git history: the commit is passed in
        results["commit"] = commit
        results["versions"]["git"] = {"commit": commit, "passed_in": True}
    write_results(out_dir, results, report(results), echo=False)
    return results


def _variants(plan):
    return [(recipe, label, overrides) for recipe, variants in plan.items() for label, overrides in variants.items()]


def choose(plan: dict[str, dict[str, dict]], runs: list[dict]) -> dict[str, str]:
    """Per recipe, the label validation picks: the best median, if it beats "recipe" by more than MARGIN."""
    chosen = {}
    for recipe, variants in plan.items():
        medians = {
            label: median(r["validation_accuracy"] for r in runs if (r["recipe"], r["label"]) == (recipe, label))
            for label in variants
            if any((r["recipe"], r["label"]) == (recipe, label) for r in runs)
        }
        best = max(medians, key=medians.get) if medians else "recipe"
        keep = "recipe" in medians and medians[best] <= medians["recipe"] + MARGIN
        chosen[recipe] = "recipe" if keep or not medians else best
    return chosen


def report(results: dict[str, Any]) -> str:
    """report.md: per recipe and variant, the last epoch's validation accuracy per seed, its median, seconds."""
    where = f"{results.get('device', 'an unrecorded device')}, at {results.get('commit', 'an unrecorded commit')[:7]}"
    lines = [
        "# Validation probes on an accelerator",
        "",
        f"{len(results['runs'])} runs on {where}. " + __doc__.split("\n\n")[1].replace("\n", " "),
        "",
    ]
    for recipe, variants in results["plan"].items():
        lines += [
            f"## {recipe}",
            "",
            "| variant | overrides | validation (last epoch), per seed | median | seconds |",
            "|---|---|---|---|---|",
        ]
        for label, overrides in variants.items():
            mine = sorted(
                (r for r in results["runs"] if (r["recipe"], r["label"]) == (recipe, label)), key=lambda r: r["seed"]
            )
            if mine:
                scores = [r["validation_accuracy"] for r in mine]
                shown = ", ".join(f"{score:.4f}" for score in scores)
                seconds = median(r["train_seconds"] for r in mine)
                lines.append(
                    f"| {label} | `{json.dumps(overrides)}` | {shown} | {median(scores):.4f} | {seconds:.0f} |"
                )
        lines += [
            "",
            f"Validation picks: **{results['chosen'][recipe]}** (a variant must beat the recipe by more than "
            f"{MARGIN:.1%}).",
            "",
        ]
    return "\n".join(lines)


def _worker(recipe: str, overrides: dict[str, Any], seeds: int, validation_size: int) -> None:
    from zoo.data.builtin import load

    data = load(get_recipe(recipe, **overrides).dataset, validation_size)
    for seed in range(seeds):
        print(json.dumps({"seed": seed, **probe_run(recipe, overrides, seed, data)}), flush=True)
    print(json.dumps({"device": device_name("keras"), "versions": framework_versions("keras")}), flush=True)


# One variant's process, as `run` starts it: python -m zoo.experiments.device_probe '[recipe, overrides, seeds, n]'
if __name__ == "__main__":
    _worker(*json.loads(sys.argv[1]))
