"""zoo's own data in TensorBoard: the recipe's keys as hparams, the test metrics, per-layer diagnostics.

Keras's TensorBoard callback writes the loss, score and learning rate per epoch (``train/`` and
``validation/``). A run folder's ``tensorboard/`` gains, from here:

* the recipe's keys through the hparams plugin, with the run's test metrics and best validation
  score as its metrics, so runs (and `zoo tune`'s trials) compare in the HPARAMS tab;
* ``test/<metric>`` scalars at the last epoch;
* ``diagnostics/``: per hidden layer, the gradient norm, update ratio and activation statistics
  as scalars, and the weight gradient as a histogram, at initialization and after each epoch
  (`zoo.training.diagnostics.GradientDiagnostics`); with ``zoo diagnose --snr``, the gradient's
  signal-to-noise ratio too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tensorboard.plugins.histogram.summary_v2 import histogram_pb

from zoo.recipes.recipe import Recipe


def hparams(recipe: Recipe) -> dict[str, Any]:
    """The recipe's keys, flat ("train.learning_rate"), as the hparams plugin takes them: lists become text.

    Examples:
        >>> import zoo
        >>> values = hparams(zoo.get_recipe("fashion_mlp"))
        >>> values["train.batch_size"], values["model.hidden"]
        (128, '[1024, 1024]')
    """
    flat: dict[str, Any] = {}
    for section, value in recipe.to_dict().items():
        if not isinstance(value, dict):
            flat[section] = value
            continue
        for key, item in value.items():
            flat[f"{section}.{key}"] = item
    return _plain(flat)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """The plugin takes booleans, numbers and text: anything else (a list of widths) as its text."""
    return {key: value if isinstance(value, (bool, int, float, str)) else str(value) for key, value in values.items()}


def write_run_summary(
    logdir: str | Path, values: dict[str, Any], metrics: dict[str, float | None], step: int, trial: str | None = None
) -> None:
    """Write `values` (recipe keys) as the run's hparams and each metric as a scalar at `step`, into `logdir`.

    Examples:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> write_run_summary(folder, {"train.learning_rate": 0.001}, {"test/accuracy": 0.91}, step=3)
        >>> len(list(folder.glob("events.out.tfevents.*")))
        1
    """
    from tensorboard.plugins.hparams import api as hp  # TensorBoard's own plugin; tensorboard is a dependency

    with tf.summary.create_file_writer(str(logdir)).as_default(step=step):
        hp.hparams(_plain(values), trial_id=trial)
        for name, value in metrics.items():
            if value is not None and np.isfinite(value):
                tf.summary.scalar(name, value)


def write_layers(writer, step: int, rows: list[dict[str, Any]], keys: tuple[str, ...]) -> None:
    """Per layer row: each of `keys` as a scalar ("dense_1/weight_grad_norm"), and its weight gradient as a
    histogram when the row holds it (``weight_grad``). `writer` is a `tf.summary` writer, kept open by a caller
    that writes many steps (each writer opened makes an event file of its own, and opening one cost 40 ms of a
    small net's 160 ms record), or a folder for one writer for this step alone."""
    if not isinstance(writer, tf.summary.SummaryWriter):
        writer = tf.summary.create_file_writer(str(writer))
    with writer.as_default(step=step):
        for row in rows:
            for key in keys:
                if row.get(key) is not None:
                    tf.summary.scalar(f"{row['name']}/{key}", row[key])
            if row.get("weight_grad") is not None:  # TensorBoard's summary built in numpy: 3 ms, tf.summary's 9 ms
                summary = histogram_pb(f"{row['name']}/weight_grad", np.asarray(row["weight_grad"]))
                tf.summary.experimental.write_raw_pb(summary.SerializeToString(), step=step)
    writer.flush()  # what an interrupted run recorded stays readable
