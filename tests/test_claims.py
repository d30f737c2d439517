"""The activation-ranking and claims experiments' machinery on tiny settings, and their committed results' shape."""

import json
from pathlib import Path

import pytest

from zoo.experiments import activations, claims
from zoo.experiments.common import PLAIN_MLP, plain_mlp
from zoo.recipes.registry import read_with_parents

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def _rows(medians):
    return {
        a: {"test_accuracy": {"median": m, "min": m, "max": m}, "rank": 0, "epochs_to_target": 1, "train_seconds": 1.0}
        for a, m in medians.items()
    }


def test_every_activation_gets_the_initializer_it_calls_for():
    inits = {
        a: activations.recipe_for(a, 2, 8, 1).stack.init for a in ("sigmoid", "tanh", "selu", "relu", "elu", "gelu")
    }
    assert inits == {
        "sigmoid": "glorot_normal",
        "tanh": "glorot_normal",
        "selu": "lecun_normal",
        "relu": "he_normal",
        "elu": "he_normal",
        "gelu": "he_normal",
    }


def test_tuning_fashion_mlp_cannot_move_the_mechanism_experiments():
    # What the file sets, with what it inherits through `extends` (mlp.toml) merged in.
    shipped, _ = read_with_parents(RESULTS.parent.parent / "recipes" / "fashion_mlp.toml")
    net_and_training = {
        f"{section}.{key}"
        for section in ("model", "stack", "regularization", "train")
        for key in shipped.get(section, {})
    } | ({"validation_size"} & shipped.keys())
    unpinned = net_and_training - {"model.kind"} - PLAIN_MLP.keys()
    assert not unpinned, f"recipes/fashion_mlp.toml sets {sorted(unpinned)}: pin them in PLAIN_MLP"
    recipe = plain_mlp("plain")
    for key, value in PLAIN_MLP.items():
        section, _, field = key.rpartition(".")
        assert (getattr(getattr(recipe, section), field) if section else getattr(recipe, field)) == value, key


def test_ranking_agreement_counts_only_pairs_the_guide_orders():
    guide_order = _rows({"elu": 0.9, "leaky_relu": 0.8, "rrelu": 0.85, "relu": 0.7, "tanh": 0.6, "sigmoid": 0.5})
    agree, pairs = activations._agreement(guide_order)
    assert agree == pairs == 14  # the 15 pairs of six, less leaky_relu-rrelu (the guide puts them level)
    reversed_order = _rows({"elu": 0.5, "relu": 0.9})
    assert activations._agreement(reversed_order) == (0, 1)


@pytest.mark.slow
def test_an_activation_experiment_runs_end_to_end_on_a_tiny_setting(tmp_path, monkeypatch, digits):
    monkeypatch.setattr(activations, "load", lambda name: digits)
    monkeypatch.setattr(
        activations,
        "recipe_for",
        lambda a, d, w, e, seed=0: plain_mlp(
            f"{a}_{d}",
            dataset="digits",
            validation_size=200,
            hidden=[w] * d,
            activation=a,
            init=activations.INIT_FOR.get(a, "he_normal"),
            batch_norm=False,
            dropout=0.0,
            epochs=e,
            early_stopping_patience=0,
            seed=seed,
        ),
    )
    results = activations.run(
        out_dir=tmp_path / "out",
        runs_dir=tmp_path / "runs",
        depths=(1,),
        width=8,
        epochs=1,
        seeds=(0,),
        target=0.5,
        activations=("relu", "sigmoid"),
    )
    assert set(results["summary"]["1"]) == {"relu", "sigmoid"}
    assert "| our rank | activation |" in (tmp_path / "out" / "report.md").read_text()


def test_claim_verdicts_follow_the_numbers():
    dropout = {
        "train_size": 100,
        "epochs": 1,
        "rows": {
            "8/0": {"width": 8, "dropout": 0.0, "test_accuracy": [0.80], "overfit_gap": 0.1},
            "8/0.5": {"width": 8, "dropout": 0.5, "test_accuracy": [0.82], "overfit_gap": 0.05},
        },
    }
    assert claims._dropout_row(dropout)[2].startswith("holds, on a net that overfits (gains +2.0")
    dropout["rows"]["8/0.5"]["test_accuracy"] = [0.79]
    assert claims._dropout_row(dropout)[2].startswith("does not hold here")
    depth = {
        "depth": 6,
        "width": 8,
        "epochs": 1,
        "learning_rate": 0.1,
        "deep": [0.10],
        "shallow": [0.85],
        "relative_weight_change": [0.01, 0.5],
    }
    assert "deep net does worse" in claims._depth_row(depth)[2]


@pytest.mark.parametrize("name", ["activations", "claims", "pretrain", "exploding"])
def test_committed_results_have_their_shape(name):
    folder = RESULTS / name
    results = json.loads((folder / "results.json").read_text())
    assert results["experiment"] == name and "versions" in results
    report = (folder / "report.md").read_text()
    assert "Regenerate: `zoo experiment" in report


def test_the_claims_table_has_a_row_per_claim():
    report = (RESULTS / "claims" / "report.md").read_text()
    for claim in (
        "ELU > leaky ReLU",
        "Dropout stably improves",
        "Adam instead of plain gradient descent",
        "A deep net trained from random init",
        "Stacked denoising autoencoders",
    ):
        assert claim in report
