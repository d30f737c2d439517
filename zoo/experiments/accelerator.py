"""Time to accuracy on an accelerator (`zoo experiment accelerator`): zoo's networks as Keras and PyTorch programs.

The CPU leaderboard (`zoo experiment leaderboard`) times zoo's own path, which runs on TensorFlow.
The GPU machines this project is lent carry no TensorFlow, and its wheel (over 500 MB) is too large
to bring along, so this board trains the leaderboard's zoo entries the ways that do run there:

* ``keras``: the recipe's network as `zoo.build` makes it (layers, initialization, optimizer,
  schedule, weights' moving average, precision), with the recipe's augmentation as Keras layers in
  front of it on the device (`zoo.nets.augment`), fit on arrays on whatever backend Keras has
  (JAX on the GPU machine);
* ``torch``: the recipe's PyTorch twin (`zoo.experiments.torch_twin.torch_train`), the same way.

Each in float32 and, where asked, bfloat16 (Keras's "mixed_bfloat16" policy; PyTorch's autocast).
Plus keras.io's example convnet (Keras defaults, its 15 epochs) as the Keras user's baseline. Clocks
hold training only (no per-epoch validation), compilation included. Budgets are fixed in advance
(the constants below); the test set is read once per run and picks nothing. Each framework runs in
its own process (Keras fixes its backend once per process, and JAX and PyTorch would both claim the
GPU's memory), seed by seed across the entries, so a time budget that runs out leaves every entry
with the same number of seeds.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zoo.errors import RecipeError
from zoo.experiments.standings import THRESHOLDS, TINY_POOLED_LAST, keras_example_convnet, standing_rows, standings
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.reports.progress import Progress
from zoo.reports.records import git_commit, stamp, write_results
from zoo.reports.report import spread

FRAMEWORKS = ("keras", "torch")
EXAMPLE = "keras.io example convnet"


@dataclass(frozen=True)
class Entry:
    """One board entry: a framework, a zoo recipe with fixed overrides (or `EXAMPLE`), a precision."""

    framework: str
    label: str
    recipe: str = "fashion_cnn"
    overrides: dict[str, Any] = field(default_factory=dict)
    precision: str = "float32"

    def __post_init__(self):
        if self.framework not in FRAMEWORKS:
            raise RecipeError(f"framework = {self.framework!r} is not allowed; allowed: {', '.join(FRAMEWORKS)}")
        if self.precision not in ("float32", "bfloat16"):
            raise RecipeError(f"precision = {self.precision!r} is not allowed; allowed: float32, bfloat16")


def _entries() -> tuple[Entry, ...]:
    # The CPU leaderboard's zoo budgets when this board ran on the GPU (9c8bc81): fashion_cnn_tiny for 6 epochs
    # as it was then (pooled last, dropout 0.25), fashion_cnn for 5 and 12.
    tiny_then = {**TINY_POOLED_LAST, "stack.dropout": 0.25, "train.epochs": 6}
    budgets = [
        ("fashion_cnn_tiny (6 epochs)", "fashion_cnn_tiny", tiny_then),
        ("fashion_cnn (5 epochs)", "fashion_cnn", {"train.epochs": 5}),
        ("fashion_cnn (12 epochs)", "fashion_cnn", {"train.epochs": 12}),
    ]
    entries = [Entry(f, label, recipe, overrides) for f in FRAMEWORKS for label, recipe, overrides in budgets]
    entries += [
        Entry(f, "fashion_cnn (12 epochs)", overrides={"train.epochs": 12}, precision="bfloat16") for f in FRAMEWORKS
    ]
    entries.append(Entry("keras", f"{EXAMPLE}, 15 epochs", recipe=EXAMPLE, overrides={"train.epochs": 15}))
    return tuple(entries)


ENTRIES = _entries()


def contestant(entry: dict[str, Any]) -> str:
    """The board's column for an entry: framework and precision ("keras float32").

    Examples:
        >>> contestant({"framework": "torch", "precision": "bfloat16"})
        'torch bfloat16'
    """
    return f"{entry['framework']} {entry['precision']}"


def _recipe(entry: Entry, seed: int) -> Recipe:
    base = "fashion_cnn" if entry.recipe == EXAMPLE else entry.recipe  # the example trains on the same split
    overrides = {**entry.overrides, "train.seed": seed}
    if entry.framework == "keras" and entry.precision == "bfloat16":
        overrides["train.precision"] = "mixed_bfloat16"
    return get_recipe(base, **overrides)


def keras_train(entry: Entry, recipe: Recipe, splits, seed: int, score: str = "test") -> dict[str, float]:
    """Train `entry` on Keras's current backend; its accuracy on the `score` split ("test_accuracy", or
    "validation_accuracy" for a probe) and training seconds (compilation included)."""
    import keras

    from zoo.nets.augment import augmenter
    from zoo.nets.network import build

    keras.utils.set_random_seed(seed)
    x, y = splits.arrays["train"]
    shape, classes = tuple(splits.info.input_shape), splits.info.num_classes
    batch = 128 if entry.recipe == EXAMPLE else recipe.train.batch_size
    if entry.recipe == EXAMPLE:
        model = trainer = keras_example_convnet(shape, classes)
    else:
        model = build(recipe, shape, classes, steps_per_epoch=math.ceil(len(x) / batch))
        trainer = model
        words = list(recipe.regularization.augment)
        if words:  # the augmentation in front of the network, on the device; identity at inference
            layers = augmenter(words, recipe.regularization.augment_amount, seed, shape)
            trainer = keras.Sequential([keras.Input(shape), layers, model])
            trainer.compile(
                optimizer=model.optimizer,
                loss=model.loss,
                steps_per_execution=recipe.train.steps_per_execution,
                jit_compile=model.jit_compile,
            )
    started = time.perf_counter()
    trainer.fit(x, y, batch_size=batch, epochs=recipe.train.epochs, shuffle=True, verbose=0)
    seconds = time.perf_counter() - started
    scored_x, scored_y = splits.arrays[score]
    predicted = model.predict(scored_x, batch_size=1000, verbose=0).argmax(axis=-1)
    return {f"{score}_accuracy": float((predicted == scored_y).mean()), "train_seconds": seconds}


def device_name(framework: str) -> str:
    """The device a framework trains on, in words ("NVIDIA H200", "cpu")."""
    if framework == "torch":
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.devices()[0].device_kind
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "cpu"
    return keras.backend.backend()


def worker(framework: str, entries: list[Entry], seeds: range, budget_s: float | None) -> None:
    """Train `entries` (all of one framework) seed by seed, one JSON line per run on stdout.

    Stops starting runs once `budget_s` seconds have passed; the last line names the device and versions.
    """
    from zoo.data.builtin import load

    started, loaded = time.perf_counter(), {}
    for seed in seeds:
        for entry in entries:
            if budget_s is not None and time.perf_counter() - started > budget_s:
                break
            recipe = _recipe(entry, seed)
            key = (recipe.dataset, recipe.validation_size)  # read each split once: Fashion-MNIST's files take 3 s
            splits = loaded[key] = loaded.get(key) or load(*key)
            if framework == "torch":
                from zoo.experiments.torch_twin import torch_train

                result = torch_train(recipe, splits, seed, precision=entry.precision)
            else:
                result = keras_train(entry, recipe, splits, seed)
            print(json.dumps({"run": {**asdict(entry), "seed": seed, **result}}), flush=True)
    print(json.dumps({"device": device_name(framework), "versions": framework_versions(framework)}), flush=True)


def framework_versions(framework: str) -> dict[str, str]:
    if framework == "torch":
        import torch

        return {"torch": torch.__version__, "cuda": str(torch.version.cuda)}
    import keras

    backend = keras.backend.backend()
    return {"keras": keras.__version__, "backend": backend, backend: sys.modules[backend].__version__}


def _spawn(framework: str, entries: list[Entry], seeds: range, budget_s: float | None, backend: str):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    if framework == "keras":
        env["KERAS_BACKEND"] = backend
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"  # JAX takes GPU memory as it needs it, not 75% at once
    payload = json.dumps(
        {"entries": [asdict(e) for e in entries], "seeds": [seeds.start, seeds.stop], "budget_s": budget_s}
    )
    command = [sys.executable, "-m", "zoo.experiments.accelerator", framework, payload]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)


def available(framework: str, backend: str) -> str | None:
    """None when `framework` (for keras: its `backend`) can be imported here, else why not.

    Examples:
        >>> available("keras", "no_such_backend")
        'Keras backend no_such_backend is not installed'
    """
    module = "torch" if framework == "torch" else backend
    if importlib.util.find_spec(module) is None:
        return f"{'PyTorch' if module == 'torch' else f'Keras backend {module}'} is not installed"
    return None


def run(
    out_dir: str | Path = Path("benchmarks/results/accelerator"),
    entries: tuple[Entry, ...] = ENTRIES,
    seeds: int = 3,
    budget_s: float | None = None,
    backend: str | None = None,
    commit: str | None = None,
    first_seed: int = 0,
) -> dict[str, Any]:
    """Train every entry for `seeds` seeds, framework by framework; write results.json and report.md.

    `budget_s`: seconds each framework may start runs for (None: no limit). `backend`: Keras's backend
    for the keras entries (default: jax where it is installed, else tensorflow). `commit`: the commit the
    tree was copied from, recorded when the tree has no .git (the accelerator machine gets a bare copy).
    Results are written after every run, so a run cut short keeps what finished. With `first_seed` > 0
    the board continues the one in `out_dir`: its runs of the lower seeds are kept, seeds `first_seed`
    to `seeds` - 1 are trained and added (the commit then applies to the new runs; each run records its own).
    """
    backend = backend or ("jax" if importlib.util.find_spec("jax") else "tensorflow")
    if "keras" not in sys.modules:  # this process imports Keras for its records only: give it the workers' backend
        os.environ.setdefault("KERAS_BACKEND", backend)
    started = time.perf_counter()
    results: dict[str, Any] = {"experiment": "accelerator", "thresholds": list(THRESHOLDS), "runs": [], "skipped": {}}
    results["devices"], results["framework_versions"] = {}, {}
    if first_seed:
        kept = json.loads((Path(out_dir) / "results.json").read_text())
        results["runs"] = [r for r in kept["runs"] if r["seed"] < first_seed]
        results["earlier_seconds"] = kept["seconds"]  # the board's seconds count every sitting
    with Progress(len(entries) * (seeds - first_seed), "accelerator") as progress:
        for framework in FRAMEWORKS:
            chosen = [entry for entry in entries if entry.framework == framework]
            why = available(framework, backend) if chosen else None
            if why:
                results["skipped"][framework] = why
                continue
            process = _spawn(framework, chosen, range(first_seed, seeds), budget_s, backend) if chosen else None
            for line in process.stdout if process else ():
                record = json.loads(line)
                if "run" not in record:
                    results["devices"][framework] = record["device"]
                    results["framework_versions"][framework] = record["versions"]
                    continue
                run_ = {**record["run"], "commit": commit or (git_commit() or {}).get("commit")}
                results["runs"].append(run_)
                progress.done(
                    f"{framework} {run_['precision']}: {run_['label']}, seed {run_['seed']}: test "
                    f"{run_['test_accuracy']:.4f} in {run_['train_seconds']:.1f} s"
                )
                _write(out_dir, results, started, commit, echo=False)
            if process and process.wait() != 0:
                raise RuntimeError(f"the {framework} runs failed (exit {process.returncode}); their error is above")
    return _write(out_dir, results, started, commit, echo=True)


def _write(out_dir, results: dict[str, Any], started: float, commit: str | None, echo: bool):
    summary = []
    for label, framework, precision in dict.fromkeys(
        (r["label"], r["framework"], r["precision"]) for r in results["runs"]
    ):
        runs = [
            r for r in results["runs"] if (r["label"], r["framework"], r["precision"]) == (label, framework, precision)
        ]
        accuracy = spread([r["test_accuracy"] for r in runs])
        entry = {"framework": framework, "precision": precision, "label": label, "seeds": len(runs)}
        entry["contestant"] = "keras.io example" if label.startswith(EXAMPLE) else contestant(entry)
        entry |= {"accuracy": accuracy["median"], "low": accuracy["min"], "high": accuracy["max"]}
        entry["seconds"] = spread([r["train_seconds"] for r in runs])["median"]
        summary.append(entry)
    results = {**results, "entries": summary, "standings": standings(summary, results["thresholds"]), **stamp(started)}
    if commit:  # the caller's word wins: a copied tree may hold no .git, or a stale one
        results["versions"]["git"] = {"commit": commit, "uncommitted_changes": False, "from": "--commit"}
    results["seconds"] = round(results["seconds"] + results.get("earlier_seconds", 0.0), 1)
    write_results(out_dir, results, _report(results), echo=echo)
    return results


def _report(results: dict[str, Any]) -> str:
    contestants = list(dict.fromkeys(entry["contestant"] for entry in results["entries"]))
    devices = ", ".join(f"{framework}: {device}" for framework, device in results["devices"].items()) or "not known yet"
    lines = [
        "# Time to accuracy on an accelerator: Fashion-MNIST",
        "",
        f"Devices: {devices}. zoo's networks and budgets from the CPU leaderboard, trained as Keras programs "
        "(`zoo.build`, the recipe's augmentation as layers on the device, `fit` on arrays) and as PyTorch twins, in "
        "float32 and bfloat16; keras.io's example convnet as the Keras user's baseline. Seconds of training "
        "(compilation included, no per-epoch validation) until the median test accuracy over seeds clears each "
        "threshold. Budgets are fixed in advance (docs/protocol.md); the test set is read once per run and picks "
        "nothing.",
        "",
    ]
    lines += standing_rows(results["standings"], contestants, decimals=1)
    lines += [
        "",
        "Every entry (median, min-max over seeds):",
        "",
        "| framework | precision | entry | seeds | test accuracy | train time |",
        "|---|---|---|---|---|---|",
    ]
    for e in results["entries"]:
        lines.append(
            f"| {e['framework']} | {e['precision']} | {e['label']} | {e['seeds']} | {e['accuracy']:.4f} "
            f"({e['low']:.4f}-{e['high']:.4f}) | {e['seconds']:.1f} s |"
        )
    for framework, why in results["skipped"].items():
        lines.append(f"\n{framework}: not run ({why}).")
    versions = "; ".join(
        ", ".join(f"{name} {version}" for name, version in v.items()) for v in results["framework_versions"].values()
    )
    lines += ["", f"Regenerate: `zoo experiment accelerator` ({results['seconds']:.0f} s; {versions}).", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # the worker process `_spawn` starts: python -m zoo.experiments.accelerator FRAMEWORK JSON
    _payload = json.loads(sys.argv[2])
    worker(sys.argv[1], [Entry(**e) for e in _payload["entries"]], range(*_payload["seeds"]), _payload["budget_s"])
