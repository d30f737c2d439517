"""Model cards: a saved model's `card.json`, and the same facts as a `README.md` a model hub reads.

The README starts with Hugging Face model-card metadata (YAML: library, license, datasets, metrics,
tags, class names, input scale) and says in prose what the model takes and returns, how well it did
on held-out test data, what it is for and where it stops, and how to load it, so that a saved
model's folder is what `huggingface_hub` would upload.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import yaml

from zoo.errors import DataError, RunError
from zoo.recipes.catalog import DATASETS
from zoo.recipes.recipe import get_recipe

LICENSE = "apache-2.0"  # zoo's own; the weights are zoo's output, the data's licence is the data's


def run_card(run_dir: str | Path, name: str | None = None) -> dict[str, Any]:
    """The card of a finished `zoo train` run folder: recipe, data and split, test metrics, classes, input, versions.
    A run that did not finish, diverged or scored NaN has none (a RunError or DataError says why)."""
    run_dir = Path(run_dir)
    metrics_path = run_dir / "metrics.json"
    if not metrics_path.is_file():
        raise DataError(f"{run_dir} holds no finished run (no metrics.json); train it to the end first")
    metrics = json.loads(metrics_path.read_text())
    score = "test_score" if "test_score" in metrics else "test_accuracy"  # R^2 for regression runs
    if metrics.get("status", "ok") != "ok" or not all(
        math.isfinite(metrics.get(k) or math.nan) for k in ("test_loss", score)
    ):
        raise RunError(
            f"{run_dir} holds a run that did not train properly (status {metrics.get('status')!r}, test loss "
            f"{metrics.get('test_loss')}); a diverged or NaN model is never shipped"
        )
    recipe = get_recipe(run_dir / "recipe.toml")
    return {
        "name": name or recipe.name,
        "recipe": recipe.to_dict(),
        "dataset": recipe.dataset,
        "data": metrics["data"],
        "split": f"validation: {recipe.validation_size} training examples held out with a fixed seed (0)",
        "test_accuracy": metrics["test_accuracy"],
        "test_loss": metrics["test_loss"],
        **({"test_score": metrics["test_score"]} if "test_score" in metrics else {}),
        "classes": metrics.get("classes"),
        "needs_zoo": metrics.get("needs_zoo", []),
        "input": metrics.get("input"),
        **({"target": metrics["target"]} if metrics.get("target") else {}),
        "params": metrics["params"],
        "epochs_run": metrics["epochs_run"],
        "train_seconds": metrics["train_seconds"],
        "seed": metrics["seed"],
        "versions": metrics["versions"],
        "date": time.strftime("%Y-%m-%d"),
    }


def describe_input(card: dict[str, Any]) -> str:
    """One line on what the model takes.

    Examples:
        >>> describe_input({"input": {"kind": "image", "shape": [28, 28, 1], "range": [0, 255]}})
        '28x28x1 images, pixel values 0-255 (the model scales them itself)'
        >>> describe_input({"input": {"kind": "table", "columns": ["colour", "weight"],
        ...                           "types": {"colour": "text", "weight": "number"}}})
        'table rows: a dict keyed by column name: colour (text), weight (number); one value per row each'
    """
    spec = card.get("input") or {}
    if spec.get("kind") == "table":
        types = spec.get("types", {})
        columns = ", ".join(f"{c} ({types[c]})" if c in types else c for c in spec["columns"])
        dates = " (a date as days since 1970-01-01; zoo predict converts dates)" if "date" in types.values() else ""
        return f"table rows: a dict keyed by column name: {columns}; one value per row each{dates}"
    shape = "x".join(str(d) for d in spec.get("shape", [])) or "arrays"
    low, high = spec.get("range", [None, None])
    if high is not None and high > 1:
        return f"{shape} images, pixel values 0-255 (the model scales them itself)"
    scale = f"values {low:g}-{high:g}" if high is not None else "values as in training"
    return f"{shape} {'images' if spec.get('kind') == 'image' else 'arrays'}, {scale}"


def card_classes(card: dict[str, Any]) -> list[str] | None:
    """The class names a card records, or, for a card saved before they were, its built-in dataset's."""
    if card.get("classes"):
        return list(card["classes"])
    info = DATASETS.get(card.get("dataset") or "")
    return list(info.class_names) if info else None


