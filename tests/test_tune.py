"""The [tune] search space and the KerasTuner search that starts from the recipe."""

import dataclasses
import json
from pathlib import Path

import pytest
import tomllib

import zoo
from zoo.cli.main import main
from zoo.recipes.recipe import parse_recipe
from zoo.reports.report import spread
from zoo.tools.search import tune

SPACE = """
[tune]
"train.learning_rate" = { log = [1e-4, 1e-1] }
"model.hidden" = { choices = [[32, 16], [64]] }
"stack.dropout" = { range = [0.0, 0.4] }
"""


@pytest.fixture
def tunable(tiny_recipe_file, tmp_path):
    path = tmp_path / "tunable.toml"
    path.write_text(tiny_recipe_file.read_text().replace("epochs     = 2", "epochs     = 1") + SPACE)
    return path


def _with_tune(space):
    data = zoo.get_recipe("fashion_mlp").to_dict()
    data["tune"] = space
    return parse_recipe(data)


def test_search_space_round_trips_through_toml(tunable):
    recipe = zoo.get_recipe(tunable)
    assert recipe.tune["model.hidden"] == {"choices": [[32, 16], [64]]}
    assert parse_recipe(tomllib.loads(recipe.to_toml())).to_dict() == recipe.to_dict()
    assert zoo.get_recipe("cnn").tune == {} and "tune" not in zoo.get_recipe("cnn").to_dict()


@pytest.mark.parametrize(
    "space, message",
    [
        (
            {"train.learnig_rate": {"log": [1e-4, 1e-2]}},
            "tune key = 'train.learnig_rate' is not allowed \\(did you mean",
        ),
        ({"train.epochs": {"range": [1, 5]}}, 'tune."train.epochs" is not allowed: every trial gets the same budget'),
        ({"stack.dropout": {"range": [0.3, 0.3]}}, "the range is empty"),
        ({"regularization.l2": {"log": [0.0, 0.1]}}, "a log range cannot reach 0"),
        ({"train.learning_rate": {"log": [0.0, 0.1]}}, "train.learning_rate = 0.0 is out of range"),
        ({"stack.dropout": {"range": [0.0, 1.5]}}, "stack.dropout = 1.5 is out of range"),
        ({"stack.activation": {"range": [0, 1]}}, "range needs a numeric key"),
        ({"stack.activation": {"choices": ["elu", "elo"]}}, "'elo' is not allowed"),
        ({"stack.dropout": {"between": [0.0, 0.5]}}, "expected one of"),
        ({"stack.dropout": {"choices": []}}, "expected a non-empty list"),
    ],
)
def test_bad_search_spaces_name_the_key(space, message):
    with pytest.raises(zoo.RecipeError, match=message):
        _with_tune(space)


def test_search_refuses_a_space_without_the_recipe_and_zero_trials(tunable, digits):
    recipe = zoo.get_recipe(tunable)
    outside = zoo.get_recipe(recipe, **{"train.learning_rate": 0.5})
    with pytest.raises(zoo.RecipeError, match="does not contain the recipe's value 0.5"):
        tune(outside, data=digits, trials=2)
    with pytest.raises(zoo.RecipeError, match="trials = 0"):
        tune(recipe, data=digits, trials=0)
    with pytest.raises(zoo.RecipeError, match="algorithm = 'grid' is not allowed"):
        tune(recipe, data=digits, trials=1, algorithm="grid")
    with pytest.raises(zoo.RecipeError, match="has no \\[tune\\] section"):
        tune(zoo.get_recipe("cnn"), data=digits, trials=1)


