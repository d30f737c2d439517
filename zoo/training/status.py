"""How a finished run went: ok, diverged or stuck at chance, with the likely remedy in words."""

from __future__ import annotations

import math

# A loss this many times that of a uniform guess (ln of the class count) has blown up.
EXPLODED_LOSS_FACTOR = 5.0
# Best validation accuracy within this of 1 / classes is chance: the run learned nothing.
CHANCE_MARGIN = 0.02


def training_status(
    history: dict[str, list[float]], num_classes: int, task: str = "classification"
) -> tuple[str, str | None]:
    """("ok", None), or ("diverged" | "chance", what happened and the likely remedy).

    Diverged: a training loss that is NaN or infinite, or (classification) above
    `EXPLODED_LOSS_FACTOR` times ln(num_classes), the loss of guessing uniformly. Chance: the
    best validation accuracy stays within `CHANCE_MARGIN` of 1 / num_classes; for regression,
    the best validation R^2 stays within `CHANCE_MARGIN` of 0, predicting the mean.

    Examples:
        >>> training_status({"loss": [2.3, 4.7e11], "val_accuracy": [0.1, 0.1]}, 10)[0]
        'diverged'
        >>> training_status({"loss": [0.6, 0.4], "val_accuracy": [0.8, 0.85]}, 10)
        ('ok', None)
        >>> training_status({"loss": [1.0, 0.99], "val_r2": [-0.1, 0.01]}, 1, "regression")[0]
        'chance'
    """
    losses = history.get("loss", [])
    if task == "regression":
        return _regression_status(losses, history.get("val_r2", []))
    limit = EXPLODED_LOSS_FACTOR * math.log(num_classes)
    worst = next((v for v in losses if not math.isfinite(v) or v > limit), None)
    if worst is not None:
        return "diverged", (
            f"the training loss reached {worst:.3g} (a uniform guess scores {math.log(num_classes):.3g}); "
            "lower train.learning_rate, set train.clipnorm = 1.0, or use the default stack"
        )
    accuracy = [v for v in history.get("val_accuracy", []) if math.isfinite(v)]
    if accuracy and max(accuracy) <= 1 / num_classes + CHANCE_MARGIN:
        return "chance", (
            f"the best validation accuracy, {max(accuracy):.4f}, is chance for {num_classes} classes; "
            "the net learned nothing: vanishing gradients or a learning rate far off. Try the default "
            "stack (He init, BatchNorm, ELU), another train.learning_rate, or fewer layers"
        )
    return "ok", None


def _regression_status(losses: list[float], r2: list[float]) -> tuple[str, str | None]:
    worst = next((v for v in losses if not math.isfinite(v)), None)
    if worst is not None:
        return "diverged", (
            f"the training loss reached {worst}; lower train.learning_rate, set train.clipnorm = 1.0, "
            "or use the default stack"
        )
    r2 = [v for v in r2 if math.isfinite(v)]
    if r2 and max(r2) <= CHANCE_MARGIN:
        return "chance", (
            f"the best validation R^2, {max(r2):.4f}, is no better than predicting the mean; the net "
            "learned nothing: try the default stack, another train.learning_rate, or fewer layers"
        )
    return "ok", None
