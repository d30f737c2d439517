"""Time to accuracy on Fashion-MNIST on this machine's CPU, airbench style (`zoo experiment leaderboard`).

CIFAR-10 has airbench (94% in seconds on one GPU); nobody publishes how fast Fashion-MNIST can be
learned on a CPU. Every entry here is a network with a budget fixed in advance (epochs, schedule),
trained on the same 59,000 images for several seeds and tested once on the 10,000 test images.
An entry reaches a threshold only if its *median* test accuracy clears it, and a contestant's time
for a threshold is the median training time of its fastest entry that does. Three contestants:

* ``zoo``: zoo's recipes through `zoo.train` (its pipeline, callbacks and per-epoch validation
  included in the clock);
* ``keras``: what a Keras user writes first, the convnet of keras.io's "Simple MNIST convnet"
  example, compiled with Keras defaults (Adam 1e-3, batch 128) and fit on numpy arrays with
  per-epoch validation, as the example does;
* ``torch``: a PyTorch eager twin of a zoo recipe (same layers, init, schedule, batch and epochs;
  `zoo.experiments.torch_twin.torch_train`), training time only;
* ``jax``: zoo's recipes through `zoo.train` as for ``zoo``, under `KERAS_BACKEND=jax`, each run in its own
  process (Keras fixes its backend once per process): the same pipeline from tf.data, the same callbacks and
  validation in the clock; only the per-layer gradient diagnostics, written with `tf.GradientTape`, are
  skipped there.

Nothing is picked on the test set: the entries and their budgets are the constants below.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from zoo.data.builtin import load
from zoo.errors import RecipeError
from zoo.experiments.jax_entry import run_in_jax
from zoo.experiments.leaderboard_report import board_report
from zoo.experiments.standings import DEFAULT_STACK, THRESHOLDS, TINY_POOLED_LAST, keras_example_convnet, standings
from zoo.recipes.recipe import get_recipe
from zoo.reports.boards import time_to_accuracy_figure
from zoo.reports.progress import Progress
from zoo.reports.records import git_commit, run_folder, stamp, write_results, write_text
from zoo.reports.report import spread
from zoo.training.trainer import train

CONTESTANTS = ("zoo", "keras", "torch", "jax")


@dataclass(frozen=True)
class Entry:
    """One leaderboard entry: a contestant's network and fixed budget (`overrides` on a zoo recipe)."""

    contestant: str
    label: str
    recipe: str = "fashion_cnn"
    overrides: dict[str, Any] = field(default_factory=dict)
    seeds: int = 3

    def __post_init__(self):
        if self.contestant not in CONTESTANTS:
            raise RecipeError(f"contestant = {self.contestant!r} is not allowed; allowed: {', '.join(CONTESTANTS)}")


