"""Each benchmarked recipe's own stack against the modern stack, chosen on validation (`zoo experiment levers`).

Is He init, ELU, BatchNorm and Adam still the right default, or does the newer textbook stack (Swish and
AdamW, `stack.name = "modern"`; init, BatchNorm and dropout as the recipe sets them) beat it? For each
recipe both stacks train the recipe's whole budget for 3 seeds on the selection split (Fashion-MNIST's
training set cut 55,000 / 5,000) through `zoo.experiments.probe`, which takes the test split out before
anything trains. The modern stack would replace the recipe's only if its median validation score beats the
recipe's by more than `MARGIN` (0.1 points: 5 of 5,000 images). The score read is the one the recipe ships:
the last epoch's when early stopping is off (a cosine schedule's end), else the best epoch's.

No test number is computed here. Where the recipe's stack stands, its test accuracy is its committed
`zoo bench` (read from benchmarks/results/<recipe>/results.json, trained at the commit named there); a stack
that won would ship only after a bench of its own (docs/protocol.md).

Each recipe's probe is written to `<out_dir>/<recipe>/` as soon as it ends, with the commit it trained at,
so the sweep can run in sittings (`zoo experiment levers --recipes fashion_mlp`); the report at `<out_dir>`
joins every recipe folder there.

Examples:
    >>> import tempfile, zoo
    >>> digits = zoo.load_data("digits", validation_size=200)
    >>> out = tempfile.mkdtemp()
    >>> found = run(out, recipes=(zoo.get_recipe("mlp", hidden=[16]),), seeds=1, epochs=1, data=digits)
    [...] levers: the recipe's stack against the modern stack: mlp: ...
    >>> [(row["recipe"], row["picked"] in STACKS) for row in found["recipes"]]
    [('mlp', True)]
    >>> assemble(out)["seconds"] == found["seconds"] == found["recipes"][0]["seconds"]  # joining again keeps it
    True
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from zoo.experiments.probe import probe, selection_split
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.reports.progress import Progress
from zoo.reports.records import git_commit, resumable_folder, stamp, write_results
from zoo.reports.report import commit_text, trained_at

# Every Fashion-MNIST recipe, cheapest first
RECIPES = ("fashion_cnn_tiny", "fashion_selu", "fashion_deep_mlp", "fashion_mlp", "fashion_cnn", "fashion_resnet")
STACKS = {"the recipe's stack": {}, "modern stack": {"stack.name": "modern"}}
MARGIN = 0.001


def run(
    out_dir: str | Path = Path("benchmarks/results/levers"),
    recipes: tuple[str | Recipe, ...] = RECIPES,
    seeds: int = 3,
    *,
    epochs: int | None = None,
    data: Any = None,
    runs_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Probe both stacks on each of `recipes` (seeds 0 .. seeds-1), write each recipe's verdict as it ends, and
    the joined report. `epochs` and `data` (a Splits) are for quick checks; by default each recipe trains its
    own budget on its dataset's selection split."""
    out = Path(out_dir)
    chosen = [get_recipe(name) for name in recipes]  # a bad name is one clear line before anything trains
    # From a clean checkout the same folder every time: run again after an interruption, a recipe's probe reads
    # its finished runs back and trains only the rest.
    runs_dir = Path(runs_dir) if runs_dir else resumable_folder("levers", "runs/experiments")
    weights = [_expected_seconds(out, recipe) for recipe in chosen]
    with Progress(len(chosen), "levers: the recipe's stack against the modern stack", weights=weights) as progress:
        for recipe in chosen:
            split = data if data is not None else selection_split(recipe)
            found = probe(
                recipe, STACKS, data=split, seeds=tuple(range(seeds)), epochs=epochs, out_dir=runs_dir / recipe.name
            )
            row = verdict(found, recipe)
            # The probe's "chosen" (the highest best score, no margin) is not the sweep's choice, `picked`: left out,
            # so the file names one choice (fashion_resnet's results of 508f301 carry both, and they disagree).
            probed = {key: value for key, value in found.items() if key != "chosen"}
            write_results(out / recipe.name, {**probed, **row}, _recipe_report(found, row), echo=False)
            progress.done(f"{recipe.name}: {row['picked']} ({row['modern']:.4f} against {row['own']:.4f})")
    return assemble(out)


def verdict(found: dict[str, Any], recipe: Recipe) -> dict[str, Any]:
    """Which stack validation picks for `recipe`: the modern one only by more than MARGIN on the shipped score.

    Examples:
        >>> rows = {"the recipe's stack": {"val_last": 0.9000}, "modern stack": {"val_last": 0.9008}}
        >>> verdict({"rows": rows}, get_recipe("fashion_cnn"))["picked"]  # 0.08 points: within the margin
        "the recipe's stack"
    """
    read = "val_last" if recipe.train.early_stopping_patience == 0 else "val_best"
    own, modern = (found["rows"][label][read] for label in STACKS)
    return {
        "read": read,
        "own": own,
        "modern": modern,
        "picked": "modern stack" if modern > own + MARGIN else "the recipe's stack",
        "stack": recipe.stack.name,
        "epochs": recipe.train.epochs,
        "trained_at": git_commit(),
    }


