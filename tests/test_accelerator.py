"""The accelerator board: its entries, the PyTorch twin's on-device shifts, a tiny real run, the committed results."""

import json
from pathlib import Path

import pytest

import zoo
from zoo.errors import RecipeError
from zoo.experiments.accelerator import ENTRIES, EXAMPLE, Entry, available, run
from zoo.experiments.standings import THRESHOLDS

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "accelerator"


def test_entries_are_the_leaderboards_zoo_budgets_in_both_frameworks():
    from zoo.experiments.leaderboard import ENTRIES as CPU_ENTRIES

    cpu = {e.recipe for e in CPU_ENTRIES if e.contestant == "zoo"}  # the same nets (budgets as when each ran)
    for framework in ("keras", "torch"):
        assert cpu <= {e.recipe for e in ENTRIES if e.framework == framework}, framework
    assert {e.precision for e in ENTRIES} == {"float32", "bfloat16"}
    assert any(e.recipe == EXAMPLE for e in ENTRIES)
    with pytest.raises(RecipeError, match="framework = 'jax' is not allowed; allowed: keras, torch"):
        Entry("jax", "x")
    with pytest.raises(RecipeError, match="precision = 'float16' is not allowed"):
        Entry("keras", "x", precision="float16")
    assert available("keras", "no_such_backend") == "Keras backend no_such_backend is not installed"


def test_the_torch_twin_shifts_each_image_by_at_most_one_pixel():
    torch = pytest.importorskip("torch")
    from zoo.experiments.torch_twin import _shifter

    recipe = zoo.get_recipe("fashion_cnn")  # augment = ["crop"], 1 pixel of 28
    images = torch.zeros(64, 1, 28, 28)
    images[:, 0, 14, 14] = 1.0
    shifted = _shifter(recipe, (28, 28, 1))(images, torch.Generator().manual_seed(0))
    assert shifted.shape == images.shape and torch.all(shifted.sum(dim=(1, 2, 3)) == 1)
    rows, cols = (shifted[:, 0] == 1).nonzero()[:, 1:].T
    assert set(rows.tolist()) == {13, 14, 15} and set(cols.tolist()) == {13, 14, 15}, "every offset drawn, none more"
    mlp = zoo.get_recipe("fashion_mlp")  # an MLP's batches stay NHWC (torch_inputs): the same shifts
    nhwc = _shifter(mlp, (28, 28, 1))(images.permute(0, 2, 3, 1), torch.Generator().manual_seed(0))
    assert torch.equal(nhwc.permute(0, 3, 1, 2).sum(dim=0), shifted.sum(dim=0)), "same draws, same offsets"
    with pytest.raises(
        RecipeError, match=r"augment = \['flip'\] has no PyTorch twin here; allowed: \[\] or \['crop'\]"
    ):
        _shifter(zoo.get_recipe("fashion_cnn", augment=["flip"]), (28, 28, 1))


@pytest.mark.slow
def test_a_tiny_board_runs_both_frameworks_in_their_own_processes(tiny_recipe_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the workers read the tiny recipe by its path
    shifts = {"regularization.augment": ["crop"], "regularization.augment_amount": 0.125}
    entries = [
        Entry("keras", "tiny", str(tiny_recipe_file), {"train.epochs": 3}),
        Entry("keras", "tiny, shifted, bf16", str(tiny_recipe_file), {"train.epochs": 3, **shifts}, "bfloat16"),
        Entry("torch", "tiny, shifted", str(tiny_recipe_file), {"train.epochs": 3, **shifts}),
    ]
    results = run(tmp_path / "out", tuple(entries), seeds=1, backend="tensorflow", commit="f" * 40)
    ran = {(e["framework"], e["precision"], e["label"]) for e in results["entries"]}
    expected = {("keras", "float32", "tiny"), ("keras", "bfloat16", "tiny, shifted, bf16")}
    if available("torch", "tensorflow"):
        assert results["skipped"] == {"torch": "PyTorch is not installed"}
    else:
        expected.add(("torch", "float32", "tiny, shifted"))
    assert ran == expected
    for entry in results["entries"]:  # digits in 3 epochs, 1-pixel shifts of 8x8 images too: above chance (0.1)
        assert entry["accuracy"] > 0.3 and entry["seconds"] > 0 and entry["seeds"] == 1, entry
    assert results["devices"]["keras"] == "cpu" and results["standings"][0]["threshold"] == 0.90
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"results.json", "report.md"}
    # A second sitting keeps seed 0's runs, each with its commit, and the seconds of both sittings (here it
    # trains nothing: no entries).
    more = run(tmp_path / "out", (), seeds=2, backend="tensorflow", commit="e" * 40, first_seed=1)
    assert [(r["seed"], r["commit"][0]) for r in more["runs"]] == [(0, "f")] * len(results["runs"])
    assert more["entries"] == results["entries"] and more["seconds"] >= results["seconds"]
    assert more["versions"]["git"]["commit"] == "e" * 40


