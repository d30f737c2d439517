"""The README and the committed benchmarks stay true to the code and to the results files."""

import json
import re
from pathlib import Path

import pytest

from zoo.recipes.keys import SCHEMA, key_table
from zoo.reports.report import HEADLINE_END, HEADLINE_START, headline_rows

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
# The README is the front door; the longer material (and the numbers it quotes) lives in docs/.
DOCS = README + "".join(path.read_text() for path in sorted((REPO / "docs").rglob("*.md")))
RESULTS = REPO / "benchmarks" / "results"


def _is_bench(path):
    """Recipe benchmarks carry a schema version; the experiments (vanishing, transfer, ...) do not."""
    return "schema_version" in json.loads(path.read_text())


BENCH_RESULTS = [path for path in sorted(RESULTS.glob("*/results.json")) if _is_bench(path)]


def test_the_key_reference_documents_every_recipe_key():
    table = key_table()
    for section, fields in SCHEMA.items():
        for key in fields:
            name = f"{section}.{key}" if section else key
            assert f"| `{name}` |" in table, f"the key reference lacks {name}"
    assert (REPO / "docs" / "gen_pages.py").read_text().count("key_table()") == 1, "the docs page is the table"


def test_readme_is_a_front_door():
    lines = README.splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; longer material belongs in docs/"
    first = "\n".join(lines[:60])
    assert "pip install ." in first and "--data" in first, "install and a --data command on the first screen"
    for link in re.findall(r"\]\(((?:docs|benchmarks)/[^)#]+)", README):
        assert (REPO / link).is_file(), f"README links to {link}, which does not exist"
    assert (REPO / "CHANGELOG.md").is_file() and (REPO / "mkdocs.yml").is_file()


def test_readme_starts_with_the_two_commands():
    commands = re.findall(r"^bash scripts/(\w+)\.sh", README, flags=re.M)
    assert commands[:2] == ["main", "test"]
    assert (REPO / "scripts" / "main.sh").is_file() and (REPO / "scripts" / "test.sh").is_file()
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text()


def test_docs_links_land_inside_the_site():
    """Every relative link of a docs page names a page of the built site: another docs page, a generated
    reference page, or a committed result that docs/gen_pages.py mirrors under benchmarks/ (not ../benchmarks/)."""
    for page in (REPO / "docs").glob("*.md"):
        for link in re.findall(r"\]\(([^)#\s]+)", page.read_text()):
            if re.match(r"[a-z]+:", link):  # https:, mailto:
                continue
            inside = (REPO / "docs" / link).resolve()
            mirrored = link.startswith("benchmarks/") and (REPO / link).exists()
            generated = link.startswith("reference/") or link == "benchmarks/results/index.md"  # docs/gen_pages.py
            assert mirrored or generated or (inside.exists() and (REPO / "docs") in inside.parents), (
                f"docs/{page.name} links to {link}, which the built site does not hold"
            )


def _headline_rows():
    """README rows '| [recipe](...) | 0.9012 (0.9000-0.9030) | 0.8800 (...) | ...'."""
    pattern = re.compile(
        r"^\| \[(\w+)\]\(benchmarks/results/\w+/report\.md\) \| ([0-9.]+) \([^)]*\) \| ([0-9.]+) ", re.M
    )
    return {name: (float(recipe), float(baseline)) for name, recipe, baseline in pattern.findall(README)}


def test_readme_headline_numbers_come_from_results_json():
    rows = _headline_rows()
    committed = sorted(path.parent.name for path in BENCH_RESULTS)
    assert sorted(rows) == committed, "README's headline table and benchmarks/results/ name different recipes"
    for name, (recipe_accuracy, baseline_accuracy) in rows.items():
        summary = json.loads((RESULTS / name / "results.json").read_text())["summary"]
        assert recipe_accuracy == round(summary["recipe"]["test_accuracy"]["median"], 4), name
        assert baseline_accuracy == round(summary["baseline"]["test_accuracy"]["median"], 4), name


def test_readme_headline_rows_are_the_generated_ones():
    block = README.split(HEADLINE_START, 1)[1].split(HEADLINE_END, 1)[0]
    assert block.strip().splitlines() == headline_rows(RESULTS), "run `zoo bench --all`, or write_headline()"


