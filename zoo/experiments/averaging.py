"""Levers that train nothing: a probe's finished nets scored on validation with their predictions averaged.

Two of the residual net's levers need no training run of their own. Test-time augmentation averages one net's
class probabilities over views of each image (a horizontal flip; shifts of one pixel each way, what the conv
recipes train with). An ensemble averages several nets; two nets trained for the full budget bound from above
what two half-length nets, in the same total time, can reach. `averaged(runs, data)` loads each finished run's
`model.keras` and scores every such average on the validation split of `data`; it never reads the test split.

Examples:
    >>> import tempfile, numpy as np, keras, zoo
    >>> data = zoo.load_data((np.random.default_rng(0).random((40, 6, 6, 1), "float32"), np.arange(40) % 2),
    ...                      validation_size=20)
    >>> run = Path(tempfile.mkdtemp())
    >>> net = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(), keras.layers.Dense(2, "softmax")])
    >>> net.save(run / "model.keras")
    >>> found = averaged([run, run], data)
    >>> found["pairs"][0]["accuracy"] == found["runs"][0]["plain"], sorted(found["median"])
    (True, ['flip', 'pair', 'plain', 'shifts', 'shifts+flip'])
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from zoo.errors import DataError, ZooError
from zoo.reports.records import stamp, write_json, write_text

# One-pixel shifts (rows, columns): the view set of the crops the conv recipes train with (1 pixel each way).
SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1))
SHIFT_VIEWS = {f"shift{dy},{dx}": (dy, dx) for dy, dx in SHIFTS}  # each shift's view, by name
# Each average, as the views it sums: "plain" is the net alone.
AVERAGES = {
    "plain": ("plain",),
    "flip": ("plain", "flip"),
    "shifts": ("plain", *SHIFT_VIEWS),
    "shifts+flip": ("plain", *SHIFT_VIEWS, "flip"),
}


def shifted(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images `x` (examples, height, width, channels) moved `dy` rows down and `dx` columns right, the pixels
    moved in set to 0 (the background of Fashion-MNIST and of zoo's padded crops).

    Examples:
        >>> shifted(np.arange(4.0).reshape(1, 2, 2, 1), 0, 1)[0, :, :, 0]
        array([[0., 0.],
               [0., 2.]])
    """
    out = np.zeros_like(x)
    height, width = x.shape[1:3]
    rows_from, rows_to = slice(max(0, -dy), height - max(0, dy)), slice(max(0, dy), height - max(0, -dy))
    cols_from, cols_to = slice(max(0, -dx), width - max(0, dx)), slice(max(0, dx), width - max(0, -dx))
    out[:, rows_to, cols_to] = x[:, rows_from, cols_from]
    return out


def _views(x: np.ndarray) -> dict[str, np.ndarray]:
    """Every view an average reads: the images, their mirror images, and the four one-pixel shifts."""
    return {"plain": x, "flip": x[:, :, ::-1], **{name: shifted(x, *shift) for name, shift in SHIFT_VIEWS.items()}}


def _validation_images(data: Any) -> tuple[np.ndarray, np.ndarray]:
    """The validation split of `data` (a `zoo.data.builtin.Splits`), checked to be images the nets take as they are."""
    x, y = data.arrays["validation"]
    if len(x) == 0:
        raise DataError(f"{data.source}: the validation split is empty; averages are scored on validation only")
    if x.ndim != 4 or data.encoder is not None:
        raise DataError(
            f"{data.source}: inputs of shape {x.shape[1:]} are not images (height, width, channels) that a net takes "
            "as they are; test-time views and ensembles here are for image classifiers"
        )
    return x, y.reshape(-1)


