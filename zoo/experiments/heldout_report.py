"""The held-out suite's summary (normalized scores, ranks, win/tie/loss, targets) and its report.

Examples:
    >>> rows = [{"set": "a", "kind": "table", "task": "classification",
    ...          "models": {"zoo": {"score": 0.90}, "hgb": {"score": 0.80}, "realmlp_td": {"score": 0.95}}}]
    >>> summary = summarize(rows, {"classification": 0.005, "regression": 0.01})
    >>> summary["tables"]["normalized"]["zoo"], summary["tables"]["wtl"]["hgb"]
    (0.6667, [1, 0, 0])
"""

from __future__ import annotations

from collections.abc import Collection
from statistics import mean, median
from typing import Any

from zoo.reports.plots import accuracy_against_seconds_figure, per_set_scores_figure

ZOO = "zoo"


def ranks(scores: dict[str, float]) -> dict[str, float]:
    """Each entry's place by score, best first; ties share the mean of the places they span.

    Examples:
        >>> ranks({"a": 0.9, "b": 0.7, "c": 0.9})
        {'a': 1.5, 'b': 3, 'c': 1.5}
    """
    ordered = sorted(scores.values(), reverse=True)
    # Ties share the mean of the places they span.
    return {k: mean(i + 1 for i, s in enumerate(ordered) if s == v) for k, v in scores.items()}


def _normalized(scores: dict[str, float]) -> dict[str, float]:
    low, high = min(scores.values()), max(scores.values())
    return {k: 1.0 if high == low else (v - low) / (high - low) for k, v in scores.items()}


def time_to(curves: list[list], target: float) -> float | None:
    """Median over seeds of the training seconds at which the test accuracy first reaches `target` (None if a
    seed never does)."""
    times = [next((t for t, accuracy in curve if accuracy >= target), None) for curve in curves]
    return None if not times or any(t is None for t in times) else round(median(times), 2)


def validation_timing(models: dict[str, Any]) -> dict[str, Any]:
    """Meta-train's time-to-accuracy, all on validation rows: the Keras example's last-epoch validation accuracy,
    and for each zoo variant the seconds its validation curve takes to reach it and where that curve ends.

    Examples:
        >>> models = {"keras_example": {"validation": 0.90, "seconds": 30.0},
        ...           "lean": {"val": 0.92, "curves": [[[5.0, 0.88], [9.0, 0.91], [20.0, 0.92]]]}}
        >>> validation_timing(models)["variants"]["lean"]
        {'seconds_to_keras_final': 9.0, 'final': 0.92, 'at_least_keras': True}
    """
    target = models["keras_example"]["validation"]
    variants = {}
    for label, entry in models.items():
        if "val" in entry and entry.get("curves"):
            final = round(median(curve[-1][1] for curve in entry["curves"]), 4)
            variants[label] = {
                "seconds_to_keras_final": time_to(entry["curves"], target),
                "final": final,
                "at_least_keras": final >= target,
            }
    return {
        "on": "validation",
        "keras_final": target,
        "keras_seconds": models["keras_example"]["seconds"],
        "variants": variants,
    }


def _group(rows: list[dict[str, Any]], tie: dict[str, float]) -> dict[str, Any]:
    labels = sorted({k for row in rows for k, v in row["models"].items() if "val" not in v or k == ZOO})
    normalized: dict[str, list[float]] = {k: [] for k in labels}
    places: dict[str, list[float]] = {k: [] for k in labels}
    wtl = {k: [0, 0, 0] for k in labels if k != ZOO}
    for row in rows:
        # zoo against the others; the variants of a meta-train sweep are compared apart (by validation).
        scores = {k: v["score"] for k, v in row["models"].items() if "val" not in v or k == ZOO}
        if len(scores) < 2:
            continue
        for k, v in _normalized(scores).items():
            normalized[k].append(v)
        for k, v in ranks(scores).items():
            places[k].append(v)
        if ZOO in scores:
            for k in scores:
                if k != ZOO:
                    diff = scores[ZOO] - scores[k]
                    wtl[k][1 if abs(diff) <= tie[row["task"]] else 0 if diff > 0 else 2] += 1
    return {
        "sets": len(rows),
        "normalized": {k: round(mean(v), 4) for k, v in normalized.items() if v},
        "rank": {k: round(mean(v), 2) for k, v in places.items() if v},
        "wtl": wtl,
    }


