"""What zoo knows about each dataset before loading it: shape, classes, where it comes from.

Kept apart from zoo.data.builtin so that recipes and builders can check a dataset name and size a
network without importing the loaders.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import RecipeError
from zoo.recipes.schema import unknown_word_error

# The colour modes an image folder can be read in (Keras's image_dataset_from_directory's words).
COLOR_MODES = ("grayscale", "rgb", "rgba")


@dataclass(frozen=True)
class DatasetInfo:
    """Static facts about one dataset."""

    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: tuple[str, ...]
    description: str
    train_examples: int = 0  # before the validation split; sizes step-based schedules
    task: str = "classification"  # or "regression": one float target per example, num_classes 1
    numeric_features: int = 0  # a table's: its first this many encoded columns are numeric (the rest one-hot)
    target: str = ""  # a table's target column: what `zoo predict` names a regression's answers
    # A table's columns read from dates, (column, spelling) pairs: the model takes them as days since 1970-01-01.
    dates: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()  # a table's: what its reader would have the user change (`Table.notes`)


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
        "digits",
        (8, 8, 1),
        10,
        tuple(str(d) for d in range(10)),
        "scikit-learn's 1,797 8x8 handwritten digits (UCI); small enough for tests",
        1437,
    ),
}

# What `dataset = "any"` means: an architecture recipe with no data of its own; `--data` supplies it.
ANY = "any"


def list_datasets() -> list[str]:
    """The names of the built-in datasets (`zoo.load_data(name)` loads one).

    Examples:
        >>> list_datasets()
        ['digits', 'fashion_mnist']
    """
    return sorted(DATASETS)


def get_dataset_info(name: str) -> DatasetInfo:
    """Facts about the dataset `name`; an unknown name lists the known ones.

    Examples:
        >>> get_dataset_info("fashion_mnist").input_shape
        (28, 28, 1)
    """
    if name == ANY:
        raise RecipeError(
            'dataset = "any": this recipe has no data of its own; pass --data (or data= in the API), '
            "e.g. --data table.csv --target price, --data images/, --data arrays.npz, --data tfds:mnist"
        )
    if name not in DATASETS:
        raise unknown_word_error("dataset", name, (*DATASETS, ANY))
    return DATASETS[name]


def data_fits(dataset: str, kind: str) -> str:
    """What data a recipe trains on: its own dataset, or for `dataset = "any"` the kinds of --data
    its model `kind` fits (conv nets need images; dense and recurrent nets take anything).

    Examples:
        >>> data_fits("fashion_mnist", "mlp"), data_fits("any", "mlp"), data_fits("any", "cnn")
        ('fashion_mnist', 'any: images, tables, arrays', 'any: images')
    """
    if dataset != ANY:
        return dataset
    return "any: images" if kind in ("cnn", "resnet") else "any: images, tables, arrays"
