"""Saved models: the shipped collection (verified by sha256), saving a run into it, and transfer
learning from a saved model."""
