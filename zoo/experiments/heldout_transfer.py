"""Transfer on held-out images: does reusing a shipped conv model pay off with 100 or 1,000 labels?

For each image set, the first 100 and 1,000 training images (a fixed-seed draw), resized to the
shipped models' 28x28 grayscale input: the generic `cnn` trained from scratch (its adaptive
budget), against each shipped conv model fine-tuned through `zoo.hub.reuse.fine_tune` as a user
would (a new head on the frozen body, then everything at a lower rate). One seed; test accuracy
on the set's whole test split.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo.data.sources import load_data
from zoo.hub.reuse import fine_tune
from zoo.hub.saved import load_pretrained
from zoo.recipes.budget import adapted_batch
from zoo.recipes.recipe import get_recipe
from zoo.training.trainer import train

SHIPPED_CONV = ("fashion_cnn", "fashion_resnet")
SIZES = (100, 1000)
SIDE = 28


def _to_28(x: np.ndarray) -> np.ndarray:
    from PIL import Image

    if x.shape[1:] == (SIDE, SIDE, 1):
        return x
    gray = x.mean(axis=-1) if x.shape[-1] != 1 else x[..., 0]
    return np.stack(
        [np.asarray(Image.fromarray(i.astype(np.uint8)).resize((SIDE, SIDE), Image.Resampling.BILINEAR)) for i in gray]
    )[..., None]


def transfer_rows(arrays, runs_dir: Path, seed: int = 0) -> list[dict[str, Any]]:
    """One row per label budget that the set's training split can supply (leaving a tenth for validation)."""
    x, y, x_test, y_test = arrays
    x, x_test = _to_28(x), _to_28(x_test)
    order = np.random.default_rng(seed).permutation(len(y))
    rows = []
    for size in SIZES:
        if size > len(y):
            continue
        pick = order[:size]
        splits = load_data((x[pick], y[pick], x_test, y_test), validation_size=max(2, size // 10))
        models: dict[str, Any] = {}
        started = time.perf_counter()
        scratch = train(
            get_recipe("cnn", **{"train.seed": seed}), data=splits, out_dir=runs_dir / f"scratch-{size}", verbose=0
        )
        models["cnn_from_scratch"] = {
            "test": scratch.test["accuracy"],
            "seconds": round(time.perf_counter() - started, 1),
        }
        for name in SHIPPED_CONV:
            keras.utils.set_random_seed(seed)
            started = time.perf_counter()
            model, _ = fine_tune(
                load_pretrained(name), splits, batch_size=adapted_batch(32, splits.sizes["train"]), seed=seed
            )
            test = model.evaluate(*splits.arrays["test"], verbose=0, batch_size=512, return_dict=True)["accuracy"]
            models[f"{name}_fine_tuned"] = {"test": float(test), "seconds": round(time.perf_counter() - started, 1)}
        rows.append({"labels": size, "models": models})
    return rows
