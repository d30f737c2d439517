"""The one progress helper of long commands: counts, ETA, the live bar and quiet."""

from zoo.reports.progress import Progress


def test_plain_lines_count_runs_and_estimate_the_rest(capsys, monkeypatch):
    clock = iter([0.0, 10.0, 20.0, 30.0]).__next__
    monkeypatch.setattr("zoo.reports.progress.time.perf_counter", clock)
    with Progress(3, "bench", live=False) as progress:
        progress.done("baseline lr=0.1")  # 10 s for 1 of 3: 20 s left
        progress.say("picked 0.1")
        progress.done("recipe seed 0")
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "[   10 s, 1/3, ETA 20 s] bench: baseline lr=0.1",
        "[   20 s] bench: picked 0.1",
        "[   30 s, 2/3, ETA 15 s] bench: recipe seed 0",
    ]


def test_weights_make_the_eta_follow_the_runs_expected_costs(capsys, monkeypatch):
    import pytest

    clock = iter([0.0, 10.0, 20.0]).__next__
    monkeypatch.setattr("zoo.reports.progress.time.perf_counter", clock)
    # A 40-s entry, then an entry ten times as costly: after the first, 100 s are left, not 10.
    with Progress(2, "leaderboard", live=False, weights=[40.0, 400.0]) as progress:
        progress.done("tiny, seed 0")
    assert capsys.readouterr().out.splitlines() == ["[   10 s, 1/2, ETA 100 s] leaderboard: tiny, seed 0"]
    with pytest.raises(ValueError, match="3 weights for 2 runs"):
        Progress(2, "leaderboard", weights=[1, 2, 3])


def test_the_leaderboard_expects_each_entry_to_cost_what_it_cost_before():
    from zoo.experiments.leaderboard import Entry, _expected_seconds

    tiny, full = Entry("zoo", "tiny", recipe="fashion_cnn_tiny"), Entry("zoo", "full", overrides={"train.epochs": 2})
    before = {"runs": [{"label": "tiny", "train_seconds": s} for s in (9, 7, 8)]}  # the committed board's runs
    assert _expected_seconds(tiny, before) == 8.0 and _expected_seconds(full, before) == 90.0  # 2 epochs x 45 s


def test_quiet_prints_nothing_and_an_unknown_total_has_no_eta(capsys):
    with Progress(5, "tune", quiet=True) as progress:
        progress.done("trial 1")
        progress.say("note")
    assert capsys.readouterr().out == "" and progress.count == 1
    with Progress(None, "suite", live=False) as progress:
        progress.done("set 1")
    assert "ETA" not in capsys.readouterr().out


def test_the_live_bar_prints_each_finished_run_above_it(capsys):
    with Progress(2, "leaderboard", live=True) as progress:
        progress.done("tiny, seed 0: test 0.9022")
        progress.done("tiny, seed 1: test 0.9014")
    shown = capsys.readouterr().out
    assert "1/2" in shown and "leaderboard: tiny, seed 1: test 0.9014" in shown
    with Progress(2, "leaderboard", live=True, weights=[1.0, 9.0]) as progress:  # the bar fills by weight
        progress.done("tiny, seed 0")
        assert progress._bar.tasks[0].completed == 1.0 and progress._bar.tasks[0].fields["runs"] == "1/2"


def test_early_stopping_says_restoring_only_when_it_restores_an_earlier_epoch(capsys):
    import keras
    import numpy as np

    from zoo.training.stopping import EarlyStopping

    x, y = np.random.default_rng(0).random((64, 4)), np.arange(64) % 2
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = EarlyStopping("val_loss", patience=3, restore_best_weights=True, verbose=1)
    model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[stop])
    assert "Restoring" not in capsys.readouterr().out, "after 1 epoch the best weights are the model's own"
    stop.best_epoch, stop.last_epoch = 0, 4  # as after 5 epochs whose first was the best
    stop.on_train_end()
    assert "Restoring model weights from the end of the best epoch: 1." in capsys.readouterr().out