@pytest.mark.slow
def test_first_trial_is_the_recipe_and_the_search_resumes(tunable, digits, tmp_path):
    recipe = zoo.get_recipe(tunable)
    first = tune(recipe, data=digits, trials=2, out_dir=tmp_path / "search", verbose=False)
    assert len(first.trials) == 2 and first.trials[0]["is_recipe"]
    assert first.trials[0]["values"] == {
        "train.learning_rate": recipe.train.learning_rate,
        "model.hidden": [32, 16],
        "stack.dropout": recipe.stack.dropout,
    }
    assert sum(row["is_recipe"] for row in first.trials) == 1
    assert all(row["seconds"] > 0 and 0 <= row["val_accuracy"] <= 1 for row in first.trials)
    best = zoo.get_recipe(first.paths["best"])  # a complete recipe zoo train accepts
    assert best.to_dict()["tune"] == recipe.to_dict()["tune"]
    assert (
        max(r["val_accuracy"] for r in first.trials)
        == json.loads(first.paths["trials"].read_text())["best"]["val_accuracy"]
    )
    resumed = tune(recipe, data=digits, trials=3, out_dir=tmp_path / "search", verbose=False)
    assert len(resumed.trials) == 3 and resumed.trials[:2] == first.trials, "earlier trials are kept, not rerun"
    assert "(recipe)" in first.paths["table"].read_text()
    # Each trial is a TensorBoard run, its values as hparams (lists as text) and its best validation score.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    runs = sorted(path.name for path in (tmp_path / "search" / "tensorboard").iterdir())
    assert runs == ["trial_00", "trial_01", "trial_02"]
    trial = EventAccumulator(str(tmp_path / "search" / "tensorboard" / "trial_00")).Reload()
    assert b"[32, 16]" in trial.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    assert "best_val_score" in trial.Tags()["tensors"]
    assert {"train", "validation"} <= {p.name for p in (tmp_path / "search" / "tensorboard" / "trial_00").iterdir()}


@pytest.mark.parametrize("algorithm", ["random", "bayesian", "hyperband"])
def test_a_seed_fixes_the_trials_a_search_draws(tunable, digits, tmp_path, algorithm):
    # KerasTuner reads a seed of 0, train.seed's default, as no seed: the same search drew other trials on every
    # run. Drawn here from the oracle, without training (a private door: a search of real trials costs seconds).
    from zoo.data.sources import recipe_data
    from zoo.tools.search import _RecipeHyperModel, _tuner

    def drawn(folder, seed):
        # 9 epochs: Hyperband's first bracket then holds 9 trials of 1 epoch (with 1 epoch, a single trial).
        recipe, data = recipe_data(zoo.get_recipe(tunable, **{"train.seed": seed, "train.epochs": 9}), digits)
        hypermodel = _RecipeHyperModel(recipe, data, tmp_path / f"{folder}.json")
        oracle = _tuner(algorithm, hypermodel, recipe, 4, tmp_path / folder / "search").oracle
        return [oracle.create_trial(f"tuner{i}").hyperparameters.values for i in range(3)]

    first = drawn("first", 0)
    assert drawn("again", 0) == first, "the same seed draws the same trials"
    assert drawn("other", 1)[1:] != first[1:], "another seed draws others (the first trial is the recipe for both)"


@pytest.mark.slow
def test_a_hyperband_search_runs_and_keeps_to_its_trials(tunable, digits, tmp_path):
    found = tune(zoo.get_recipe(tunable), data=digits, trials=2, algorithm="hyperband", out_dir=tmp_path, verbose=False)
    assert 1 <= len(found.trials) <= 2 and found.trials[0]["is_recipe"]
    assert all(row["status"] == "COMPLETED" for row in found.trials)
    assert zoo.get_recipe(found.paths["best"]).train.epochs == 1


def test_cli_tune_reports_bad_trials(tunable, capsys):
    assert main(["tune", str(tunable), "--trials", "0"]) == 2
    assert "trials = 0" in capsys.readouterr().err


@pytest.mark.slow
def test_the_first_trial_trains_exactly_as_zoo_train_does(tunable, digits, tmp_path):
    # Augmentation, the plateau schedule's cuts and early stopping all act: a rate too high to keep improving
    # stops the run well before 12 epochs. Dropping any of them changes the trial's validation numbers.
    recipe = zoo.get_recipe(
        tunable,
        epochs=12,
        early_stopping_patience=2,
        learning_rate=0.3,
        schedule="plateau",
        plateau_patience=1,
        augment=["noise"],
        augment_amount=0.1,
    )
    trained = zoo.train(recipe, data=digits, out_dir=tmp_path / "train", verbose=0)
    assert trained.epochs_run < 12, "the check needs a run that stops early"
    one_trial = dataclasses.replace(recipe, tune={"train.learning_rate": {"choices": [0.3]}})
    searched = tune(one_trial, data=digits, trials=1, out_dir=tmp_path / "search", verbose=False)
    first = searched.trials[0]
    assert first["is_recipe"] and first["epochs"] == trained.epochs_run
    assert first["val_accuracy"] == pytest.approx(max(trained.history["val_accuracy"]), abs=1e-6)
    # The written best.toml is a recipe zoo train runs, and it trains the same numbers again.
    again = zoo.train(searched.paths["best"], data=digits, out_dir=tmp_path / "best", verbose=0)
    assert again.history["val_accuracy"] == pytest.approx(trained.history["val_accuracy"], abs=1e-6)


