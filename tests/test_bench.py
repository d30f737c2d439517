"""Benchmarks: the ablation ladder changes one thing per step; results have the promised shape."""

import json

import keras
import pytest

import zoo
from zoo.tools.bench import bench, ladder, recipe_label


def _describe(model):
    """What a built model is made of, per hidden block, plus its optimizer."""
    blocks = []
    for layer in model.layers:
        if isinstance(layer, keras.Sequential):
            dense = layer.layers[0]
            blocks.append(
                {
                    "init": type(dense.kernel_initializer).__name__,
                    "activation": next(
                        sub.get_config()["activation"]
                        for sub in layer.layers
                        if isinstance(sub, keras.layers.Activation)
                    ),
                    "batch_norm": any(isinstance(sub, keras.layers.BatchNormalization) for sub in layer.layers),
                    "dropout": any(isinstance(sub, keras.layers.Dropout) for sub in layer.layers),
                }
            )
    return {"blocks": blocks, "optimizer": type(model.optimizer).__name__}


@pytest.mark.parametrize("name, dropout", [("fashion_mlp", 0.15), ("fashion_cnn", 0.25), ("fashion_cnn", 0.0)])
def test_ladder_changes_one_component_per_step(name, dropout):
    recipe = zoo.get_recipe(name, **{"stack.dropout": dropout})
    steps = ladder(recipe, 0.1)
    built = [_describe(zoo.build(step)) for _, _, step in steps]
    first = built[0]["blocks"][0]
    assert (first["init"], first["activation"], first["batch_norm"], first["dropout"], built[0]["optimizer"]) == (
        "VarianceScaling",
        "sigmoid",
        False,
        False,
        "SGD",
    )
    changed_per_step = []
    for before, after in zip(built, built[1:]):
        changed = {key for key in before["blocks"][0] if before["blocks"][0][key] != after["blocks"][0][key]}
        if before["optimizer"] != after["optimizer"]:
            changed.add("optimizer")
        changed_per_step.append(changed)
    # A recipe without dropout gets no dropout step: it would train the batch-norm step's run again.
    dropout_step = [{"dropout"}] if dropout else []
    assert changed_per_step == [{"init", "activation"}, {"batch_norm"}, *dropout_step, {"optimizer"}]
    assert steps[-1][2] is recipe, "the top of the ladder is the recipe itself"
    assert zoo.build(steps[0][2]).count_params() == zoo.baseline(recipe, 0.1).count_params()


def test_baseline_runs_do_not_depend_on_the_recipes_augmentation():
    # The baseline trains without augmentation, so a recipe that changes only its augmentation
    # must map to the same baseline runs (zoo bench reads finished runs back by these settings).
    plain = zoo.nets.plain.baseline_recipe("fashion_cnn", 0.1)
    shifted = zoo.get_recipe(
        "fashion_cnn", **{"regularization.augment": ["crop"], "regularization.augment_amount": 0.036}
    )
    assert zoo.nets.plain.baseline_recipe(shifted, 0.1).training_dict() == plain.training_dict()


@pytest.fixture(scope="module")
def ablation_bench(tmp_path_factory, digits):
    """One 1-epoch ablation bench of the tiny recipe, shared: its schema and its read-back are checked apart."""
    from conftest import TINY_RECIPE

    folder = tmp_path_factory.mktemp("bench")
    recipe = folder / "tiny_digits.toml"
    recipe.write_text(TINY_RECIPE)
    results = bench(recipe, data=digits, ablation=True, epochs=1, out_dir=folder / "out", runs_dir=folder / "runs")
    return recipe, results, folder


