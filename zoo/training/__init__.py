"""Training: `train`, the tf.data pipelines built from a recipe, the fast path, resume, devices and
workers, gradient diagnostics recorded during a run, and greedy layer-wise pretraining."""
