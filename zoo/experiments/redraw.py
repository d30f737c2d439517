"""The committed figures drawn again from their results.json, training nothing (`zoo experiment redraw`).

When a plot's code improves (an axis, a legend, a zoomed panel), the pictures under benchmarks/results/
follow without rerunning hours of training: each figure here is a pure function of its results file.
Covers each benchmark's curves.png, the leaderboard's leaderboard.png (and its report's GPU rows) and
the activation ranking's depth-N.png and ranking.png (and its report, which links them).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from zoo.reports.plots import bench_figure
from zoo.reports.records import save_figure, stamp, write_report

RESULTS = Path("benchmarks/results")


def run(results_dir: str | Path = RESULTS) -> dict[str, Any]:
    """Redraw every figure this module knows from the results.json files under `results_dir`; list them.

    Examples:
        >>> import tempfile
        >>> run(tempfile.mkdtemp())["figures"]      # nothing committed there: nothing drawn
        []
    """
    from zoo.experiments import activations, leaderboard

    started, drawn = time.perf_counter(), []
    root = Path(results_dir)
    for path in sorted(root.glob("*/results.json")):
        results = json.loads(path.read_text())
        figures: dict[str, Any] = {}
        if "summary" in results and results.get("schema_version") and "runs" in results:  # a zoo bench result
            figures["curves.png"] = bench_figure(results)
        elif results.get("experiment") == "leaderboard":
            figures["leaderboard.png"] = leaderboard.board_figure(results["entries"], results["thresholds"])
            leaderboard.render(path.parent)
        elif results.get("experiment") == "activations":
            figures = activations.figures(results)
            write_report(path.parent, activations.report(results))  # it links every figure
        for name, figure in figures.items():
            save_figure(figure, path.parent / name)
            drawn.append(str(path.parent / name))
    for line in drawn:
        print(f"redrawn: {line}")
    return {"experiment": "redraw", "figures": drawn, **stamp(started)}
