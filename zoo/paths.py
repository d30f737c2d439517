"""Where zoo's shipped files live, in a source checkout and in an installed wheel.

The wheel carries `recipes/` and `saved_models/` inside the package, under `zoo/_shipped/`
(pyproject's force-include; apart from the `zoo.recipes` code package); a source checkout or
editable install keeps them at the top of the repository.
"""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """Return the folder `name` ("recipes" or "saved_models") that ships with zoo.

    Examples:
        >>> shipped_dir("recipes").name
        'recipes'
    """
    for candidate in (_PACKAGE_DIR / "_shipped" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"zoo's {name}/ folder is missing: looked in {_PACKAGE_DIR / '_shipped' / name} and "
        f"{_PACKAGE_DIR.parent / name}. Reinstall zoo (pip install .) from a full checkout."
    )