def summarize(rows: list[dict[str, Any]], tie: dict[str, float]) -> dict[str, Any]:
    """Across sets: per contestant, mean normalized score and rank; zoo's win/tie/loss; the issue's targets."""
    summary: dict[str, Any] = {}
    tables = [r for r in rows if r["kind"] == "table"]
    images = [r for r in rows if r["kind"] == "image"]
    if tables:
        group = summary["tables"] = _group(tables, tie)
        if "hgb" in group["wtl"]:
            w, t, _ = group["wtl"]["hgb"]
            group["ties_or_beats_hgb"] = round((w + t) / len(tables), 3)
        accuracy = [r for r in tables if r["task"] == "classification" and {ZOO, "realmlp_td"} <= set(r["models"])]
        if accuracy:
            group["mean_accuracy"] = {
                k: round(mean(r["models"][k]["score"] for r in accuracy), 4) for k in (ZOO, "realmlp_td")
            }
    if images:
        group = summary["images"] = _group(images, tie)
        timing = {}
        for row in images:
            models = row["models"]
            if row.get("curves_on") == "validation" and "keras_example" in models:
                timing[row["set"]] = validation_timing(models)
            elif ZOO in models and "keras_example" in models:
                target = models["keras_example"]["score"]
                timing[row["set"]] = {
                    "keras_final": target,
                    "keras_seconds": models["keras_example"]["seconds"],
                    "zoo_seconds_to_keras_final": time_to(models[ZOO].get("curves", []), target),
                    "zoo_at_least_keras": models[ZOO]["score"] >= target,
                }
        group["time_to_keras"] = timing
    variants = sorted({k for r in rows for k, v in r["models"].items() if "val" in v})
    if len(variants) > 1:  # meta-train: which zoo variant validation prefers (mean rank of validation scores)
        places = {k: [] for k in variants}
        for row in rows:
            for k, v in ranks({k: row["models"][k]["val"] for k in variants if k in row["models"]}).items():
                places[k].append(v)
        summary["variants_by_validation"] = {k: round(mean(v), 2) for k, v in places.items()}
    return summary


def _baseline_rates(group: list[dict[str, Any]]) -> list[str]:
    """Per image set, the sigmoid/SGD baseline's learning rate and the validation scores it was picked from.

    Examples:
        >>> entry = {"rate": 1.0, "grid_budget": "a quarter", "grid": {"0.1": 0.907, "1": 0.973}}
        >>> print(_baseline_rates([{"set": "mnist", "models": {"zoo_baseline": entry}}])[1])
        mnist: zoo_baseline at SGD rate 1, picked on validation (0.1: 0.9070, 1: 0.9730; runs of a quarter budget).
        >>> fixed = {"rate": 1.0, "grid_budget": "fixed"}
        >>> print(_baseline_rates([{"set": "faces", "models": {"zoo_baseline": fixed}}])[1])
        faces: zoo_baseline at SGD rate 1, fixed on meta-train's validation.
    """
    lines = []
    for r in group:
        entry = r["models"].get("zoo_baseline", {})
        if "rate" not in entry:
            continue
        if entry.get("grid_budget") == "fixed":
            lines.append(f"{r['set']}: zoo_baseline at SGD rate {entry['rate']:g}, fixed on meta-train's validation.")
            continue
        picked = f"{r['set']}: zoo_baseline at SGD rate {entry['rate']:g}, picked on validation"
        if "grid" in entry:
            scores = ", ".join(f"{k}: {v:.4f}" for k, v in entry["grid"].items())
            budget = "runs of a quarter budget" if entry.get("grid_budget") == "a quarter" else "whole runs"
            picked += f" ({scores}; {budget})"
        lines.append(picked + ".")
    return [""] + lines if lines else []