# zoo's entries: fashion_cnn_tiny as shipped (pooled before BatchNorm, 64 dense units, no dropout, 2 epochs:
# validation's pick for 0.90, round five of benchmarks/results/selection; then the modern stack, the levers sweep's
# pick: benchmarks/results/levers), and fashion_cnn as shipped (the modern
# stack: Swish and AdamW; batch 128, cosine with one warm-up epoch, 1,000 validation images, 1-pixel shifts, no
# dropout, peak 8e-3) for 5 epochs (its cosine then spans 5 epochs, so it anneals fully) and for its own 14, which
# validation picked on a 5,000-image selection split (the 12 it shipped with before, chosen on test, was withdrawn
# from the board). The tiny net's earlier shapes stay on the board, settings spelled out, twins and JAX entry
# too. Every entry trains on the same 59,000 images: the Keras example's split is fashion_cnn's.
TINY_BEFORE = {**TINY_POOLED_LAST, "stack.dropout": 0.25, "train.epochs": 5}
LAST, TINY = "2 epochs, no dropout, pooled last", "fashion_cnn_tiny"
# The 0.93 entry validation picked in round seven (benchmarks/results/selection): the tiny net's layer order at the
# generic cnn's width, 8 epochs (validation 0.9318 in 131.8 s; fashion_cnn's 2 epochs 0.9282), on the default stack.
WIDE = {"model.filters": [32, 64], "model.hidden": [128], "train.epochs": 8, **DEFAULT_STACK}
# fashion_cnn in mixed bfloat16, for CPUs that multiply it natively (selection rounds eight to ten).
BF16 = {"train.precision": "mixed_bfloat16"}
ENTRIES: tuple[Entry, ...] = (
    Entry("zoo", f"{TINY} (2 epochs, modern stack: validation's pick)", TINY),
    Entry("zoo", f"{TINY} (2 epochs, pooled first, 64 units: validation's pick)", TINY, DEFAULT_STACK),
    Entry("zoo", f"{TINY} ({LAST})", TINY, TINY_POOLED_LAST),
    Entry("zoo", f"{TINY} (5 epochs)", TINY, TINY_BEFORE),
    Entry("zoo", f"{TINY} at 32/64 filters, 128 units, 8 epochs (validation's pick for 0.93)", TINY, WIDE),
    Entry("zoo", "fashion_cnn (5 epochs)", overrides={"train.epochs": 5}),
    # Selection round eight's pick: the same 5 epochs in mixed bfloat16, for CPUs that multiply it natively
    # (benchmarks/results/selection: validation within 0.1 points of float32's; benchmarks/results/precision).
    Entry("zoo", "fashion_cnn (5 epochs, bfloat16)", overrides={"train.epochs": 5, **BF16}),
    # Selection round nine's pick: 3 epochs in mixed bfloat16 (validation 0.9336 against the 0.930 the round asked for).
    Entry("zoo", "fashion_cnn (3 epochs, bfloat16)", overrides={"train.epochs": 3, **BF16}),
    # Selection round ten's pick for 0.94: 6 epochs in mixed bfloat16 (validation 0.9436 against the round's 0.9434).
    Entry("zoo", "fashion_cnn (6 epochs, bfloat16)", overrides={"train.epochs": 6, **BF16}),
    Entry("zoo", "fashion_cnn (14 epochs, validation's pick)", overrides={"train.epochs": 14}),
    Entry("keras", "Keras example convnet, 5 epochs", overrides={"train.epochs": 5}),
    Entry("keras", "Keras example convnet, 15 epochs (the example's budget)", overrides={"train.epochs": 15}),
    Entry("torch", f"PyTorch twin of {TINY} (2 epochs, modern stack)", TINY),
    Entry("torch", f"PyTorch twin of {TINY} (2 epochs, pooled first, 64 units)", TINY, DEFAULT_STACK),
    Entry("torch", f"PyTorch twin of {TINY} ({LAST})", TINY, TINY_POOLED_LAST),
    Entry("torch", f"PyTorch twin of {TINY} (5 epochs)", TINY, TINY_BEFORE),
    Entry("torch", "PyTorch twin of fashion_cnn (5 epochs)", overrides={"train.epochs": 5}),
    # fashion_cnn as it ships (the modern stack, 1-pixel shifts, its own 14 epochs): the twin at 0.94.
    Entry("torch", "PyTorch twin of fashion_cnn (14 epochs, modern stack)"),
    Entry("jax", f"{TINY} ({LAST}) under KERAS_BACKEND=jax", TINY, TINY_POOLED_LAST),
)
# What each contestant needs beyond zoo's own dependencies, and how to install it.
OPTIONAL = {
    "torch": ("torch", "`pip install torch --index-url https://download.pytorch.org/whl/cpu`"),
    "jax": ("jax", "`pip install jax`"),
}


