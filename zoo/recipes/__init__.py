"""Recipes: the TOML schema, its keys and named stacks, `Recipe` (with `extends`), the dataset catalog and
the `[tune]` search space. Pure Python: nothing here imports TensorFlow, so reading recipes is instant."""