@pytest.mark.skipif(not (RESULTS / "results.json").exists(), reason="the accelerator board has not been committed yet")
def test_committed_accelerator_board_has_the_promised_shape():
    results = json.loads((RESULTS / "results.json").read_text())
    assert results["thresholds"] == list(THRESHOLDS) and results["versions"]["git"]["commit"]
    assert {e["framework"] for e in results["entries"]} == {"keras", "torch"}
    assert {e["precision"] for e in results["entries"]} == {"float32", "bfloat16"}
    for entry in results["entries"]:
        assert entry["seeds"] >= 1 and entry["low"] <= entry["accuracy"] <= entry["high"] and entry["seconds"] > 0
    assert "GPU" in json.dumps(results["devices"]) or "H" in json.dumps(results["devices"])
    assert "Regenerate: `zoo experiment accelerator`" in (RESULTS / "report.md").read_text()


@pytest.mark.skipif(not (RESULTS / "results.json").exists(), reason="the accelerator board has not been committed yet")
def test_the_leaderboard_and_the_results_page_quote_the_committed_gpu_board():
    from zoo.experiments.leaderboard import _accelerator
    from zoo.experiments.leaderboard_report import board_report

    leaderboard = RESULTS.parent / "leaderboard"
    expected = board_report(json.loads((leaderboard / "results.json").read_text()), _accelerator(leaderboard))
    assert (leaderboard / "report.md").read_text() == expected, "regenerate: zoo.experiments.leaderboard.render()"
    page = (RESULTS.parents[2] / "docs" / "results.md").read_text()
    board = json.loads((RESULTS / "results.json").read_text())
    for row in board["standings"]:
        for column in ("keras float32", "keras bfloat16", "keras.io example", "torch float32"):
            if row[column] and row["threshold"] in (0.90, 0.93, 0.94):
                assert f"{row[column]['seconds']:.1f} s" in page, (row["threshold"], column)


@pytest.mark.slow
def test_a_device_probe_reads_validation_only_and_keeps_the_recipe_within_the_margin(tiny_recipe_file, tmp_path):
    from zoo.experiments.device_probe import MARGIN, choose, run

    runs = [
        {"recipe": "r", "label": "recipe", "validation_accuracy": 0.900},
        {"recipe": "r", "label": "wider", "validation_accuracy": 0.900 + MARGIN / 2},
        {"recipe": "r", "label": "deeper", "validation_accuracy": 0.890},
    ]
    plan = {"r": {"recipe": {}, "wider": {}, "deeper": {}}}
    assert choose(plan, runs) == {"r": "recipe"}, "within the margin the recipe stands"
    runs[1]["validation_accuracy"] = 0.900 + 2 * MARGIN
    assert choose(plan, runs) == {"r": "wider"}
    # End to end, each variant in its own process (here on TensorFlow): validation scores, and no test number.
    plan = {str(tiny_recipe_file): {"recipe": {"train.epochs": 2}, "narrow": {"train.epochs": 2, "model.hidden": [4]}}}
    results = run(plan, tmp_path / "out", seeds=1, validation_size=200, backend="tensorflow")
    assert sorted(r["label"] for r in results["runs"]) == ["narrow", "recipe"]
    assert all(0.3 < r["validation_accuracy"] <= 1 for r in results["runs"] if r["label"] == "recipe")
    assert not [key for run in results["runs"] for key in run if "test" in key], "a probe records no test number"
    assert results["chosen"][str(tiny_recipe_file)] in ("recipe", "narrow")
    assert "Validation picks: **" in (tmp_path / "out" / "report.md").read_text()
