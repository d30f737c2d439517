"""The time-to-accuracy rule every board shares, and the Keras user's first convnet it is run against.

TensorFlow-free (the accelerator machine has none), and Keras-free until the convnet is built: the CPU
leaderboard (`zoo.experiments.leaderboard`) and the accelerator board (`zoo.experiments.accelerator`) import it.
"""

from __future__ import annotations

from typing import Any

THRESHOLDS = (0.90, 0.92, 0.93, 0.94)
# fashion_cnn_tiny's net before validation picked a cheaper epoch (benchmarks/results/selection, round five):
# pooled after BatchNorm and ELU, 128 dense units, BatchNorm's statistics started from zero, the default stack (ELU,
# Adam: the recipe took the modern stack later, on validation). The board entries that trained it spell it out, so
# that their committed runs still say what trained.
DEFAULT_STACK = {"stack.name": "default"}
TINY_POOLED_LAST = {"model.pool_first": False, "model.hidden": [128], "train.bn_start": False, **DEFAULT_STACK}


def keras_example_convnet(input_shape=(28, 28, 1), num_classes: int = 10):
    """keras.io's "Simple MNIST convnet", layer for layer, compiled with Keras defaults.

    Examples:
        >>> keras_example_convnet().count_params()
        34826
    """
    import keras  # here, not at the top: the accelerator board picks its Keras backend first

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def standings(summary: list[dict[str, Any]], thresholds=THRESHOLDS) -> list[dict[str, Any]]:
    """Per threshold, each contestant's fastest entry whose median accuracy clears it (None if none does).

    Examples:
        >>> rows = [{"contestant": "zoo", "label": "a", "accuracy": 0.93, "seconds": 100.0},
        ...         {"contestant": "zoo", "label": "b", "accuracy": 0.91, "seconds": 30.0},
        ...         {"contestant": "keras", "label": "c", "accuracy": 0.905, "seconds": 60.0}]
        >>> [(row["threshold"], row["zoo"]["label"], row["keras"]) for row in standings(rows, (0.9, 0.92))]
        [(0.9, 'b', {'label': 'c', 'seconds': 60.0, 'accuracy': 0.905}), (0.92, 'a', None)]
    """
    table = []
    for threshold in thresholds:
        row: dict[str, Any] = {"threshold": threshold}
        for contestant in dict.fromkeys(entry["contestant"] for entry in summary):
            # Accuracies are counts over the test set held in float32 (9,000/10,000 reads 0.89999998):
            # compared at 4 decimals, the precision of a 10,000-image test set.
            reached = [e for e in summary if e["contestant"] == contestant and round(e["accuracy"], 4) >= threshold]
            best = min(reached, key=lambda e: e["seconds"], default=None)
            row[contestant] = {key: best[key] for key in ("label", "seconds", "accuracy")} if best else None
        table.append(row)
    return table


def standing_rows(
    table: list[dict[str, Any]], columns: list[str], decimals: int = 0, header: list[str] | None = None
) -> list[str]:
    """Markdown rows of `standings`' output: per threshold, each column's fastest entry, or "-" where none clears;
    under a header of `header` (the columns' own names by default).

    Examples:
        >>> table = [{"threshold": 0.9, "keras float32": {"label": "tiny", "seconds": 12.7, "accuracy": 0.9035},
        ...           "torch float32": None}]
        >>> standing_rows(table, ["keras float32", "torch float32"], decimals=1)[2:]
        ['| 0.90 | 12.7 s (tiny, 0.9035) | - |']
    """
    rows = ["| test accuracy | " + " | ".join(header or columns) + " |", "|---|" + "---|" * len(columns)]
    for row in table:
        cells = [
            f"{row[c]['seconds']:.{decimals}f} s ({row[c]['label']}, {row[c]['accuracy']:.4f})" if row.get(c) else "-"
            for c in columns
        ]
        rows.append(f"| {row['threshold']:.2f} | " + " | ".join(cells) + " |")
    return rows
