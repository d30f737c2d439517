"""The time-to-accuracy leaderboard: its standings rule, a tiny real run, and the committed results' shape."""

import importlib.metadata
import importlib.util
import json
from pathlib import Path

import pytest

import zoo
from zoo.errors import RecipeError
from zoo.experiments.leaderboard import CONTESTANTS, ENTRIES, Entry, annotate, run, run_entry, withdraw
from zoo.experiments.standings import THRESHOLDS, standings

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "leaderboard"


def test_a_threshold_counts_only_when_the_median_clears_it():
    rows = [
        {"contestant": "zoo", "label": "slow", "accuracy": 0.935, "seconds": 300.0},
        {"contestant": "zoo", "label": "fast", "accuracy": 0.921, "seconds": 60.0},
        {"contestant": "torch", "label": "twin", "accuracy": 0.9299, "seconds": 200.0},
    ]
    table = {row["threshold"]: row for row in standings(rows, (0.92, 0.93, 0.94))}
    assert table[0.92]["zoo"]["label"] == "fast" and table[0.92]["torch"]["label"] == "twin"
    assert table[0.93]["zoo"]["label"] == "slow" and table[0.93]["torch"] is None
    assert table[0.94] == {"threshold": 0.94, "zoo": None, "torch": None}
    float32_tie = [{"contestant": "torch", "label": "t", "accuracy": 0.8999999761581421, "seconds": 1.0}]
    assert standings(float32_tie, (0.9,))[0]["torch"]["label"] == "t", "9,000 of 10,000 right is 0.90"


def test_entries_are_fixed_budgets_of_known_contestants():
    assert THRESHOLDS == (0.90, 0.92, 0.93, 0.94)
    assert {entry.contestant for entry in ENTRIES} == {"zoo", "keras", "torch", "jax"}
    for entry in ENTRIES:  # every budget resolves to a valid recipe
        zoo.get_recipe(entry.recipe, **entry.overrides)
    with pytest.raises(RecipeError, match="contestant = 'sklearn' is not allowed"):
        Entry("sklearn", "x")


def test_a_contestant_whose_framework_is_missing_is_refused_before_anything_trains(monkeypatch, tmp_path):
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else found(name, *a))
    with pytest.raises(
        RecipeError, match=r"jax entries need jax, which is not installed; install it with `pip install jax"
    ):
        run(out_dir=tmp_path / "out", runs_dir=tmp_path / "runs", entries=(Entry("jax", "x", recipe="mlp"),))
    assert not (tmp_path / "runs").exists()
    # A bad recipe is named in this process, not in a JAX child's traceback.
    with pytest.raises(RecipeError, match="no_such_recipe"):
        run_entry(Entry("jax", "y", recipe="no_such_recipe"), 0, tmp_path / "runs")


def test_a_partial_re_run_keeps_the_versions_its_kept_twins_and_jax_entries_trained_with(tmp_path):
    """A sitting that trains no twin and no JAX entry: the board still names the versions those entries ran on,
    and the report says them."""
    twin = {"contestant": "torch", "label": "t", "recipe": "mlp", "overrides": {}, "seeds": 1}
    twin.update({"accuracy": 0.91, "low": 0.91, "high": 0.91, "seconds": 1.0})
    on_jax = {**twin, "contestant": "jax", "label": "j"}
    runs = [{"label": label, "seed": 0, "test_accuracy": 0.91, "train_seconds": 1.0} for label in ("t", "j")]
    before = {"entries": [twin, on_jax], "runs": runs}
    before["versions"] = {"git": {"commit": "a" * 40}, "torch": "9.9.9+cpu", "jax": "0.0.9"}
    (tmp_path / "results.json").write_text(json.dumps(before))
    kept = run(entries=(), keep=("t", "j"), out_dir=tmp_path, runs_dir=tmp_path / "runs", thresholds=(0.9,))
    assert kept["versions"]["torch"] == "9.9.9+cpu" and kept["versions"]["jax"] == "0.0.9"
    assert kept["runs"][0]["commit"] == "a" * 40
    assert "torch 9.9.9+cpu, jax 0.0.9)" in (tmp_path / "report.md").read_text()
    assert "torch" not in {key for key in kept if key != "versions"}, "only the version carries over"


