"""Augmentation as Keras layers: the same few words (flip, crop, ...) on every backend.

zoo's tf.data pipelines (`zoo.training.pipelines`) apply these per batch on the host; the
accelerator experiment puts the same layers in front of the network, on the device. The layers are
plain Keras, so they run under TensorFlow, JAX or PyTorch.
"""

from __future__ import annotations

import keras

from zoo.errors import DataError
from zoo.nets.layers import RandomShift


def augmenter(
    words: list[str], amount: float = 0.1, seed: int = 0, input_shape: tuple = (28, 28, 1)
) -> keras.Sequential:
    """The augmentation layers for `words` (flip, crop, translate, rotate, zoom, erase, noise), in that order.

    Crop (random crop with padding: a whole-pixel shift per image, `zoo.nets.layers.RandomShift`),
    translate (interpolated) and zoom are +-`amount` of the image size, rotation +-`amount` x
    180 degrees, noise a Gaussian with std `amount` / 2 (pixels are in [0, 1]); erase blanks a
    random rectangle in half of the images. Flips are horizontal only: a garment upside down is
    not a garment. Inputs that are not images (`input_shape` not (height, width, channels))
    allow only noise.

    Examples:
        >>> [type(layer).__name__ for layer in augmenter(["flip", "noise"]).layers]
        ['RandomFlip', 'GaussianNoise']
    """
    makers = {
        "flip": lambda: keras.layers.RandomFlip("horizontal", seed=seed),
        "crop": lambda: RandomShift(max(1, round(amount * min(input_shape[:2]))), seed=seed + 6),
        "translate": lambda: keras.layers.RandomTranslation(amount, amount, fill_mode="constant", seed=seed + 1),
        "rotate": lambda: keras.layers.RandomRotation(amount / 2, fill_mode="constant", seed=seed + 2),
        "zoom": lambda: keras.layers.RandomZoom(amount, fill_mode="constant", seed=seed + 3),
        # Zhong et al. 2017: a random rectangle (2% to 33% of the image) set to noise, in pixel range [0, 1].
        "erase": lambda: keras.layers.RandomErasing(factor=0.5, value_range=(0, 1), seed=seed + 5),
        "noise": lambda: keras.layers.GaussianNoise(amount / 2, seed=seed + 4),
    }
    unknown = [word for word in words if word not in makers]
    if unknown:
        raise DataError(
            f"regularization.augment = {words!r}: {unknown[0]!r} is not allowed; allowed: {', '.join(makers)}"
        )
    if len(input_shape) != 3 and set(words) - {"noise"}:
        raise DataError(f"regularization.augment = {words!r}: inputs are not images, so only 'noise' is allowed")
    return keras.Sequential([makers[word]() for word in makers if word in words], name="augment")
