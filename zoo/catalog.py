"""What zoo knows about each dataset before loading it: shape, classes, where it comes from.

Kept apart from zoo.data so that recipes and builders can check a dataset name and size a
network without importing the loaders.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo.schema import unknown_word_error


@dataclass(frozen=True)
class DatasetInfo:
    """Static facts about one dataset."""

    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: tuple[str, ...]
    description: str
    train_examples: int = 0  # before the validation split; sizes step-based schedules


DATASETS: dict[str, DatasetInfo] = {
    "fashion_mnist": DatasetInfo(
        "fashion_mnist",
        (28, 28, 1),
        10,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        "Zalando's 70,000 28x28 grey clothing images (60,000 train, 10,000 test)",
        60000,
    ),
    "digits": DatasetInfo(
        "digits", (8, 8, 1), 10, tuple(str(d) for d in range(10)),
        "scikit-learn's 1,797 8x8 handwritten digits (UCI); small enough for tests",
        1437,
    ),
}


def dataset_info(name: str) -> DatasetInfo:
    """Facts about the dataset `name`; an unknown name lists the known ones.

    Example:
        >>> dataset_info("fashion_mnist").input_shape
        (28, 28, 1)
    """
    if name not in DATASETS:
        raise unknown_word_error("dataset", name, tuple(DATASETS))
    return DATASETS[name]
