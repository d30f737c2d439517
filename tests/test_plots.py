"""Readable figures: plain seconds on log axes, whole epochs, low groups off the axis, redraw from results."""

import json
import shutil
from pathlib import Path

from zoo.reports.boards import time_to_accuracy_figure
from zoo.reports.plots import learning_curves_figure
from zoo.reports.records import protocol_link

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def test_the_leaderboards_log_axis_reads_plain_seconds():
    entries = [
        {"contestant": "zoo", "label": "a", "seconds": 57, "accuracy": 0.90},
        {"contestant": "keras", "label": "b", "seconds": 563, "accuracy": 0.94},
    ]
    axis = time_to_accuracy_figure(entries, [0.9]).axes[0]
    labels = [tick.get_text() for tick in axis.get_xticklabels()]
    assert labels == ["30", "60", "100", "200", "300", "600"] and not any("10^" in t for t in labels)


def test_the_leaderboard_numbers_its_markers_and_names_them_in_a_key():
    entries = [
        {"contestant": "keras", "label": "slow", "seconds": 300, "accuracy": 0.90},
        {"contestant": "zoo", "label": "fast", "seconds": 20, "accuracy": 0.91},
    ]
    axis, key = time_to_accuracy_figure(entries, [0.9]).axes
    assert [text.get_text() for text in axis.texts] == ["1", "2"]  # beside the markers: numbers, not labels
    assert [text.get_text() for text in key.texts] == ["1  zoo: fast", "2  keras: slow"]  # ordered by seconds


def test_a_group_at_chance_leaves_the_axis_to_the_others():
    groups = {"sigmoid": [[0.1, 0.1], [0.1, 0.11]], "elu": [[0.82, 0.86], [0.84, 0.87]]}
    axis = learning_curves_figure(groups, spread=True).axes[0]
    legend = [text.get_text() for text in axis.get_legend().texts]
    assert axis.get_ylim()[0] > 0.8 and legend == ["sigmoid (below the axis: 0.11)", "elu"]
    assert all(float(t).is_integer() for t in axis.get_xticks()), "whole epochs"


def test_redraw_draws_the_committed_figures_again_from_results_alone(tmp_path):
    from zoo.experiments.redraw import run

    for name in ("activations", "fashion_mlp", "leaderboard", "accelerator"):
        shutil.copytree(RESULTS / name, tmp_path / name, ignore=shutil.ignore_patterns("*.png"))
    done = run(tmp_path)
    drawn = {str(Path(path).relative_to(tmp_path)) for path in done["figures"]}
    depths = json.loads((RESULTS / "activations" / "results.json").read_text())["depths"]
    assert drawn == {"fashion_mlp/curves.png", "leaderboard/leaderboard.png"} | {
        f"activations/depth-{d}.png" for d in depths
    } | {"activations/ranking.png"}
    assert all((tmp_path / path).read_bytes()[:4] == b"\x89PNG" for path in drawn)
    for name in ("leaderboard", "activations"):  # the reports it rewrites are the committed ones
        committed = (RESULTS / name / "report.md").read_text()  # in the checkout: the protocol's link at its end
        link = "\n\n" + protocol_link(RESULTS / name) + "\n"
        assert (tmp_path / name / "report.md").read_text() == committed.replace(link, "\n")


def test_every_committed_report_links_the_protocol():
    for report in RESULTS.rglob("report.md"):
        assert "protocol.md" in report.read_text(), f"{report}: regenerate it (write_results links the protocol)"
