"""The fixed-seed splits every source without its own gets: a test share first (`test_split`), then the
validation rows carved from the rest (`validation_order`). Both keep a rare class in training, so it can be
learned; every other split is a plain permutation, the same on every machine and every run.
"""

from __future__ import annotations

import numpy as np

# Share of a source without a test split that becomes its test set (fixed seed).
TEST_FRACTION = 0.2
_SPLIT_SEED = 12345


def test_split(count: int, fraction: float = TEST_FRACTION, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) positions for a source without a test split: a fixed-seed `fraction` to test.

    With `labels` (a classification's), a class whose every row fell to test gets its first one back in
    training: a rare class (one or two rows) could otherwise not be learned, and was refused. That holds for
    rare classes only, up to a tenth of the test rows: a target whose test rows are mostly classes unseen in
    training is no set of classes (prices set to task = "classification"), and its split stays as it is, for
    the check that says so. Every other split is unchanged.

    Examples:
        >>> labels = np.array(["a", "b"] * 10 + ["rare"])
        >>> train, test = test_split(21, 0.2, labels)
        >>> "rare" in labels[train], len(train) + len(test)
        (True, 21)
    """
    order = np.random.default_rng(_SPLIT_SEED).permutation(count)
    cut = round(fraction * count)
    train, test = order[cut:], order[:cut]
    if labels is not None:
        labels = np.asarray(labels)
        seen = set(labels[train].tolist())
        back = [i for i, row in enumerate(test) if labels[row] not in seen and not seen.add(labels[row])]
        if len(back) <= max(1, len(test) // 10):
            train, test = np.concatenate([train, test[back]]), np.delete(test, back)
    return train, test


def validation_order(count: int, validation_size: int = 0, labels=None) -> np.ndarray:
    """The fixed permutation `split` carves validation from: its first `validation_size` positions.

    With `labels` (a classification's), a class whose every row would go to validation keeps one in training,
    swapped with the first training row of a class that has more than one there: a rare class (a single row
    past the test split) was otherwise never trained on. That holds for up to a tenth of the validation rows,
    as `test_split` does; every other order is unchanged.

    Examples:
        >>> sorted(validation_order(5).tolist())
        [0, 1, 2, 3, 4]
        >>> labels = np.array(["a", "b"] * 10 + ["rare"])
        >>> "rare" in labels[validation_order(21, 8, labels)[8:]]
        True
    """
    order = np.random.default_rng(0).permutation(count)
    if labels is None or not validation_size:
        return order
    labels = np.asarray(labels)
    trained = dict(zip(*np.unique(labels[order[validation_size:]], return_counts=True), strict=True))
    alone = []  # the first validation position of each class with no training row
    for i in range(validation_size):
        if labels[order[i]] not in trained:
            trained[labels[order[i]]] = 0
            alone.append(i)
    if len(alone) > max(1, validation_size // 10):
        return order
    for i in alone:
        partner = next((p for p in range(validation_size, count) if trained[labels[order[p]]] > 1), None)
        if partner is None:
            break
        trained[labels[order[partner]]] -= 1
        trained[labels[order[i]]] += 1
        order[[i, partner]] = order[[partner, i]]
    return order