@pytest.mark.parametrize("results_file", BENCH_RESULTS, ids=lambda p: p.parent.name)
def test_committed_results_have_the_promised_shape(results_file):
    results = json.loads(results_file.read_text())
    folder = results_file.parent
    assert (folder / "report.md").is_file() and (folder / "curves.png").is_file()
    assert results["recipe"] == folder.name and results["schema_version"] == 1
    assert {g["learning_rate"] for g in results["baseline_grid"]} == set(
        results["resolved_recipe"]["baseline"]["learning_rates"]
    )
    best = max(results["baseline_grid"], key=lambda g: g["best_val_accuracy"])
    assert results["baseline_learning_rate"] == best["learning_rate"], "the baseline rate is picked on validation"
    for variant, summary in results["summary"].items():
        runs = [run for run in results["runs"] if run["variant"] == variant]
        assert len(runs) == len(results["seeds"]) == summary["test_accuracy"]["n"]
        for run in runs:
            assert 0 <= run["test_accuracy"] <= 1 and len(run["history"]["val_accuracy"]) == run["epochs_run"]
    assert {"keras", "tensorflow", "zoo"} <= set(results["versions"])


def _experiment(name):
    path = RESULTS / name / "results.json"
    if not path.is_file():
        pytest.skip(f"{name} experiment not committed yet")
    return json.loads(path.read_text())


def test_vanishing_experiment_shows_what_the_report_says():
    runs = {run["label"]: run for run in _experiment("vanishing")["runs"]}
    for depth in (2, 3, 4):
        sigmoid, default = runs[f"{depth}x30-baseline"], runs[f"{depth}x30-default"]
        speeds = sigmoid["speeds"][0]["bias_grad_norm"]
        assert len(speeds) == depth and all(a < b for a, b in zip(speeds, speeds[1:])), "earlier layers learn slower"
        assert len(sigmoid["speeds"]) == _experiment("vanishing")["epochs"] + 1
        spread = default["speeds"][0]["bias_grad_norm"]
        assert max(spread) / min(spread) < speeds[-1] / speeds[0], "the default stack keeps layers closer together"
    deep = runs["20x100-baseline"]
    assert deep["speeds"][0]["first_last_ratio"] < 1e-6 and deep["gradient_warning"]
    assert runs["20x100-default"]["gradient_warning"] is None
    assert runs["20x100-default"]["test_accuracy"] > deep["test_accuracy"] + 0.5


def test_exploding_experiment_shows_clipping_keeps_training_stable():
    runs = {run["label"]: run for run in _experiment("exploding")["runs"]}
    assert runs["no-clipping"]["diverged"] and not runs["clipnorm-1.0"]["diverged"]
    assert runs["clipnorm-1.0"]["test_accuracy"] > 0.5


def test_transfer_experiment_matches_the_readme():
    results = _experiment("transfer")
    assert len(results["runs"]) >= 5 and results["train_size"] == 200 and len(results["held_out_classes"]) == 2
    scratch = results["summary"]["scratch_test_accuracy"]["mean"]
    reused = results["summary"]["reused_test_accuracy"]["mean"]
    assert f"{scratch:.4f} from scratch" in DOCS and f"{reused:.4f} reusing A" in DOCS


def test_pretrain_experiment_matches_its_report_and_the_readme():
    results = _experiment("pretrain")
    assert len(results["seeds"]) >= 3 and list(results["summary"]) == ["random", "rbm", "dae", "default"]
    for variant, summary in results["summary"].items():
        runs = [run for run in results["runs"] if run["variant"] == variant]
        assert len(runs) == len(results["seeds"]), variant
        assert summary["test_accuracy"]["mean"] == pytest.approx(sum(r["test_accuracy"] for r in runs) / len(runs))
        # Wall time counts pretraining: only the pretrained variants spend any.
        assert all((run["pretrain_seconds"] > 0) == (variant in ("rbm", "dae")) for run in runs)
    for variant, grid in results["grids"].items():
        picked = max(grid, key=lambda g: g["best_val_accuracy"])["learning_rate"]
        assert results["summary"][variant]["learning_rate"] == picked, "SGD rates are picked on validation"
    folder = RESULTS / "pretrain"
    assert all((folder / name).is_file() for name in ("report.md", "curves.png", "rbm-filters.png", "dae-filters.png"))
    report = (folder / "report.md").read_text()
    for summary in results["summary"].values():
        assert f"| {summary['label']} |" in report and f"{summary['test_accuracy']['mean']:.4f}" in report
        assert f"{summary['test_accuracy']['mean']:.4f}" in DOCS, "README quotes every variant's mean"


