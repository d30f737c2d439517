"""Data in: built-in sets, your own folders, tables and arrays, and their encoders.

Everything here hands back numpy arrays in a `Splits` (train / validation / test); nothing is
batched. Batching belongs to training (`zoo.training.pipelines.batches`), which reads the batch
size, seed and augmentation from the recipe."""