@pytest.mark.slow
def test_a_tiny_leaderboard_runs_end_to_end(tiny_recipe_file, tmp_path):
    entries = [
        Entry("zoo", "tiny, 1 epoch", recipe=str(tiny_recipe_file), overrides={"train.epochs": 1}, seeds=1),
        Entry("zoo", "tiny, 3 epochs", recipe=str(tiny_recipe_file), overrides={"train.epochs": 3}, seeds=1),
    ]
    if importlib.util.find_spec("torch"):
        entries.append(Entry("torch", "tiny twin", recipe=str(tiny_recipe_file), seeds=1))
    if importlib.util.find_spec("jax"):  # zoo.train in its own process under KERAS_BACKEND=jax ("auto": XLA there)
        overrides = {"train.epochs": 3, "train.jit_compile": "auto"}
        entries.append(Entry("jax", "tiny on jax", recipe=str(tiny_recipe_file), overrides=overrides, seeds=1))
    results = run(out_dir=tmp_path / "out", runs_dir=tmp_path / "runs", entries=tuple(entries), thresholds=(0.5, 0.999))
    assert [e["label"] for e in results["entries"]] == [e.label for e in entries]
    assert len(results["runs"]) == sum(e.seeds for e in entries)
    assert results["standings"][0]["zoo"] is not None, "digits clears 0.5 in 3 epochs"
    if importlib.util.find_spec("jax"):
        assert results["standings"][0]["jax"] is not None, "and so does the same recipe on JAX"
        backend = json.loads((tmp_path / "runs" / "tiny_on_jax-seed0" / "metrics.json").read_text())["versions"]
        assert backend["keras_backend"] == "jax", backend
        assert results["versions"]["jax"] == importlib.metadata.version("jax"), "the board names JAX's version"
        columns = ["zoo", "torch", "jax"] if importlib.util.find_spec("torch") else ["zoo", "jax"]
        assert f"| test accuracy | {' | '.join(columns)} |" in (tmp_path / "out" / "report.md").read_text()
    assert results["standings"][1]["zoo"] is None
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"results.json", "report.md", "leaderboard.png"}
    # A re-decided budget replaces one entry and keeps the others as they ran, each run with its commit.
    again = Entry("zoo", "tiny, 2 epochs", recipe=str(tiny_recipe_file), overrides={"train.epochs": 2}, seeds=1)
    folders = {"out_dir": tmp_path / "out", "runs_dir": tmp_path / "runs2", "thresholds": (0.5, 0.999)}
    merged = run(entries=(again,), keep=("tiny, 1 epoch",), **folders)
    assert [e["label"] for e in merged["entries"]] == ["tiny, 1 epoch", "tiny, 2 epochs"]
    assert [r["label"] for r in merged["runs"]] == ["tiny, 1 epoch", "tiny, 2 epochs"]
    assert all("commit" in r for r in merged["runs"])
    assert merged["seconds"] == round(sum(r["train_seconds"] for r in merged["runs"]), 1), "the whole board's cost"
    with pytest.raises(RecipeError, match="keep = 'tiny, 9 epochs' is not an entry of"):
        run(entries=(), keep=("tiny, 9 epochs",), **folders)
    # A budget the protocol no longer allows comes off the board, its runs with it; nothing trains.
    withdrawn = withdraw(("tiny, 2 epochs",), "chosen on test", tmp_path / "out")
    assert [e["label"] for e in withdrawn["entries"]] == [r["label"] for r in withdrawn["runs"]] == ["tiny, 1 epoch"]
    assert withdrawn["standings"] == standings(withdrawn["entries"], (0.5, 0.999))
    assert "Withdrawn: tiny, 2 epochs (chosen on test)." in (tmp_path / "out" / "report.md").read_text()
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == withdrawn
    with pytest.raises(RecipeError, match="'tiny, 2 epochs' is not an entry of"):
        withdraw(("tiny, 2 epochs",), "again", tmp_path / "out")
    # A note for readers joins the report; the entries and standings stay as they are.
    noted = annotate("timed on two machines", tmp_path / "out")
    assert noted["notes"] == ["timed on two machines"] and noted["entries"] == withdrawn["entries"]
    assert "Note: timed on two machines" in (tmp_path / "out" / "report.md").read_text()
    retimed = annotate("all on one machine now", tmp_path / "out", replace=True)
    assert retimed["notes"] == ["all on one machine now"]
    assert "timed on two machines" not in (tmp_path / "out" / "report.md").read_text()
    # A partial re-run keeps the board's history: its notes, and what was withdrawn, until it trains again.
    other = Entry("zoo", "tiny, 1 epoch, again", recipe=str(tiny_recipe_file), overrides={"train.epochs": 1}, seeds=1)
    kept = run(entries=(other,), keep=("tiny, 1 epoch",), **{**folders, "runs_dir": tmp_path / "runs3"})
    assert kept["notes"] == ["all on one machine now"] and kept["withdrawn"] == withdrawn["withdrawn"]
    assert "Withdrawn: tiny, 2 epochs (chosen on test)." in (tmp_path / "out" / "report.md").read_text()
    back = run(entries=(again,), keep=("tiny, 1 epoch",), **{**folders, "runs_dir": tmp_path / "runs4"})
    assert "withdrawn" not in back and back["notes"] == kept["notes"], "trained again, it is on the board again"
    with pytest.raises(RecipeError, match="note = '' is not allowed"):
        annotate(" ", tmp_path / "out")


@pytest.mark.skipif(not (RESULTS / "results.json").exists(), reason="the leaderboard has not been committed yet")
def test_committed_leaderboard_has_the_promised_shape():
    results = json.loads((RESULTS / "results.json").read_text())
    assert results["thresholds"] == list(THRESHOLDS)
    assert {e["contestant"] for e in results["entries"]} == set(CONTESTANTS)
    labels = {entry.label for entry in ENTRIES}  # the board holds the constants' budgets, or says why not
    gone = {entry["label"] for entry in results.get("withdrawn", [])}
    assert {e["label"] for e in results["entries"]} | gone >= labels
    for entry in results["entries"]:
        assert entry["seeds"] >= 3 and entry["low"] <= entry["accuracy"] <= entry["high"] and entry["seconds"] > 0
    assert results["versions"]["git"] and (RESULTS / "leaderboard.png").stat().st_size > 10_000
    assert "Regenerate: `zoo experiment leaderboard`" in (RESULTS / "report.md").read_text()