@pytest.mark.parametrize("results_file", BENCH_RESULTS, ids=lambda p: p.parent.name)
def test_committed_results_were_made_with_the_shipped_recipe(results_file):
    """A recipe edited after its benchmark must be benchmarked again: the numbers belong to the file."""
    from zoo.recipes.catalog import get_dataset_info
    from zoo.recipes.recipe import get_recipe

    committed = json.loads(results_file.read_text())["resolved_recipe"]
    current = get_recipe(committed["name"]).to_dict()
    if current["task"] == "auto":  # a benchmark records the task its data resolved "auto" to
        current["task"] = get_dataset_info(current["dataset"]).task
    # A floor of passes is read only with a step budget (zoo.recipes.budget.sized): without one it trains nothing.
    inert = {"min_epochs"} if committed["train"].get("steps", 0) == current["train"]["steps"] == 0 else set()
    for key, value in committed.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                if key == "train" and inner in inert:
                    continue
                assert current[key][inner] == inner_value, f"{key}.{inner} changed since the benchmark"
        else:
            assert current[key] == value, f"{key} changed since the benchmark"


def test_every_shipped_model_verifies_and_loads():
    from zoo.hub.saved import list_pretrained, load_pretrained, verify

    names = list_pretrained(REPO / "saved_models")
    assert names, "saved_models/ ships no model"
    for name in names:
        card = verify(name, REPO / "saved_models")
        model = load_pretrained(name, root=REPO / "saved_models")
        assert model.count_params() == card["params"] and card["recipe"]["name"] == name
    total = sum(path.stat().st_size for path in (REPO / "saved_models").rglob("*") if path.is_file())
    assert total < 20 * 2**20, "keep saved_models/ under 20 MB"


def test_committed_levers_pick_by_the_margin_on_validation_and_quote_each_recipe():
    from zoo.experiments.levers import MARGIN, RECIPES, STACKS

    results = _experiment("levers")
    report = (RESULTS / "levers" / "report.md").read_text()
    assert results["recipes"], "at least one recipe's stacks were probed"
    for row in results["recipes"]:
        assert row["recipe"] in RECIPES and list(row["rows"]) == list(STACKS)
        assert "test" not in json.dumps(row["rows"]), "the probe never computed a test number"
        for label, probed in row["rows"].items():
            assert [run["seed"] for run in probed["runs"]] == row["seeds"] == [0, 1, 2], label
        own, modern = (row["rows"][label][row["read"]] for label in STACKS)
        assert (row["own"], row["modern"]) == (own, modern)
        assert row["picked"] == ("modern stack" if modern > own + MARGIN else "the recipe's stack")
        assert f"| [{row['recipe']}]({row['recipe']}/report.md) | {row['stack']} | {own:.4f} | {modern:.4f} |" in report
        assert row["trained_at"] and not row["trained_at"]["uncommitted_changes"], "trained on a clean commit"


def test_committed_tabular_benchmark_has_every_table_and_model_and_the_readme_quotes_it():
    results = json.loads((REPO / "benchmarks" / "results" / "tabular" / "results.json").read_text())
    from zoo.experiments.tabular import MODELS, TABLES

    assert [row["table"] for row in results["tables"]] == list(TABLES)
    for row in results["tables"]:
        assert row["task"] == TABLES[row["table"]][1] and set(row["models"]) == set(MODELS)
        medians = [f"{row['models'][key]['test_score']['median']:.4f}" for key in MODELS]
        assert f"| {row['table']} ({row['sizes']['train']}) | " + " | ".join(medians) + " |" in DOCS
        for scores in row["models"].values():
            assert scores["test_score"]["n"] == len(results["seeds"]) == 3
    current = __import__("zoo").get_recipe("tabular").to_dict()
    for key, value in results["recipe"].items():  # keys added since then are absent from the file
        committed = value.items() if isinstance(value, dict) else [(None, value)]
        for inner, inner_value in committed:
            assert (current[key] if inner is None else current[key][inner]) == inner_value, (
                f"{key}.{inner} changed: re-run it"
            )


