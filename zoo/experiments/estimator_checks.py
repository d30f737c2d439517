"""scikit-learn's `check_estimator` on `zoo.Classifier` and `zoo.Regressor`: every check, its verdict.

Each check fits the estimator on small data (20-300 rows), most several times, so the full run takes
minutes and is a command, not a test (the tests run the checks that need no training). The estimators
are checked as a user would make them for speed (`epochs=1`, a 16-unit net), except the two checks
that ask a fitted model for a score (`check_classifiers_train`, `check_regressors_train`): one epoch
cannot learn their data, so they run again with the recipe's own budget and that run's verdict counts.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from zoo.errors import first_line
from zoo.reports.records import stamp, write_results

QUICK = {"overrides": {"model.hidden": [16], "train.jit_compile": "off"}, "epochs": 1, "random_state": 0}
LEARNS = {"overrides": {"model.hidden": [16], "train.jit_compile": "off"}, "random_state": 0}
SCORED = ("check_classifiers_train", "check_regressors_train")


def _verdicts(estimator) -> list[dict[str, Any]]:
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    return [
        {
            "check": r["check_name"],
            "status": r["status"],
            **({"message": first_line(r["exception"])} if r.get("exception") else {}),
        }
        for r in results
    ]


def _scored(estimator_class, check: str) -> dict[str, Any]:
    from sklearn.utils import estimator_checks

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            getattr(estimator_checks, check)(estimator_class.__name__, estimator_class(**LEARNS))
        except AssertionError as error:
            return {"check": check, "status": "failed", "message": first_line(error), "budget": "recipe"}
    return {"check": check, "status": "passed", "budget": "recipe"}


def run(out_dir: str | Path = Path("benchmarks/results/estimator-checks")) -> dict[str, Any]:
    """Run every check on both estimators; write results.json and report.md."""
    from zoo.tools.estimators import Classifier, Regressor

    started = time.perf_counter()
    estimators = {}
    for estimator_class in (Classifier, Regressor):
        rows = _verdicts(estimator_class(**QUICK))
        names = {row["check"] for row in rows}
        # The scored checks again, with the recipe's budget; their one-epoch rows are kept, marked.
        for row in rows:
            if row["check"] in SCORED:
                row["budget"] = "one epoch"
        rows += [_scored(estimator_class, check) for check in SCORED if check in names]
        estimators[estimator_class.__name__] = rows
    results = {"experiment": "estimator_checks", "estimators": estimators, **stamp(started)}
    write_results(out_dir, results, _report(results))
    return results


def _report(results: dict[str, Any]) -> str:
    lines = [
        "# scikit-learn's check_estimator on zoo.Classifier and zoo.Regressor",
        "",
        "Each check of `sklearn.utils.estimator_checks.check_estimator`, on estimators made for speed "
        f"(`{QUICK}`); the checks that score a fitted model ({', '.join(SCORED)}) also run with the recipe's "
        "own epoch budget, and that row is their verdict.",
        "",
    ]
    for name, rows in results["estimators"].items():
        counted = [r for r in rows if r.get("budget") != "one epoch"]
        passed = sum(r["status"] == "passed" for r in counted)
        lines += [f"## {name}: {passed} of {len(counted)} checks pass", ""]
        lines += ["| check | status | note |", "|---|---|---|"]
        for row in rows:
            note = row.get("message", "")
            if row.get("budget"):
                note = f"({row['budget']}) {note}".strip()
            lines.append(f"| {row['check']} | {row['status']} | {note.replace('|', '/')} |")
        lines.append("")
    lines += [f"Regenerate: `zoo experiment estimator_checks` ({results['seconds']:.0f} s).", ""]
    return "\n".join(lines)