def assemble(out_dir: str | Path) -> dict[str, Any]:
    """Join every recipe folder under `out_dir` into results.json and report.md there. Joining again trains
    nothing and changes nothing but the stamp: `seconds` is the recipes' own probes, summed over sittings."""
    out = Path(out_dir)
    rows = [json.loads(path.read_text()) for path in sorted(out.glob("*/results.json"))]
    rows.sort(key=lambda row: RECIPES.index(row["recipe"]) if row["recipe"] in RECIPES else len(RECIPES))
    results = {"experiment": "levers", "margin": MARGIN, "recipes": rows, **stamp(time.perf_counter())}
    results["seconds"] = round(sum(row.get("seconds", 0.0) for row in rows), 1)
    write_results(out, results, _report(results, out), echo=False)
    return results


def _bench(out: Path, recipe: str) -> dict[str, Any] | None:
    """The recipe's committed bench results (benchmarks/results/<recipe>, beside `out`), if there are any."""
    path = out.parent / recipe / "results.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _bench_test(out: Path, recipe: str) -> str:
    """The recipe's committed bench test accuracy (median of its seeds) and which stack it trained, or why none."""
    bench = _bench(out, recipe)
    if not bench:
        return "no committed bench"
    median, stack = bench["summary"]["recipe"]["test_accuracy"]["median"], bench["resolved_recipe"]["stack"]["name"]
    return f"{median:.4f}, {stack} stack ([bench](../{recipe}/report.md))"


def _expected_seconds(out: Path, recipe: Recipe) -> float:
    """What a recipe's run should cost, for the ETA: its bench's median, else its epochs at 45 s each (a guess)."""
    bench = _bench(out, recipe.name)
    return float(bench["summary"]["recipe"]["train_seconds"]["median"]) if bench else 45.0 * recipe.train.epochs


def _seeds(row: dict[str, Any], read: str) -> str:
    return ", ".join(f"{run[read]:.4f}" for run in row["runs"])


def _recipe_report(found: dict[str, Any], row: dict[str, Any]) -> str:
    lines = [
        f"# {found['recipe']}: its own stack ({row['stack']}) against the modern stack (Swish, AdamW)",
        "",
        f"Validation only (the test split was never loaded); seeds {found['seeds']}; the score read is "
        f"`{row['read']}` (the epoch the recipe ships). The modern stack is picked only by more than "
        f"{100 * MARGIN:.1f} points.",
        "",
        "| stack | validation, per seed | median | epochs | seconds (median) |",
        "|---|---|---|---|---|",
    ]
    for label, probed in found["rows"].items():
        mark = " (picked)" if label == row["picked"] else ""
        lines.append(
            f"| {label}{mark} | {_seeds(probed, row['read'])} | {probed[row['read']]:.4f} | {probed['epochs']:g} | "
            f"{probed['seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def _report(results: dict[str, Any], out: Path) -> str:
    rows = results["recipes"]
    done = {row["recipe"] for row in rows}
    lines = [
        "# Levers: each recipe's own stack against the modern stack, chosen on validation",
        "",
        "Both stacks train the recipe's whole budget for each seed on the selection split (Fashion-MNIST's "
        "training set cut 55,000 / 5,000; the test split is taken out before training). The modern stack "
        "(Swish and AdamW; init, BatchNorm and dropout as the recipe sets them) replaces the recipe's only if "
        f"its median validation score beats the recipe's by more than {100 * MARGIN:.1f} points. Test accuracy "
        "is read once, by the standing configuration's committed bench.",
        "",
        "| recipe | its stack | its stack, validation | modern, validation | change | picked | test (its bench) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| [{row['recipe']}]({row['recipe']}/report.md) | {row['stack']} | {row['own']:.4f} | "
            f"{row['modern']:.4f} | {100 * (row['modern'] - row['own']):+.2f} points | {row['picked']} | "
            f"{_bench_test(out, row['recipe'])} |"
        )
    missing = [name for name in RECIPES if name not in done]
    if missing:
        lines += ["", f"Not run yet: {', '.join(missing)} (`zoo experiment levers --recipes {','.join(missing)}`)."]
    commits = [(row["recipe"], commit_text(row["trained_at"])) for row in rows]
    lines += ["", trained_at(commits) if commits else "", "", "Regenerate: `zoo experiment levers`.", ""]
    return "\n".join(lines)