def _expected_seconds(entry: Entry, before: dict[str, Any]) -> float:
    """What one run of `entry` should cost, for the ETA: its median in the committed board `before` when it is
    there, else its epochs times a fashion_cnn epoch's typical 45 s (the tiny net's are cheaper: an estimate)."""
    seconds = [r["train_seconds"] for r in before.get("runs", []) if r.get("label") == entry.label]
    if seconds:
        return float(sorted(seconds)[len(seconds) // 2])
    return 45.0 * (entry.overrides.get("train.epochs") or get_recipe(entry.recipe).train.epochs)


def _weights(entries: tuple[Entry, ...], committed: Path) -> list[float]:
    """The ETA's weights, one per run to train, from the committed board read once."""
    before = json.loads(committed.read_text()) if committed.is_file() else {}
    return [_expected_seconds(entry, before) for entry in entries for _ in range(entry.seeds)]


def run_entry(entry: Entry, seed: int, runs_dir: Path) -> dict[str, float]:
    """Train `entry` once with `seed`; its test accuracy and training seconds."""
    if entry.contestant == "jax":  # a bad name or key is one clear line here, not a child's traceback
        get_recipe(entry.recipe, **entry.overrides)
        return run_in_jax(
            {"label": entry.label, "recipe": entry.recipe, "overrides": entry.overrides, "seed": seed}, runs_dir
        )
    recipe = get_recipe(entry.recipe, **entry.overrides, **{"train.seed": seed})
    if entry.contestant == "keras":
        data = load(recipe.dataset, recipe.validation_size)
        keras.utils.set_random_seed(seed)
        model = keras_example_convnet(data.info.input_shape, data.info.num_classes)
        started = time.perf_counter()
        model.fit(
            *data.arrays["train"],
            batch_size=128,
            epochs=recipe.train.epochs,
            validation_data=data.arrays["validation"],
            verbose=0,
        )
        seconds = time.perf_counter() - started
        return {"test_accuracy": float(model.evaluate(*data.arrays["test"], verbose=0)[1]), "train_seconds": seconds}
    data = load(recipe.dataset, recipe.validation_size)
    if entry.contestant == "torch":
        from zoo.experiments.torch_twin import torch_train  # torch is optional: imported only for its entries

        return torch_train(recipe, data, seed)
    result = train(recipe, data=data, verbose=0, out_dir=runs_dir / f"{_slug(entry.label)}-seed{seed}")
    return {"test_accuracy": result.metrics["test_accuracy"], "train_seconds": result.metrics["train_seconds"]}


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")


def run(
    out_dir: str | Path = Path("benchmarks/results/leaderboard"),
    runs_dir: str | Path | None = None,
    entries: tuple[Entry, ...] = ENTRIES,
    thresholds=THRESHOLDS,
    keep: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Train every entry for its seeds, then write the standings, report.md and leaderboard.png.

    `keep`: labels of entries already in `out_dir`/results.json to keep as they are (their runs, and the
    commit each trained at), beside the `entries` trained now; the board is then those together, and its
    withdrawn entries and notes carry over (`annotate(replace=True)` for notes the new runs make stale).
    """
    _check_frameworks(entries)
    runs_dir = Path(runs_dir) if runs_dir else run_folder("leaderboard", "runs/experiments")
    started = time.perf_counter()
    runs, summary = [], []
    weights = _weights(entries, Path(out_dir) / "results.json")
    with Progress(len(weights), "leaderboard", weights=weights) as progress:
        for entry in entries:
            results = []
            for seed in range(entry.seeds):
                results.append(result := run_entry(entry, seed, runs_dir))
                runs.append({"label": entry.label, "seed": seed, **result, "commit": _commit()})
                progress.done(
                    f"{entry.label}, seed {seed}: test {result['test_accuracy']:.4f} in {result['train_seconds']:.0f} s"
                )
            accuracy = spread([r["test_accuracy"] for r in results])
            summary.append(
                {
                    "contestant": entry.contestant,
                    "label": entry.label,
                    "recipe": entry.recipe,
                    "overrides": entry.overrides,
                    "seeds": entry.seeds,
                    "accuracy": accuracy["median"],
                    "low": accuracy["min"],
                    "high": accuracy["max"],
                    "seconds": spread([r["train_seconds"] for r in results])["median"],
                }
            )
    history: dict[str, Any] = {}
    before: dict[str, Any] = {}  # the board's versions before this call, for the kept runs
    if keep:
        summary, runs, history, before = _kept(Path(out_dir), keep, summary, runs)
    results = {
        "experiment": "leaderboard",
        "thresholds": list(thresholds),
        "entries": summary,
        "runs": runs,
        "standings": standings(summary, thresholds),
        **history,
        **stamp(started),
    }
    _whole_board_cost(results, runs, keep)
    _name_frameworks(results, {entry.contestant for entry in entries}, before)
    figure = board_figure(summary, thresholds)
    write_results(out_dir, results, board_report(results, _accelerator(out_dir)), {"leaderboard.png": figure})
    return results


def _check_frameworks(entries: tuple[Entry, ...]) -> None:
    """Refuse, before anything trains, entries whose framework (torch, jax) is not installed."""
    for contestant, (module, install) in OPTIONAL.items():
        if any(e.contestant == contestant for e in entries) and importlib.util.find_spec(module) is None:
            why = f"the leaderboard's {contestant} entries need {module}, which is not installed"
            raise RecipeError(f"{why}; install it with {install}")


def _name_frameworks(results: dict[str, Any], trained: set[str], before: dict[str, Any]) -> None:
    """The versions of the frameworks the board's twins (torch) and JAX entries ran on: the installed one where
    this call trained such an entry, else (a re-run may train none) that in `before` of the kept entries. JAX
    entries train in child processes of this environment, so its installed version is theirs."""
    present = {entry["contestant"] for entry in results["entries"]}
    for contestant, (module, _) in OPTIONAL.items():
        version = contestant in trained and _installed(module) or contestant in present and before.get(module)
        if version:
            results["versions"][module] = version


def _installed(module: str) -> str | None:
    try:
        return importlib.metadata.version(module)
    except importlib.metadata.PackageNotFoundError:
        return None


def _whole_board_cost(results: dict[str, Any], runs: list[dict[str, Any]], keep: tuple[str, ...]) -> None:
    """When this call trained some entries only (`keep`), the board's "seconds" become every run's training,
    summed (what the whole board costs to train again), and this call's own seconds go to "trained_now_seconds"."""
    if keep:
        results["trained_now_seconds"] = results["seconds"]
        results["seconds"] = round(sum(r["train_seconds"] for r in runs), 1)


def _commit() -> str | None:
    return (git_commit() or {}).get("commit")


def _kept(out_dir: Path, keep: tuple[str, ...], summary: list, runs: list) -> tuple[list, list, dict, dict]:
    """The committed entries named in `keep` (each run with the commit it trained at), then the new ones; and the
    board's history, which a partial re-run keeps: its withdrawn entries (but those trained again now) and notes;
    and the versions the kept runs trained with."""
    before = json.loads((out_dir / "results.json").read_text())
    known = {entry["label"] for entry in before["entries"]}
    missing = [label for label in keep if label not in known]
    if missing:
        raise RecipeError(
            f"keep = {missing[0]!r} is not an entry of {out_dir / 'results.json'}; it has: {sorted(known)}"
        )
    commit = (before["versions"].get("git") or {}).get("commit")
    kept_runs = [{"commit": commit, **run} for run in before["runs"] if run["label"] in keep]
    trained = {entry["label"] for entry in summary}
    entries = [entry for entry in before["entries"] if entry["label"] in keep] + summary
    history = {
        "withdrawn": [gone for gone in before.get("withdrawn", []) if gone["label"] not in trained],
        "notes": before.get("notes", []),
    }
    return entries, kept_runs + runs, {key: value for key, value in history.items() if value}, before["versions"]


def board_figure(entries: list[dict[str, Any]], thresholds) -> Any:
    """leaderboard.png: every entry's median test accuracy against its median training seconds."""
    return time_to_accuracy_figure(entries, thresholds, title="Fashion-MNIST on this CPU: accuracy against time")


def _accelerator(out_dir: str | Path) -> dict[str, Any] | None:
    """The accelerator board committed beside this one (`zoo experiment accelerator`), if there is one."""
    path = Path(out_dir).parent / "accelerator" / "results.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _committed_board(out_dir: str | Path, doing: str) -> tuple[Path, dict[str, Any]]:
    """The committed board's results.json path and contents, for a change that trains nothing (`doing` names it)."""
    path = Path(out_dir) / "results.json"
    if not path.is_file():
        raise RecipeError(f"no leaderboard to {doing}: {path} does not exist")
    return path, json.loads(path.read_text())


def withdraw(labels: tuple[str, ...], why: str, out_dir: str | Path = Path("benchmarks/results/leaderboard")) -> dict:
    """Take entries off the committed board, their runs with them, and rewrite its standings, report and
    figure, training nothing: for a budget the protocol no longer allows. The report names each withdrawn
    entry and `why`; the board's seconds, versions and date stay those of its runs.

    Examples:
        >>> import tempfile
        >>> withdraw(("fashion_cnn (9 epochs)",), "never ran", tempfile.mkdtemp())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        zoo.errors.RecipeError: no leaderboard to withdraw entries from: .../results.json does not exist
    """
    path, results = _committed_board(out_dir, "withdraw entries from")
    known = [entry["label"] for entry in results["entries"]]
    for label in labels:
        if label not in known:
            raise RecipeError(f"{label!r} is not an entry of {path}; it has: {known}")
    results["entries"] = [entry for entry in results["entries"] if entry["label"] not in labels]
    results["runs"] = [run for run in results["runs"] if run["label"] not in labels]
    results["standings"] = standings(results["entries"], results["thresholds"])
    results["withdrawn"] = results.get("withdrawn", []) + [{"label": label, "why": why} for label in labels]
    figure = board_figure(results["entries"], results["thresholds"])
    report = board_report(results, _accelerator(out_dir))
    write_results(out_dir, results, report, {"leaderboard.png": figure}, echo=False)
    return results


def annotate(note: str, out_dir: str | Path = Path("benchmarks/results/leaderboard"), replace: bool = False) -> dict:
    """Add `note` to the committed board's notes and rewrite its report, training nothing: for what a reader
    must know to compare its entries (such as entries timed on different machines). `replace`: the note takes
    the place of every earlier one, for when entries trained again made them stale.

    Examples:
        >>> import tempfile
        >>> annotate("timed elsewhere", tempfile.mkdtemp())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        zoo.errors.RecipeError: no leaderboard to annotate: .../results.json does not exist
    """
    _, results = _committed_board(out_dir, "annotate")
    if not note.strip():
        raise RecipeError("note = '' is not allowed; expected the words a reader of the board needs")
    results["notes"] = ([] if replace else results.get("notes", [])) + [note.strip()]
    write_results(out_dir, results, board_report(results, _accelerator(out_dir)), echo=False)
    return results


def render(out_dir: str | Path = Path("benchmarks/results/leaderboard")) -> str:
    """Rewrite report.md from the committed results.json (and the accelerator board's), training nothing.

    For when only the report's words or the GPU rows changed. Returns the report.
    """
    report = board_report(json.loads((Path(out_dir) / "results.json").read_text()), _accelerator(out_dir))
    write_text(Path(out_dir) / "report.md", report)
    return report