def model_card(card: dict[str, Any]) -> str:
    """README.md for a saved model: Hugging Face YAML metadata, then the card in prose.

    Examples:
        >>> text = model_card({"name": "fashion_mlp", "dataset": "fashion_mnist", "test_accuracy": 0.909,
        ...                    "recipe": {"task": "classification", "model": {"kind": "mlp"}},
        ...                    "input": {"kind": "image", "shape": [28, 28, 1], "range": [0, 1]}})
        >>> text.splitlines()[:4]
        ['---', 'library_name: keras', 'license: apache-2.0', 'tags:']
        >>> "Ankle boot" in text and "test accuracy 0.9090" in text
        True
    """
    recipe = card.get("recipe") or {}
    task = recipe.get("task", "classification")
    kind = (recipe.get("model") or {}).get("kind", "")
    pipeline = ("tabular-" if kind == "tabular" else "image-" if kind in ("cnn", "resnet") else "") + task
    classes = card_classes(card)
    metric, score = ("r2", card.get("test_score")) if task == "regression" else ("accuracy", card.get("test_accuracy"))
    meta = {
        "library_name": "keras",
        "license": card.get("license", LICENSE),
        "tags": ["zoo", f"zoo-{kind}" if kind else "zoo-model", pipeline],
        # A --data run's recipe says dataset "any": its card names the data's source instead.
        "datasets": [
            card["dataset"]
            if card.get("dataset") not in (None, "any")
            else (card.get("data") or {}).get("source", "user data")
        ],
        "metrics": [metric],
        "zoo": {"input": describe_input(card), "classes": classes, "needs_zoo": card.get("needs_zoo", [])},
    }
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).splitlines()
    lines = ["---", *front, "---", "", f"# {card.get('name', 'model')}", ""]
    return "\n".join(lines + _prose(card, kind, task, metric, score, meta["datasets"][0], classes))


def _prose(card, kind: str, task: str, metric: str, score, dataset: str, classes) -> list[str]:
    """The model card's text under its metadata: what it is, takes and returns; its use and limits; loading it."""
    recipe, data = card.get("recipe") or {}, card.get("data") or {}
    needs = card.get("needs_zoo") or []
    load = "import zoo.nets.layers  # registers " + ", ".join(needs) + "\n" if needs else ""
    result = f"test {metric} {score:.4f}" if isinstance(score, (int, float)) else "no held-out test score"
    return [
        f"A `{kind or 'zoo'}` net trained by zoo from the recipe `{recipe.get('name', '?')}` "
        f"on {dataset} ({data.get('train_size', '?')} training examples): {result} on "
        f"{data.get('test_size', '?')} held-out test examples (never trained on).",
        "",
        f"- **Input**: {describe_input(card)}.",
        f"- **Output**: {'one number' if task == 'regression' else 'class probabilities'}"
        + (f" for {', '.join(classes)} (in that order)." if classes and task != "regression" else "."),
        f"- **Parameters**: {card.get('params', '?')}; trained {card.get('epochs_run', '?')} "
        f"epoch{'' if card.get('epochs_run') == 1 else 's'} in "
        f"{card.get('train_seconds', '?')} s, seed {card.get('seed', '?')}.",
        "",
        "## Intended use and limits",
        "",
        f"Predicting {'values' if task == 'regression' else 'these classes'} for inputs like the training data "
        "(same size, scale and kind). It has not been checked for fairness, robustness to shifted data or "
        "adversarial inputs; measure it on your own data before relying on it.",
        "",
        "## Load it",
        "",
        "```python",
        f'import keras\n{load}model = keras.saving.load_model("model.keras")',
        "```",
        "",
        "`card.json` holds the full recipe, data split, versions and the commit it trained at.",
        "",
    ]
