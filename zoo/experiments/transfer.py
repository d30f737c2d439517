"""Transfer learning with few labels: reuse a net trained on 8 Fashion-MNIST classes for the other 2."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import keras

from zoo.data.builtin import load, select_classes
from zoo.hub.reuse import fine_tune
from zoo.recipes.recipe import get_recipe
from zoo.reports.records import run_folder, stamp, write_results
from zoo.reports.report import spread
from zoo.training.trainer import train


def run(
    out_dir: str | Path = Path("benchmarks/results/transfer"),
    runs_dir: str | Path | None = None,
    held_out: tuple[int, int] = (5, 6),
    train_size: int = 200,
    seeds: int = 5,
    source_epochs: int = 10,
    epochs: int = 20,
) -> dict[str, Any]:
    """Model A on 8 Fashion-MNIST classes; task B = the 2 held-out classes from only 200 images.

    B is trained from scratch (the fashion_mlp recipe) and by reusing A (new head on A's frozen
    body, then the whole net at a 10x lower rate), for every seed; test accuracy on B's test set.
    """
    out_dir = Path(out_dir)
    runs_dir = Path(runs_dir) if runs_dir else run_folder("transfer", "runs/experiments")
    started = time.perf_counter()
    recipe = get_recipe("fashion_mlp", epochs=source_epochs)
    data = load("fashion_mnist")
    keep = [c for c in range(10) if c not in held_out]
    source_data = select_classes(data, keep)
    source = train(
        get_recipe(recipe, name="fashion_mlp_8_classes"), data=source_data, out_dir=runs_dir / "source-A", verbose=0
    )
    print(
        f"[{time.perf_counter() - started:6.0f} s] A: test accuracy {source.test['accuracy']:.4f} on its 8 classes",
        flush=True,
    )
    rows = []
    for seed in range(seeds):
        task = select_classes(data, list(held_out), train_size=train_size, seed=seed)
        rows.append(_task_b(recipe, source.model, task, seed, epochs, runs_dir))
        print(
            f"[{time.perf_counter() - started:6.0f} s] seed {seed}: scratch {rows[-1]['scratch_test_accuracy']:.4f}, "
            f"reusing A {rows[-1]['reused_test_accuracy']:.4f}",
            flush=True,
        )
    summary = {key: spread([row[key] for row in rows]) for key in ("scratch_test_accuracy", "reused_test_accuracy")}
    names = [data.info.class_names[c] for c in held_out]
    results = {
        "experiment": "transfer",
        "held_out_classes": list(held_out),
        "held_out_names": names,
        "train_size": train_size,
        "source_test_accuracy": source.test["accuracy"],
        "source_epochs": source_epochs,
        "epochs": epochs,
        "runs": rows,
        "summary": summary,
        **stamp(started),
    }
    write_results(out_dir, results, _report(results))
    return results


def _task_b(recipe, source, task, seed: int, epochs: int, runs_dir: Path) -> dict[str, Any]:
    """Task B for one seed, from scratch and by reusing A: the two test accuracies."""
    from_scratch = get_recipe(
        recipe, name="task_b_scratch", epochs=epochs, seed=seed, early_stopping_patience=0, steps_per_execution=1
    )
    scratch = train(from_scratch, data=task, out_dir=runs_dir / f"scratch-seed{seed}", verbose=0)
    keras.utils.set_random_seed(seed)
    batch_size = recipe.train.batch_size
    reused, _ = fine_tune(
        source, task, head_epochs=epochs // 2, tune_epochs=epochs - epochs // 2, batch_size=batch_size, seed=seed
    )
    tested = reused.evaluate(*task.arrays["test"], batch_size=batch_size, verbose=0, return_dict=True)
    return {"seed": seed, "scratch_test_accuracy": scratch.test["accuracy"], "reused_test_accuracy": tested["accuracy"]}


def _report(results: dict[str, Any]) -> str:
    summary, rows, names = results["summary"], results["runs"], results["held_out_names"]
    train_size, epochs, seeds = results["train_size"], results["epochs"], len(results["runs"])
    source_epochs, source_accuracy = results["source_epochs"], results["source_test_accuracy"]
    error = {key: 1 - summary[key]["mean"] for key in summary}
    ratio = (
        error["scratch_test_accuracy"] / error["reused_test_accuracy"]
        if error["reused_test_accuracy"]
        else float("inf")
    )
    return "\n".join(
        [
            f"# Transfer learning with {train_size} labelled images (Fashion-MNIST)",
            "",
            f"Model A: the fashion_mlp recipe trained for {source_epochs} epochs on the 8 classes other than "
            f"{names[0]} and {names[1]} (test accuracy {source_accuracy:.4f} on those 8).",
            f"Task B: {names[0]} vs {names[1]}, {train_size} training images (a different draw per seed), "
            "the full validation and test images of the two classes.",
            f"From scratch: the fashion_mlp recipe, {epochs} epochs. Reusing A: A's body frozen under a new 2-way "
            "head for "
            f"{epochs // 2} epochs, then everything trained {epochs - epochs // 2} more epochs at a 10x lower rate "
            "(1e-4).",
            "",
            "| B trained | test accuracy, mean +- std over " + str(seeds) + " seeds | min | max |",
            "|---|---|---|---|",
            *(
                f"| {label} | {summary[key]['mean']:.4f} +- {summary[key]['std']:.4f} | {summary[key]['min']:.4f} | "
                f"{summary[key]['max']:.4f} |"
                for label, key in (("from scratch", "scratch_test_accuracy"), ("reusing A", "reused_test_accuracy"))
            ),
            "",
            f"Test error: {error['scratch_test_accuracy']:.2%} from scratch vs {error['reused_test_accuracy']:.2%} "
            "reusing A, "
            f"a ratio of {ratio:.2f}. Per seed: "
            + "; ".join(
                f"{r['seed']}: {r['scratch_test_accuracy']:.4f} vs {r['reused_test_accuracy']:.4f}" for r in rows
            )
            + ".",
            "",
            f"Regenerate: `zoo experiment transfer` ({results['seconds']} s on this run's machine).",
            "",
        ]
    )