@pytest.mark.parametrize(
    "name", ["fashion_cnn_tiny", "fashion_selu", "fashion_deep_mlp", "fashion_mlp", "fashion_cnn", "fashion_resnet"]
)
def test_every_benchmarked_recipe_declares_a_space_that_holds_it(name):
    """The tuning experiment searches every Fashion-MNIST recipe; trial 1 is the recipe, so its values are inside."""
    from zoo.experiments.tuning import RECIPES
    from zoo.recipes.space import check_contains

    recipe = zoo.get_recipe(name)
    assert recipe.tune and name in RECIPES
    check_contains(recipe.tune, recipe)


def test_the_tuning_experiment_refuses_a_recipe_with_nothing_to_search_before_training(capsys, tmp_path):
    from zoo.cli.main import main

    assert main(["experiment", "tuning", "--recipes", "fashion_mlp,cnn"]) == 2
    assert "recipe 'cnn' has no [tune] section; the tuning experiment searches tabular" in capsys.readouterr().err


def test_the_tuning_experiment_chooses_on_the_selection_split_and_retrains_on_the_recipes_own(monkeypatch, tmp_path):
    """fashion_cnn keeps 1,000 images for its curves; its search must read the 5,000-image selection split (a
    1,000-image split cannot tell its trials apart: docs/protocol.md, rule 2), and the final runs its own split."""
    from zoo.experiments import probe, tuning

    asked = []
    fake = lambda name, validation_size: asked.append((name, validation_size)) or validation_size  # noqa: E731
    monkeypatch.setattr(probe, "load", fake)
    monkeypatch.setattr(tuning, "load", fake)
    assert tuning._data(zoo.get_recipe("fashion_cnn"), tmp_path) == (5000, 1000)
    assert tuning._data(zoo.get_recipe("fashion_mlp"), tmp_path) == (5000, 5000)
    assert asked == [("fashion_mnist", 5000), ("fashion_mnist", 1000), ("fashion_mnist", 5000), ("fashion_mnist", 5000)]


@pytest.fixture
def cheap_tuning(monkeypatch):
    """The tuning experiment with its recipes cut to a small tabular net for 2 epochs, whose [tune] space (one
    key) holds it; its final runs pass Recipes through unchanged."""
    from zoo.experiments import tuning

    real = tuning.get_recipe
    quick = {"train.epochs": 2, "train.early_stopping_patience": 0, "train.jit_compile": "off", "model.hidden": [8]}

    def cheap(recipe, **overrides):
        if isinstance(recipe, str):
            recipe = dataclasses.replace(real(recipe, **quick), tune={"stack.dropout": {"range": [0.0, 0.4]}})
        return real(recipe, **overrides)

    monkeypatch.setattr(tuning, "get_recipe", cheap)
    return tuning


@pytest.mark.slow
def test_the_tuning_experiment_run_again_reads_its_search_and_final_runs_back(cheap_tuning, monkeypatch, tmp_path):
    """Hours of search and retraining are not lost to an interruption: run again on the same folder, the
    experiment trains nothing that finished and writes the same row."""
    tuning = cheap_tuning
    options = {"recipes": ("tabular",), "trials": 2, "seeds": 1, "runs_dir": tmp_path / "runs"}
    first = tuning.run(tmp_path / "out", **options)["recipes"][0]

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    import zoo.tools.bench as bench
    import zoo.tools.search as search

    monkeypatch.setattr(bench, "train", no_training)  # what reads a finished run back or trains it

    monkeypatch.setattr(search, "fit_fast", no_training)
    again = tuning.run(tmp_path / "again", **options)["recipes"][0]
    assert [t["val_accuracy"] for t in again["trials"]] == [t["val_accuracy"] for t in first["trials"]]
    assert again["test_accuracy"] == first["test_accuracy"] and again["best_values"] == first["best_values"]
    # The trials' own seconds, unrounded (each row rounds its own to 0.1 s, and their sum could pass the total's).
    earlier = sum(json.loads((tmp_path / "runs" / "tabular-search" / "seconds.json").read_text()).values())
    assert again["search_seconds"] >= round(earlier, 1), "earlier sittings' trials count"


