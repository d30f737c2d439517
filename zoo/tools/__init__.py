"""Tools built on training: `bench` (recipe against its baseline), `tune`, `lr_find`, `diagnose`,
and Monte Carlo dropout predictions."""