@pytest.mark.slow
def test_bench_results_schema(ablation_bench):
    _, results, tmp_path = ablation_bench
    on_disk = json.loads((tmp_path / "out" / "results.json").read_text())
    assert on_disk["recipe"] == "tiny_digits" and on_disk["schema_version"] == 1
    assert [g["learning_rate"] for g in on_disk["baseline_grid"]] == [0.1, 1.0]
    picked = max(on_disk["baseline_grid"], key=lambda g: g["best_val_accuracy"])["learning_rate"]
    assert on_disk["baseline_learning_rate"] == picked
    assert list(on_disk["summary"]) == ["baseline", "init_activation", "batch_norm", "dropout", "recipe"]
    for run in on_disk["runs"]:
        assert {
            "variant",
            "seed",
            "test_accuracy",
            "test_loss",
            "train_seconds",
            "epochs_to_target",
            "seconds_to_target",
            "params",
            "history",
            "learning_rate",
        } <= set(run)
        assert len(run["history"]["val_accuracy"]) == run["epochs_run"] == 1
    baseline_runs = [run for run in on_disk["runs"] if run["variant"] == "baseline"]
    assert all(run["learning_rate"] == picked and run["optimizer"] == "sgd" for run in baseline_runs)
    assert on_disk["versions"]["tensorflow"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "| baseline (sigmoid, SGD) |" in report and "**Verdict:**" in report
    assert (tmp_path / "out" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert results["summary"] == on_disk["summary"]


@pytest.mark.slow
def test_an_interrupted_bench_reads_its_finished_runs_back(ablation_bench, digits, monkeypatch):
    import zoo.tools.bench as bench_module

    tiny_recipe, first, tmp_path = ablation_bench

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(bench_module, "train", no_training)
    again = bench(
        tiny_recipe, data=digits, epochs=1, ablation=True, out_dir=tmp_path / "again", runs_dir=tmp_path / "runs"
    )
    assert [r["test_accuracy"] for r in again["runs"]] == [r["test_accuracy"] for r in first["runs"]]
    # The ladder adds runs and changes none: a bench without it reads the baseline and the recipe back.
    plain = bench(
        tiny_recipe, data=digits, epochs=1, ablation=False, out_dir=tmp_path / "plain", runs_dir=tmp_path / "runs"
    )
    assert {r["variant"] for r in plain["runs"]} == {"baseline", "recipe"}
    assert [r["test_accuracy"] for r in plain["runs"]] == [
        r["test_accuracy"] for r in first["runs"] if r["variant"] in ("baseline", "recipe")
    ]
    # Without the ladder the recipe's row is the whole stack against the baseline, labelled so.
    label = recipe_label(zoo.get_recipe(tiny_recipe))
    assert [row["label"] for row in plain["summary"].values()] == ["baseline (sigmoid, SGD)", label]
    assert f"| {label} |" in (tmp_path / "plain" / "report.md").read_text() and "(= recipe)" not in label
    # The report's "Regenerate:" line runs the exact recipe that was benchmarked, into the same folder.
    # (with its task resolved from the data, as every run folder records it)
    assert (
        zoo.get_recipe(tmp_path / "out" / "recipe.toml").to_dict()
        == zoo.get_recipe(tiny_recipe, epochs=1, ablation=True, task="classification").to_dict()
    )
    assert f"--out {tmp_path / 'out'}`" in (tmp_path / "out" / "report.md").read_text()
    # Its cost counts every run's training, read back or not, each once (the picked grid run is a seed's run).
    for results in (first, plain):
        grids = results["learning_rate_grids"].values()
        assert results["runs_trained_or_read"] == len(results["runs"]) + sum(len(grid) - 1 for grid in grids)
        assert results["train_seconds_all_runs"] >= round(sum(r["train_seconds"] for r in results["runs"]), 1)
    # The progress line's N (run k/N) is that count, known before the first run.
    from zoo.tools.bench import run_count

    for results, ablation in ((first, True), (plain, False)):
        expected = run_count(zoo.get_recipe(tiny_recipe, ablation=ablation), len(results["seeds"]))
        assert results["runs_trained_or_read"] == expected
    assert (
        f"{plain['train_seconds_all_runs']:,.0f} s of training in its" in (tmp_path / "plain" / "report.md").read_text()
    )


@pytest.mark.slow
def test_a_rebench_after_a_stack_change_reads_the_baseline_back_and_trains_only_the_recipe(
    ablation_bench, digits, monkeypatch
):
    """The baseline swaps the whole stack out, so a bench of the recipe with another stack (its own runs folder,
    beside the first bench's) reads the baseline's runs back; on other data nothing is read back."""
    import zoo.tools.bench as bench_module

    tiny_recipe, first, tmp_path = ablation_bench
    trained = []
    real_train = bench_module.train

    def counting(recipe, **kwargs):
        trained.append(recipe.name)
        return real_train(recipe, **kwargs)

    monkeypatch.setattr(bench_module, "train", counting)
    swish = zoo.get_recipe(tiny_recipe, **{"stack.activation": "swish"})
    again = bench(swish, data=digits, epochs=1, ablation=False, out_dir=tmp_path / "o2", runs_dir=tmp_path / "runs2")
    assert trained == ["tiny_digits"] * len(again["seeds"]), "only the recipe's own runs train again"
    baseline = lambda results: [r for r in results["runs"] if r["variant"] == "baseline"]  # noqa: E731
    assert baseline(again) == baseline(first) and again["baseline_grid"] == first["baseline_grid"]
    # Each run keeps the commit it trained at (None outside a git checkout, as in CI's scratch folder).
    baseline_run = sorted((tmp_path / "runs").glob("baseline-*-seed0"))[0]
    committed = json.loads((baseline_run / "metrics.json").read_text())["versions"].get("git")
    assert all(run["trained_at"] == committed for run in again["runs"])
    # Runs on other data are never read back.
    seeded = zoo.get_recipe(baseline_run / "recipe.toml")
    assert bench_module.finished_run(baseline_run, seeded, digits) == baseline_run
    assert bench_module.finished_run(baseline_run, seeded, zoo.load_data("digits", validation_size=150)) is None
    # A bench that trains nothing still ships its first seed's model, from the folder the run was read from.
    monkeypatch.setenv("ZOO_SAVED_MODELS", str(tmp_path / "hub"))
    trained.clear()
    bench(swish, data=digits, epochs=1, ablation=False, out_dir=tmp_path / "o4", runs_dir=tmp_path / "runs4", save=True)
    assert trained == [] and list((tmp_path / "hub").rglob("model.keras"))


def test_bench_never_writes_committed_results_unless_named(tiny_recipe, digits):
    from zoo.tools.bench import runs_folder

    seeds = [0]
    folder = runs_folder(tiny_recipe, seeds, digits)
    assert folder.parts[:2] == ("runs", "bench") and folder == runs_folder(tiny_recipe, seeds, digits)
    assert folder != runs_folder(zoo.get_recipe(tiny_recipe, epochs=3), seeds, digits)
    assert folder == runs_folder(zoo.get_recipe(tiny_recipe, ablation=False, target_accuracy=0.5), seeds, digits)
