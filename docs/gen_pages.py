"""Pages generated at build time (mkdocs-gen-files): nothing here is written into the repository.

* reference/keys.md: every recipe key, from zoo.recipes.keys (so the table cannot drift);
* reference/api.md: every public name, its docstring and signature (mkdocstrings), package by package;
* benchmarks/: the committed results as they are (every report.md, its figures, probes.md), so the
  pages link to the numbers behind them, and one page per experiment and recipe benchmark.
"""

import sys
from pathlib import Path

import mkdocs_gen_files

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # document the checkout being built, not a zoo installed elsewhere

import zoo  # noqa: E402
from zoo.recipes.keys import key_table  # noqa: E402

with mkdocs_gen_files.open("reference/keys.md", "w") as page:
    page.write("# Recipe keys\n\nEvery key a recipe may set (`--set section.key=value` on the command line, ")
    page.write("`zoo.get_recipe(name, key=value)` in Python), generated from `zoo/recipes/keys.py`.\n\n")
    page.write(key_table())

with mkdocs_gen_files.open("reference/api.md", "w") as page:
    page.write("# API reference\n\nEvery public name is one hop from `import zoo`; each is documented where it ")
    page.write("lives, package by package in the order data flows.\n")
    packages: dict[str, list[tuple[str, str]]] = {}
    for module, names in zoo._EXPORTS.items():
        package = ".".join(module.split(".")[:2])
        packages.setdefault(package, []).extend((module, name) for name in names)
    for package, members in packages.items():
        page.write(f"\n## {package}\n")
        for module, name in members:
            page.write(f"\n::: {module}.{name}\n    options:\n      show_root_heading: true\n      heading_level: 3\n")

# The committed results, mirrored: reports, figures and the probes behind the recipes.
for path in sorted((REPO / "benchmarks").rglob("*")):
    if path.suffix in (".md", ".png", ".json") and path.is_file():
        target = Path("benchmarks") / path.relative_to(REPO / "benchmarks")
        content = path.read_bytes()
        if path.suffix == ".md":  # a report's link up to docs/protocol.md: the site serves docs/ at its root
            content = content.replace(b"../docs/", b"../")
        with mkdocs_gen_files.open(target, "wb") as copy:
            copy.write(content)
        if path.suffix == ".md":  # pages get an edit link to the committed file
            mkdocs_gen_files.set_edit_path(target, path.relative_to(REPO))

with mkdocs_gen_files.open("benchmarks/results/index.md", "w") as page:
    page.write("# Committed results\n\nOne folder per recipe benchmark and per experiment: `results.json` (the ")
    page.write("numbers, with the commit they ran at), `report.md` and its figures.\n\n")
    for folder in sorted(p for p in (REPO / "benchmarks" / "results").iterdir() if (p / "report.md").is_file()):
        page.write(f"- [{folder.name}]({folder.name}/report.md)\n")