@pytest.mark.slow
def test_the_tuning_experiment_trains_no_second_set_of_final_runs_when_the_search_keeps_the_recipe(
    cheap_tuning, tmp_path
):
    """One trial is the recipe, so the best is the recipe: its final runs are the default's, not trained twice. The
    committed rows of the recipes it left out are kept, and the rows read in the experiment's order whichever
    sitting trained them."""
    tuning = cheap_tuning
    committed = json.loads((Path(__file__).resolve().parents[1] / "benchmarks/results/tuning/results.json").read_text())
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "results.json").write_text(json.dumps(committed))
    found = tuning.run(tmp_path / "out", recipes=("tabular",), trials=1, seeds=1, runs_dir=tmp_path / "runs")
    order = [row["recipe"] for row in found["recipes"]]
    assert order == [name for name in tuning.RECIPES if name in order], "rows in the experiment's order"
    assert sorted(order) == sorted(row["recipe"] for row in committed["recipes"]), "the other recipes' rows are kept"
    row = found["recipes"][order.index("tabular")]
    assert row["search_seconds"] != next(r for r in committed["recipes"] if r["recipe"] == "tabular")["search_seconds"]
    assert row["trials"][0]["is_recipe"] and row["test_accuracy"]["tuned"] == row["test_accuracy"]["default"]
    assert (tmp_path / "runs" / "tabular-default-seed0").is_dir()
    assert not (tmp_path / "runs" / "tabular-tuned-seed0").exists(), "the recipe's final runs were trained again"


@pytest.mark.slow
def test_the_tuning_experiment_reads_the_recipes_final_runs_from_its_committed_bench_when_the_search_keeps_it(
    cheap_tuning, monkeypatch, tmp_path
):
    """A conv recipe's three final runs are over an hour: where the search keeps the recipe and its committed bench
    trained it as it ships, the row takes the bench's runs and says so; nothing trains after the search."""
    tuning = cheap_tuning
    benched = {"accuracies": [0.9, 0.8, 0.85], "commits": ["a" * 40], "source": "benchmarks/results/tabular"}
    asked = []
    monkeypatch.setattr(tuning, "benched_runs", lambda recipe, seeds, root: asked.append((seeds, root)) or benched)
    found = tuning.run(tmp_path / "results" / "tuning", recipes=("tabular",), trials=1, runs_dir=tmp_path / "runs")
    row = found["recipes"][0]
    assert asked == [(3, tmp_path / "results")], "the bench is looked for beside the tuning results"
    assert row["test_accuracy"]["default"] == row["test_accuracy"]["tuned"] == spread([0.9, 0.8, 0.85])
    assert row["final_runs"] == {"source": "benchmarks/results/tabular", "commits": ["a" * 40]}
    assert not list((tmp_path / "runs").glob("tabular-default-seed*")), "a final run was trained again"
    report = (tmp_path / "results" / "tuning" / "report.md").read_text()
    assert "Final runs read from the recipe's committed bench (the search kept the recipe): tabular (" in report


def test_a_committed_bench_counts_only_for_the_recipe_it_trained_on_clean_commits(tmp_path):
    from zoo.experiments.committed import benched_runs

    recipe = zoo.get_recipe("fashion_mlp")
    clean = {"commit": "b" * 40, "uncommitted_changes": False}
    runs = [
        {"variant": "recipe", "seed": s, "status": "ok", "test_accuracy": 0.9 + s / 100, "trained_at": clean}
        for s in range(3)
    ]
    bench = {"resolved_recipe": json.loads(json.dumps(recipe.to_dict())), "runs": runs}

    def read(changed=None, seeds=3):
        (tmp_path / "fashion_mlp").mkdir(exist_ok=True)
        (tmp_path / "fashion_mlp" / "results.json").write_text(json.dumps({**bench, **(changed or {})}))
        return benched_runs(recipe, seeds, tmp_path)

    assert read() == {
        "accuracies": [0.9, 0.91, 0.92],
        "commits": ["b" * 40],
        "source": "benchmarks/results/fashion_mlp",
    }
    other = json.loads(json.dumps(zoo.get_recipe("fashion_mlp", epochs=3).to_dict()))
    assert read({"resolved_recipe": other}) is None, "another budget trains other runs"
    dirty = [{**run, "trained_at": {**clean, "uncommitted_changes": True}} for run in runs]
    assert read({"runs": dirty}) is None, "a run on uncommitted changes is not a committed configuration's"
    assert read({"runs": runs[:2]}) is None and read({"runs": runs[:2]}, seeds=2) is not None
    unknown = [{key: value for key, value in run.items() if key != "trained_at"} for run in runs]
    assert read({"runs": unknown}) is None, "a run whose commit was not recorded"
