"""Where zoo's shipped files live, in a source checkout and in an installed wheel.

The wheel carries `recipes/`, `saved_models/` and the held-out suite's `benchmarks/heldout/` inside
the package, under `zoo/_shipped/` (pyproject's force-include; apart from the `zoo.recipes` code
package); a source checkout or editable install keeps them where they sit in the repository.
"""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


# Where each shipped folder sits in a source checkout (the wheel puts each under zoo/_shipped/<name>).
_CHECKOUT = {"recipes": "recipes", "saved_models": "saved_models", "heldout": "benchmarks/heldout"}


def shipped_dir(name: str) -> Path:
    """Return the folder `name` ("recipes", "saved_models" or "heldout") that ships with zoo.

    Examples:
        >>> shipped_dir("recipes").name
        'recipes'
    """
    for candidate in (_PACKAGE_DIR / "_shipped" / name, _PACKAGE_DIR.parent / _CHECKOUT.get(name, name)):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"zoo's {name}/ folder is missing: looked in {_PACKAGE_DIR / '_shipped' / name} and "
        f"{_PACKAGE_DIR.parent / _CHECKOUT.get(name, name)}. Reinstall zoo (pip install .) from a full checkout."
    )
