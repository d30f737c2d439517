"""Defaults that travel: zoo's generic recipes on data they were never tuned on (`zoo experiment heldout`).

The sets and their split into meta-train and meta-test are in `benchmarks/heldout/sets.toml`,
committed before any tuning (see `zoo.experiments.heldout_data`). Defaults are chosen from
meta-train validation scores only (`variants=`: zoo's tabular recipe with other settings, scored
on validation); meta-test is run once, by the committed configuration (`--part meta-test`).

Per set: every contestant's test score (accuracy, or R^2 for regression), median over seeds (3
seeds for sets under 20,000 rows, else 1), and seconds of fitting. Across sets: the mean normalized
score (each set's scores mapped to 0 = worst contestant, 1 = best), the mean rank, and zoo's
win/tie/loss against each contestant (a tie: within 0.5 points of accuracy or 0.01 of R^2). Images
add time-to-accuracy: the seconds zoo's cnn takes to reach the Keras example's final test accuracy.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from statistics import mean, median
from typing import Any

from zoo.errors import DataError
from zoo.experiments import heldout_contestants as contest
from zoo.experiments.heldout_data import describe as describe_set
from zoo.experiments.heldout_data import digit_folder, image_arrays, read_sets, table_frame
from zoo.experiments.heldout_report import figures, ranks, render, summarize
from zoo.experiments.heldout_transfer import transfer_rows
from zoo.recipes.recipe import get_recipe
from zoo.reports.progress import Progress
from zoo.reports.records import run_folder, stamp, write_json, write_results

LARGE = 20_000  # rows (images: training examples) from which a set gets one seed
TIE = {"classification": 0.005, "regression": 0.01}
SHORT_GRID = 4  # on large sets the baseline's rate grid trains a quarter of the budget (`baseline_entry`)
# Contestants too slow for the suite's hour on 2 CPU cores above a number of rows (skipped and named there).
# RealMLP-TD's cap was set after it took 2,379 s on letter, in a run that shared the 2 cores with another; alone
# (8a4df59) it fits 75-115 training rows a second (smokeban's 8,000 in 71 s, not the 974 s of that run; caravan's
# 4,658 in 61 s), so letter, shuttle and diamonds would add 15-23 minutes to a suite already past its hour.
TOO_SLOW = {"realmlp_td": LARGE}
# The sigmoid/SGD baseline's one rate on meta-test, chosen by `meta_train_rate` from its grids on the meta-train
# image sets (benchmarks/results/heldout-meta-train/baseline-rate/; docs/heldout.md). Its grid on every meta-test
# set was a third of the suite's hour; the rate it picked there was read on the same set's validation rows.
# Mean validation rank over fashion_full, fashion_1k, fashion_5k and digits8 at 17972a5: 1 -> 1.25, 0.1 -> 1.75.
BASELINE_RATE: float | None = 1.0


def meta_train_rate(rows: list[dict[str, Any]]) -> float:
    """The baseline's one SGD rate for meta-test, from its grids on meta-train image sets (`rows`, a suite run's
    sets): the best mean validation rank over the sets (tied scores share their mean rank); a tie goes to the
    higher mean validation score, then the smaller rate. Only the grids' validation scores are read.

    Examples:
        >>> grid = lambda a, b, c: {"models": {"zoo_baseline": {"grid": {"0.01": a, "0.1": b, "1": c}}}}
        >>> meta_train_rate([grid(0.5, 0.9, 0.9), grid(0.5, 0.8, 0.9), grid(0.6, 0.6, 0.6)])
        1.0
    """
    grids = [row["models"]["zoo_baseline"]["grid"] for row in rows if "grid" in row["models"].get("zoo_baseline", {})]
    if not grids:
        raise DataError("meta_train_rate: no baseline grid in these rows (run the meta-train image sets first)")
    placed = [ranks(grid) for grid in grids]
    return float(min(grids[0], key=lambda r: (mean(p[r] for p in placed), -mean(g[r] for g in grids), float(r))))


def _seeds(size: int, seeds: int) -> list[int]:
    return list(range(1 if size >= LARGE else seeds))


def _entry(values: list[float], seconds: list[float], **extra) -> dict[str, Any]:
    return {"scores": values, "score": median(values), "seconds": round(median(seconds), 2), **extra}


def table_set(item, runs_dir: Path, seeds: int, contestants, variants: dict[str, dict]) -> dict[str, Any]:
    """Every contestant on one table; zoo once per variant (its validation score kept for choosing)."""
    frame = table_frame(item)
    seed_list = _seeds(len(frame), seeds)
    models: dict[str, Any] = {}
    for label, overrides in variants.items():
        runs = [
            contest.zoo_table(frame, item.target, item.task, s, runs_dir / item.name / f"{label}-{s}", overrides)
            for s in seed_list
        ]
        models[label] = _entry([r[0] for r in runs], [r[2] for r in runs], val=median(r[1] for r in runs))
    rows = contest.table_rows(frame, item.target, item.task)
    skipped = {}
    for name in contestants:
        if name == "zoo":
            continue
        # The size rule is checked first: it holds whether or not the contestant's package is installed here.
        if len(frame) >= TOO_SLOW.get(name, len(frame) + 1):
            skipped[name] = f"{len(frame)} rows; runs on sets under {TOO_SLOW[name]:,} rows only (CPU time)"
            continue
        if not contest.available(name):
            continue
        runs = [contest.other_table(name, rows, item.task, s) for s in seed_list]
        models[name] = _entry([r[0] for r in runs], [r[1] for r in runs])
    row = {"info": describe_set(item, frame), "seeds": seed_list, "models": models}
    return {**row, "skipped": skipped} if skipped else row


def image_set(
    item,
    runs_dir: Path,
    seeds: int,
    contestants,
    variants: dict[str, dict],
    transfer: bool = False,
    curves_on: str = "test",
    baseline_rate: float | None = None,
) -> dict[str, Any]:
    """zoo's cnn (per variant), the Keras example and zoo's baseline on one image set; with `transfer`, the
    shipped conv models fine-tuned on 100 and 1,000 of its labels against the cnn from scratch. The
    accuracy-against-seconds curves read the `curves_on` rows (meta-train: "validation"). `baseline_rate`: the
    baseline's SGD rate, fixed (meta-test), or None to pick it from its grid on this set's validation rows."""
    arrays = image_arrays(item)
    # The digit folder is 180 of MNIST's digits: its seeds, its description, and the Keras example's and transfer's
    # images are the folder's, not those of its source's 60,000.
    own = arrays_for_folder(arrays) if item.name == "digit_folder" else arrays
    seed_list = _seeds(len(own[0]), seeds)
    with tempfile.TemporaryDirectory() as folder:
        # The digit folder is read as a user's folder of PNGs; the other sets are handed over as 0-255 arrays.
        data = digit_folder(Path(folder)) if item.name == "digit_folder" else arrays
        models: dict[str, Any] = {}
        for label, overrides in variants.items():
            runs = [
                contest.zoo_images(
                    data, s, runs_dir / item.name / f"{label}-{s}", overrides=overrides, curve_on=curves_on
                )
                for s in seed_list
            ]
            models[label] = _entry(
                [r["test"] for r in runs],
                [r["seconds"] for r in runs],
                val=median(r["val"] for r in runs),
                curves=[r["curve"] for r in runs],
                epochs=runs[0]["epochs"],
                batch_size=runs[0]["batch_size"],
            )
        if "keras_example" in contestants and item.name != "digit_folder":
            example = _keras_example(arrays, seed_list, curves_on)
            if example is not None:
                models["keras_example"] = example
        if "zoo_baseline" in contestants:
            models["zoo_baseline"] = baseline_entry(data, seed_list, runs_dir / item.name, len(own[0]), baseline_rate)
    if item.name == "digit_folder" and "keras_example" in contestants:
        models["keras_example"] = _keras_example(own, seed_list, "test")
    row = {"info": describe_set(item, own), "seeds": seed_list, "models": models, "curves_on": curves_on}
    if transfer:
        row["transfer"] = transfer_rows(own, runs_dir / item.name / "transfer")
    return row


def baseline_entry(
    data, seed_list: list[int], folder: Path, examples: int, rate: float | None = None
) -> dict[str, Any]:
    """zoo's sigmoid/SGD baseline on one image set. With `rate` (meta-test: `BASELINE_RATE`, fixed on meta-train),
    that SGD rate trains every seed and no grid runs. Without it, the rate is picked on validation from the recipe's
    grid by seed 0's runs, then trained for every seed. On sets of LARGE or more training examples (one seed) the grid's
    runs train a quarter of the budget and the picked rate then trains whole; on smaller sets they train whole,
    and seed 0's run at the picked rate is kept as that seed's.

    The baseline's rate is constant, so a quarter-budget run is the first quarter of a whole one (checked: the
    logs agree epoch by epoch). On MNIST a quarter is 5 passes of 54,000 images, and validation already ranks
    the rates far apart (0.109, 0.907, 0.973); three whole runs there were 923 s of the suite. On the small sets a
    quarter is a few hundred steps, where every rate still sits on the sigmoid's plateau (the digit folder 0.5 at
    every rate, the solar cells the majority class's 0.5885 at every rate, the faces 0.6875, 0.625 and 0.6875 on
    16 images): a pick from there would be noise. The grid's validation scores are kept in the entry.
    """
    if rate is None:
        rate, kept, picked = _picked_rate(data, folder, examples)
    else:
        kept, picked = [], {"grid_budget": "fixed"}
    runs = kept + [
        contest.zoo_images(data, s, folder / f"baseline-lr{rate:g}-{s}", True, rate) for s in seed_list[len(kept) :]
    ]
    return _entry([r["test"] for r in runs], [r["seconds"] for r in runs], rate=rate, **picked)


def _picked_rate(data, folder: Path, examples: int) -> tuple[float, list[dict], dict[str, Any]]:
    """The baseline's grid on seed 0 (`baseline_entry`): the rate validation picks, seed 0's run at it where the
    grid trained whole (none where it trained a quarter), and the grid's validation scores for the entry."""
    cnn = get_recipe("cnn")
    short = examples >= LARGE
    quarter = {
        "train.steps": max(1, cnn.train.steps // SHORT_GRID),
        "train.min_epochs": max(1, cnn.train.min_epochs // SHORT_GRID),
    }
    grid = {
        rate: contest.zoo_images(
            data, 0, folder / f"baseline-lr{rate:g}-{'short' if short else 0}", True, rate, quarter if short else None
        )
        for rate in cnn.baseline.learning_rates
    }
    # The best validation score; a tie (the same constant class at every rate) goes to the smallest rate.
    rate = max(grid, key=lambda r: (grid[r]["val"] if grid[r]["val"] is not None else -1.0, -r))
    scores = {"grid": {f"{r:g}": grid[r]["val"] for r in grid}, "grid_budget": "a quarter" if short else "whole"}
    return rate, [] if short else [grid[rate]], scores


def _keras_example(arrays, seed_list: list[int], curves_on: str) -> dict[str, Any] | None:
    """The Keras example's entry over the seeds (None where the images are too small for it); on validation
    curves it adds its median last-epoch validation accuracy, the accuracy meta-train's times are read to."""
    runs = [contest.keras_example(arrays, s, curves_on) for s in seed_list]
    if runs[0] is None:
        return None
    validation = {"validation": median(r["validation"] for r in runs)} if curves_on != "test" else {}
    return _entry(
        [r["test"] for r in runs], [r["seconds"] for r in runs], curves=[r["curve"] for r in runs], **validation
    )


def arrays_for_folder(arrays):
    """The digit folder's images as the Keras example gets them: the same 180 digits at 16x16 in the order the
    folder reader reads them (class folders, then file names), split by zoo's fixed-seed test split."""
    import numpy as np
    from PIL import Image

    from zoo.data.splitting import test_split

    x, y, _, _ = arrays
    order = [i for d in (0, 1, 2) for i in sorted(np.flatnonzero(y == d)[:60].tolist(), key=lambda i: f"{i}.png")]
    small = np.stack(
        [np.asarray(Image.fromarray(x[i, :, :, 0]).resize((16, 16), Image.Resampling.BILINEAR)) for i in order]
    )[..., None]
    labels = y[order]
    train, test = test_split(len(order))
    return small[train], labels[train], small[test], labels[test]


def run(
    part: str = "meta-test",
    out_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    sets: tuple[str, ...] | None = None,
    seeds: int = 3,
    contestants: tuple[str, ...] | None = None,
    variants: dict[str, dict] | None = None,
    transfer: bool | None = None,
) -> dict[str, Any]:
    """Run the suite on one part of the sets file; write results.json and report.md. `transfer`
    (default: on for meta-test) adds the fine-tuning comparison on each image set. `contestants=()` and
    `variants={}` run none (by default: every contestant, and zoo's recipe as it is): with `transfer=True`,
    the transfer table alone, for `combine` to put in place of an earlier run's after the `cnn` changed."""
    every = read_sets()  # read once: the check and the choice below both look at it
    chosen = [s for s in every if s.part == part and (sets is None or s.name in sets)]
    if sets is not None:
        unknown = sorted(set(sets) - {s.name for s in every})
        if unknown:
            raise DataError(f"no held-out set named {unknown[0]!r} in the sets file")
    out_dir = Path(out_dir or f"benchmarks/results/heldout-{part}")
    runs_dir = Path(runs_dir) if runs_dir else run_folder(f"heldout-{part}", "runs/experiments")
    variants = {"zoo": {}} if variants is None else variants
    started = time.perf_counter()
    rows = []
    with Progress(len(chosen), f"heldout {part}") as progress:
        for item in chosen:
            one = _one_set(item, part, runs_dir, seeds, contestants, variants, transfer)
            rows.append({"set": item.name, "kind": item.kind, "task": item.task, **one})
            # Each finished set is on disk at once: a run stopped after hours keeps what it measured, with the
            # commit it trained at and its seconds so far (what `combine` reports of it).
            write_json(out_dir / "partial.json", {"part": part, "variants": variants, "sets": rows, **stamp(started)})
            progress.done(
                f"{item.name}: "
                + ", ".join(f"{k} {v['score']:.4f} ({v['seconds']:.0f} s)" for k, v in one["models"].items())
            )
    results = {"experiment": "heldout", "part": part, "sets": rows, "variants": variants, **stamp(started)}
    results["summary"] = summarize(rows, TIE)
    drawn = figures(rows)
    write_results(out_dir, results, render(results, drawn), drawn)
    (out_dir / "partial.json").unlink(missing_ok=True)
    return results


def _one_set(item, part: str, runs_dir: Path, seeds: int, contestants, variants, transfer) -> dict[str, Any]:
    """One set's row: its kind's contestants (or `contestants`), as its part runs them."""
    if item.kind == "table":
        names = contest.TABLE_CONTESTANTS if contestants is None else contestants
        return table_set(item, runs_dir, seeds, names, variants)
    return image_set(
        item,
        runs_dir,
        seeds,
        contest.IMAGE_CONTESTANTS if contestants is None else contestants,
        variants,
        part == "meta-test" if transfer is None else transfer,
        # Meta-train chooses defaults, time included: its curves read validation rows, never test.
        curves_on="validation" if part == "meta-train" else "test",
        # Meta-test trains the baseline at the rate meta-train chose; meta-train runs its grid.
        baseline_rate=BASELINE_RATE if part == "meta-test" else None,
    )


def combine(folders: list[str | Path], out_dir: str | Path) -> dict[str, Any]:
    """One report from suite runs of one part (e.g. tables and images run side by side on the two cores): their
    rows joined in the sets file's order, the summary computed again. A set in several runs keeps the row of
    the last folder named (a final run again after a default changed), and the runs list says which it
    replaced. A folder may hold an earlier combined report: its runs carry over. A run stopped before its end
    counts with the sets it finished (its partial.json); sets of the part that no run finished are named."""
    parts = []
    for folder in map(Path, folders):
        finished = (folder / "results.json").is_file()
        part = json.loads((folder / ("results.json" if finished else "partial.json")).read_text())
        parts.append({**part, "finished": finished})
    if len({p["part"] for p in parts}) != 1:
        raise ValueError("combine: the runs are of different parts")
    order = [s.name for s in read_sets()]
    latest: dict[str, dict] = {}
    for row in (row for p in parts for row in p["sets"]):  # a later folder's entries win, the others are kept
        kept = latest.get(row["set"], {})
        latest[row["set"]] = {**kept, **row, "models": {**kept.get("models", {}), **row["models"]}}
    rows = sorted(latest.values(), key=lambda row: order.index(row["set"]))
    done = set(latest)
    runs = []
    for index, p in enumerate(parts):
        later = _rerun(parts[index + 1 :])
        own = {row["set"]: row for row in p["sets"]}
        for run in p.get("runs") or [
            {"sets": [r["set"] for r in p["sets"]], "seconds": p.get("seconds"), "finished": p["finished"]}
        ]:
            replaced = [_replaced(name, own.get(name, {}), later[name]) for name in run["sets"] if name in later]
            runs.append({**run, **({"replaced": replaced} if replaced else {})})
        git = (p.get("versions") or {}).get("git") or {}
        if not p.get("runs") and git.get("commit"):
            runs[-1]["commit"] = git["commit"][:7]
    results = {
        **{k: v for k, v in parts[0].items() if k != "finished"},
        "sets": rows,
        "runs": runs,
        "not_run": [s.name for s in read_sets() if s.part == parts[0]["part"] and s.name not in done],
        **stamp(time.perf_counter()),
    }
    results["seconds"] = sum(run.get("seconds") or 0.0 for run in runs)
    results["summary"] = summarize(rows, TIE)
    drawn = figures(rows)
    write_results(Path(out_dir), results, render(results, drawn), drawn)
    return results


def _rerun(parts: list[dict]) -> dict[str, set[str]]:
    """Per set, what `parts` ran of it: contestants' names, and "transfer" for the fine-tuning rows."""
    ran: dict[str, set[str]] = {}
    for row in (row for p in parts for row in p["sets"]):
        ran.setdefault(row["set"], set()).update(row["models"], ["transfer"] if "transfer" in row else [])
    return ran


def _replaced(name: str, row: dict, later: set[str]) -> str:
    """How a later run replaced set `name`'s row: all of it ("mnist"), or some entries ("mnist: keras_example,
    zoo"); the entries not named stay as this run made them."""
    mine = set(row.get("models", {})) | ({"transfer"} if "transfer" in row else set())
    return name if mine <= later else f"{name}: {', '.join(sorted(mine & later))}"
