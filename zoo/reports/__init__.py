"""Records and pictures: atomic JSON/Markdown writes, run folders and version stamps, report tables,
figures and a quiet console. The bottom layer: it knows nothing about recipes, nets or data, so
every other layer may record its results through it."""