def _section(kind: str, group: list[dict[str, Any]], part: dict[str, Any]) -> list[str]:
    """One kind's table of per-set scores, its summary and its targets."""
    lines: list[str] = []
    labels = sorted({k for r in group for k in r["models"]}, key=lambda k: (k != ZOO, k))
    lines += [
        f"## {kind.title()}s",
        "",
        "| set | task | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for r in group:
        cells = []
        for k in labels:
            m = r["models"].get(k)
            validation = f"val {m['val']:.4f}, " if m and m.get("val") is not None else ""
            absent = "skipped" if k in r.get("skipped", {}) else "n/a"
            cells.append(absent if m is None else f"{m['score']:.4f} ({validation}{m['seconds']:.0f} s)")
        lines.append(f"| {r['set']} | {r['task']} | " + " | ".join(cells) + " |")
    for r in group:
        lines += [f"\n{r['set']}: {k} skipped ({why})." for k, why in r.get("skipped", {}).items()]
    lines += _baseline_rates(group)
    lines += ["", "| contestant | mean normalized score | mean rank |", "|---|---|---|"]
    for k in labels:
        if k in part.get("normalized", {}):
            lines.append(f"| {k} | {part['normalized'][k]:.3f} | {part['rank'][k]:.2f} |")
    lines += [
        "",
        "zoo win/tie/loss: " + ", ".join(f"{k} {'/'.join(map(str, c))}" for k, c in part["wtl"].items()),
        "",
    ]
    if "ties_or_beats_hgb" in part:
        lines.append(f"zoo ties or beats HistGradientBoosting on {part['ties_or_beats_hgb']:.0%} of the tables.")
    if "mean_accuracy" in part:
        lines.append(f"Mean accuracy on the classification tables: {part['mean_accuracy']}.")
    for name, t in part.get("time_to_keras", {}).items():
        if t.get("on") == "validation":
            ends = [
                f"{label} "
                + (
                    f"reaches it after {v['seconds_to_keras_final']} s"
                    if v["seconds_to_keras_final"] is not None
                    else "does not reach it"
                )
                + f" (ends at {v['final']:.4f})"
                for label, v in t["variants"].items()
            ]
            lines.append(
                f"{name}, on validation rows: Keras example {t['keras_final']:.4f} in {t['keras_seconds']:.0f} s; "
                + "; ".join(ends)
                + "."
            )
            continue
        reached = t["zoo_seconds_to_keras_final"]
        zoo_line = f"zoo reaches it after {reached} s" if reached is not None else "zoo does not reach it"
        lines.append(f"{name}: Keras example {t['keras_final']:.4f} in {t['keras_seconds']:.0f} s; {zoo_line}.")
    lines.append("")
    return lines


def render(results: dict[str, Any], pictures: Collection[str] = ()) -> str:
    """report.md: per-set scores, the summary and the targets; `pictures` names the figures written beside it."""
    rows, summary = results["sets"], results["summary"]
    lines = [
        f"# Held-out suite: {results['part']}",
        "",
        "Sets and split: `benchmarks/heldout/sets.toml`. Test accuracy (R^2 for regression), median over seeds; "
        "seconds of fitting. zoo variants also show their best validation score (the only thing defaults are "
        "chosen from).",
        "",
    ]
    for kind in ("table", "image"):
        group = [r for r in rows if r["kind"] == kind]
        if group:
            lines += _section(kind, group, summary.get(kind + "s", {}))
            if f"{kind}s.png" in pictures:
                lines += [f"![{kind}s]({kind}s.png)", ""]
    transfer = [r for r in rows if r.get("transfer")]
    if transfer:
        lines += [
            "## Transfer: shipped conv models fine-tuned, against the cnn from scratch",
            "",
            "Images resized to 28x28 grayscale; one seed; test accuracy (seconds).",
            "",
            "| set | labels | " + " | ".join(transfer[0]["transfer"][0]["models"]) + " |",
            "|---|---|" + "---|" * len(transfer[0]["transfer"][0]["models"]),
        ]
        for r in transfer:
            for t in r["transfer"]:
                cells = [f"{m['test']:.4f} ({m['seconds']:.0f} s)" for m in t["models"].values()]
                lines.append(f"| {r['set']} | {t['labels']} | " + " | ".join(cells) + " |")
        lines.append("")
    if "variants_by_validation" in summary:
        lines += ["## zoo variants, by validation (mean rank; lower is better)", ""]
        lines += [f"- {k}: {v}" for k, v in sorted(summary["variants_by_validation"].items(), key=lambda kv: kv[1])]
        lines += ["", "Overrides: " + "; ".join(f"{k} = {v}" for k, v in results["variants"].items()), ""]
    if results.get("not_run"):
        lines += [f"Not run (the session's time ran out first): {', '.join(results['not_run'])}.", ""]
    if results.get("note"):
        lines += [results["note"], ""]
    took = (
        "joined from the runs that results.json lists under `runs`"
        if results.get("runs")
        else f"{results['seconds']:.0f} s"
    )
    lines += [f"Regenerate: `zoo experiment heldout --part {results['part']}` ({took}).", ""]
    return "\n".join(lines)


def figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """tables.png: each table's contestants from its worst to its best; images.png: test accuracy (validation on
    meta-train) against seconds of training (the first seed's sampled curve) for every image set where two
    contestants recorded one."""
    drawn: dict[str, Any] = {}
    tables = [
        {"set": r["set"], "scores": {k: v["score"] for k, v in r["models"].items() if "val" not in v or k == ZOO}}
        for r in rows
        if r["kind"] == "table"
    ]
    tables = [t for t in tables if len(t["scores"]) >= 2]  # a variants-only sweep compares by validation instead
    if tables:
        drawn["tables.png"] = per_set_scores_figure(tables, title="Held-out tables: where zoo stands on each")
    panels = {
        r["set"]: {k: v["curves"][0] for k, v in r["models"].items() if v.get("curves")}
        for r in rows
        if r["kind"] == "image"
    }
    panels = {name: curves for name, curves in panels.items() if len(curves) >= 2}
    if panels:
        rows_read = "validation" if any(r.get("curves_on") == "validation" for r in rows) else "test"
        title = f"Held-out images: {rows_read} accuracy on the way"
        drawn["images.png"] = accuracy_against_seconds_figure(panels, title=title)
    return drawn