def averaged(runs: list[str | Path], data: Any, batch_size: int = 500) -> dict[str, Any]:
    """Each run's validation accuracy alone and averaged over test-time views, and every pair of runs averaged.

    `runs` are finished run folders (each with the `model.keras` that `zoo.train` saves) whose nets take the
    inputs of `data` as they are. Returns {"runs": [{"run", "plain", "flip", "shifts", "shifts+flip"}],
    "pairs": [{"runs": [a, b], "accuracy"}], "median": {average: median over runs or pairs}, "validation": n,
    "trained_at": {run: commit, from its metrics.json where it has one}, and the closing stamp}.
    """
    import keras

    if not runs:
        raise ZooError("averaged() needs at least one finished run folder")
    started = time.perf_counter()
    x, y = _validation_images(data)
    views = _views(x)
    probabilities, rows = [], []
    for run in map(Path, runs):
        if not (run / "model.keras").is_file():
            raise ZooError(
                f"{run}: no model.keras; give the folders of finished runs (zoo train --out, a probe's runs)"
            )
        net = keras.saving.load_model(run / "model.keras")
        seen = {name: net.predict(view, batch_size=batch_size, verbose=0) for name, view in views.items()}
        probabilities.append((run.name, seen["plain"]))
        rows.append(
            {"run": run.name, **{name: _accuracy(sum(seen[v] for v in vs), y) for name, vs in AVERAGES.items()}}
        )
    pairs = [
        {"runs": [a, b], "accuracy": _accuracy(p + q, y)} for (a, p), (b, q) in itertools.combinations(probabilities, 2)
    ]
    medians = {name: median(row[name] for row in rows) for name in AVERAGES}
    if pairs:
        medians["pair"] = median(pair["accuracy"] for pair in pairs)
    return {
        "validation": len(y),
        "runs": rows,
        "pairs": pairs,
        "median": medians,
        "trained_at": {Path(run).name: _commit(Path(run)) for run in runs},
        **stamp(started),
    }


def _commit(run: Path) -> str | None:
    """The commit a finished run trained at (its metrics.json's `versions.git`), where it recorded one (a run of an
    installed wheel records `git: null`)."""
    metrics = run / "metrics.json"
    git = json.loads(metrics.read_text()).get("versions", {}).get("git") if metrics.is_file() else None
    return (git or {}).get("commit")


def _accuracy(probabilities: np.ndarray, y: np.ndarray) -> float:
    """The share of examples whose most probable class is the label."""
    return float(np.mean(np.argmax(probabilities, axis=-1) == y))


def report(found: dict[str, Any]) -> str:
    """The averages as a Markdown table of validation accuracies (the only kind `averaged` computes).

    Examples:
        >>> print(report({"validation": 2, "runs": [{"run": "a", "plain": 0.5, "flip": 1.0, "shifts": 0.5,
        ...     "shifts+flip": 1.0}], "pairs": [], "median": {"plain": 0.5, "flip": 1.0, "shifts": 0.5,
        ...     "shifts+flip": 1.0}}).splitlines()[4])
        | a | 0.5000 | 1.0000 | 0.5000 | 1.0000 |
    """
    lines = [
        f"Validation accuracy ({found['validation']:,} images) of each net alone and averaged over test-time views; "
        "then pairs of nets averaged:",
        "",
        "| run | alone | + flip | + 1-pixel shifts | + shifts and flip |",
        "|---|---|---|---|---|",
    ]
    for row in [*found["runs"], {"run": "**median**", **found["median"]}]:
        lines.append(f"| {row['run']} | " + " | ".join(f"{row[name]:.4f}" for name in AVERAGES) + " |")
    if found["pairs"]:
        lines += ["", "| pair of nets | averaged |", "|---|---|"]
        lines += [f"| {' + '.join(pair['runs'])} | {pair['accuracy']:.4f} |" for pair in found["pairs"]]
        lines.append(f"| **median** | {found['median']['pair']:.4f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - `python -m zoo.experiments.averaging RUN... [--out DIR]`
    import argparse

    from zoo.experiments.probe import selection_split
    from zoo.recipes.recipe import get_recipe

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="finished run folders of one recipe's probe")
    parser.add_argument("--recipe", required=True, help="the recipe whose selection split the runs trained on")
    parser.add_argument("--out", help="write <out>.json and <out>.md")
    args = parser.parse_args()
    found = averaged(args.runs, selection_split(get_recipe(args.recipe)))
    if args.out:
        write_json(f"{args.out}.json", found)  # atomically, as every results file
        write_text(f"{args.out}.md", report(found))
    print(report(found))
