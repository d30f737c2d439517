"""Batch normalization for conv nets through TensorFlow's fused kernel.

Keras 3 normalizes with separate ops (moments, then `tf.nn.batch_normalization`), where Keras 2
had `fused=True`. On a CPU that costs conv nets real time: the fashion_cnn training step, measured
in one process each on 2 cores (batch 128, 32 steps per call), runs at about 1,090 images/s with
Keras's layer, 1,300 with the fused kernel (FusedBatchNormV3), 1,545 with no normalization at all.
`BatchNorm` is Keras's `BatchNormalization` (same weights, same arithmetic, same saved files)
that takes the fused kernel where it applies: the TensorFlow backend, 4-D channels-last inputs,
no mask, no renormalization, no synchronized statistics, epsilon at least 1.001e-5 (the kernel's
floor). Everywhere else it is Keras's layer.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class BatchNorm(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` through TensorFlow's fused kernel for 4-D channels-last inputs.

    The moving statistics follow Keras's rule (moving = momentum x moving + (1 - momentum) x
    batch, with the biased batch variance), so the two layers are interchangeable: same
    weights, same outputs up to float rounding, same training behaviour.

    Examples:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(2.0, 3.0, (8, 4, 4, 3)).astype("float32")
        >>> y = np.asarray(BatchNorm()(x, training=True))
        >>> round(float(y.mean()), 4) + 0.0, round(float(y.std()), 3)
        (0.0, 1.0)
    """

    def _fuses(self, inputs, mask) -> bool:
        # The fused kernel raises any epsilon below 1.001e-5 to that value; smaller ones stay exact on Keras's path.
        return (
            keras.backend.backend() == "tensorflow"
            and len(inputs.shape) == 4
            and mask is None
            and self.axis in (-1, 3)
            and not self.renorm
            and not self.synchronized
            and self.epsilon >= 1.001e-5
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fuses(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf  # only reached on the TensorFlow backend

        # Like Keras, normalize in float32 even when the layer computes in (b)float16.
        x = ops.cast(inputs, "float32")
        channels = x.shape[-1]
        gamma = self.gamma if self.scale else tf.ones([channels])
        beta = self.beta if self.center else tf.zeros([channels])
        if training and self.trainable:
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                x, gamma, beta, epsilon=self.epsilon, data_format="NHWC", is_training=True
            )
            # The kernel reports the unbiased (n - 1) variance; Keras keeps the biased one.
            count = tf.cast(tf.size(x) // channels, "float32")
            variance = variance * (count - 1.0) / count
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        else:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x,
                gamma,
                beta,
                mean=self.moving_mean,
                variance=self.moving_variance,
                epsilon=self.epsilon,
                data_format="NHWC",
                is_training=False,
            )
        return ops.cast(y, inputs.dtype)