def test_committed_tuning_experiment_starts_from_the_recipe_and_the_readme_quotes_it():
    results = json.loads((REPO / "benchmarks" / "results" / "tuning" / "results.json").read_text())
    assert "fashion_mlp" in [row["recipe"] for row in results["recipes"]]
    for row in results["recipes"]:  # in the order they were run: a run given some recipes keeps the others' rows
        assert len(row["trials"]) == results["trials"], row["recipe"]
        assert row["trials"][0]["is_recipe"], "trial 1 is the recipe's own configuration"
        for variant in ("default", "tuned"):
            spread = row["test_accuracy"][variant]
            assert spread["n"] == len(results["seeds"]) and spread["min"] <= spread["median"] <= spread["max"]
            assert f"{spread['median']:.4f} ({spread['min']:.4f}-{spread['max']:.4f})" in DOCS, row["recipe"]
    assert "## Is the default good enough?" in DOCS


def test_readme_time_to_accuracy_table_quotes_the_committed_leaderboard():
    from zoo.experiments.leaderboard import CONTESTANTS

    results = _experiment("leaderboard")
    for row in results["standings"]:
        line = next((line for line in DOCS.splitlines() if line.startswith(f"| {row['threshold']:.2f} |")), None)
        assert line, f"README's time-to-accuracy table lacks the {row['threshold']:.2f} row"
        cells = [cell.strip() for cell in line.strip("|").split("|")][1:]
        for contestant, cell in zip(CONTESTANTS, cells):  # the README's columns, in order
            standing = row[contestant]
            if standing is None:
                assert cell in ("not reached", "not entered"), (row["threshold"], contestant, cell)
            else:
                seconds, accuracy = f"{standing['seconds']:.0f} s", f"{standing['accuracy']:.4f}"
                assert seconds in cell and accuracy in cell, (row["threshold"], contestant, cell)


def test_the_distribute_table_in_the_docs_quotes_the_committed_results():
    from zoo.experiments.distribute import CONFIGURATIONS

    results = _experiment("distribute")
    assert list(results["rows"]) == list(CONFIGURATIONS) and results["versions"]["git"]["uncommitted_changes"] is False
    for name, row in results["rows"].items():
        assert len(results["runs"][name]) == results["rounds"]
        line = f"| {CONFIGURATIONS[name][0]} | {row['seconds']:.1f} | {row['images_per_second']:,.0f} |"
        assert line in DOCS, f"docs/devices.md lacks the committed row {line}"


def test_experiment_help_lists_every_experiment_with_a_time_its_committed_run_bears_out(capsys):
    import re

    from zoo.cli.main import main
    from zoo.experiments import ABOUT

    with pytest.raises(SystemExit):
        main(["experiment", "--help"])
    shown = capsys.readouterr().out
    folders = {"heldout": "heldout-meta-test", "estimator_checks": "estimator-checks"}
    for name, (line, typical) in ABOUT.items():
        assert f"{name}  " in shown and line in shown and f"({typical} on 2 cores)" in shown
        path = RESULTS / folders.get(name, name) / "results.json"
        numbers = re.fullmatch(r"(\d+)(?:-(\d+))? (min|s)", typical)
        if numbers is None or not path.is_file():
            continue  # a typical time in words, or no committed run to check it against
        unit = 60 if numbers[3] == "min" else 1
        low, high = int(numbers[1]) * unit, int(numbers[2] or numbers[1]) * unit
        seconds = json.loads(path.read_text())["seconds"]
        assert low / 2 <= seconds <= high * 2, f"{name}: the committed run took {seconds:.0f} s; help says {typical}"


def test_the_probes_page_reports_no_test_column():
    """The protocol: probes choose on validation, so benchmarks/probes.md shows no test accuracy to choose
    from (a shipped configuration's test accuracy is its bench's). Every table there keeps validation."""
    headers = [
        line for line in (REPO / "benchmarks" / "probes.md").read_text().splitlines() if line.startswith("| probe")
    ]
    assert headers, "probes.md has no probe tables"
    for header in headers:
        cells = [cell.strip() for cell in header.strip("|").split("|")]
        assert not any(cell.startswith("test") for cell in cells), f"a test column in probes.md: {header}"
        assert any(cell.startswith("validation") for cell in cells), f"no validation column: {header}"
