"""A committed bench's runs, read back where they are the runs a recipe as it ships now would train.

`zoo bench` trains a recipe for seeds 0, 1, 2 on its own split and commits every run's test accuracy and the
commit it trained at (benchmarks/results/<recipe>/results.json). Another experiment that needs exactly those
runs (the tuning experiment's final runs, when its search keeps the recipe) reads them from there instead of
training them again: a conv recipe's three runs are over an hour on 2 CPU cores. They count only if the bench
trained this recipe: every key it recorded holds the recipe's value now, and every key added to zoo since
holds its default (a new key's default keeps the behaviour it did not have a key for).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.recipes.keys import SCHEMA
from zoo.recipes.recipe import Recipe

# What trains a recipe's runs; its name, description, [bench], [tune] and [baseline] change none of them.
TRAINING_KEYS = ("dataset", "task", "validation_size", "model", "stack", "regularization", "train", "pretrain")


def same_training(recipe: Recipe, recorded: dict[str, Any]) -> bool:
    """Whether `recorded` (a bench's `resolved_recipe`) trains as `recipe` does.

    Examples:
        >>> import zoo
        >>> recorded = json.loads(json.dumps(zoo.get_recipe("fashion_mlp").to_dict()))
        >>> same_training(zoo.get_recipe("fashion_mlp"), recorded)
        True
        >>> same_training(zoo.get_recipe("fashion_mlp", epochs=3), recorded)
        False
        >>> del recorded["train"]["precision"]  # a key zoo gained after the bench: its default trains as before
        >>> same_training(zoo.get_recipe("fashion_mlp"), recorded)
        True
    """
    current = json.loads(json.dumps(recipe.to_dict()))  # tuples as lists, as a results file holds them
    for key in TRAINING_KEYS:
        if key == "task" and current[key] == "auto":
            continue  # a bench records the task it resolved from the same dataset
        now, then = current[key], recorded.get(key)
        if not isinstance(now, dict):
            if now != then:
                return False
            continue
        then = then or {}
        for name, value in now.items():
            if name in then:
                if then[name] != value:
                    return False
            elif SCHEMA[key][name].default is None or value != SCHEMA[key][name].default:
                return False  # a key the bench did not record trains its default only; None: the stack filled it
    return True


def benched_runs(recipe: Recipe, seeds: int, results_root: str | Path) -> dict[str, Any] | None:
    """The test accuracies of seeds 0 .. seeds-1 of `recipe` as its committed bench trained them, and the commits
    they trained at; None where there is no bench, it trained another recipe or fewer seeds, or a run of it
    trained on a commit with uncommitted changes.

    Examples:
        >>> import zoo
        >>> benched_runs(zoo.get_recipe("fashion_mlp"), 3, "/nowhere") is None
        True
    """
    path = Path(results_root) / recipe.name / "results.json"
    if recipe.dataset == "any" or not path.is_file():
        return None
    bench = json.loads(path.read_text())
    runs = {run["seed"]: run for run in bench.get("runs", []) if run.get("variant") == "recipe"}
    wanted = [runs.get(seed) for seed in range(seeds)]
    if any(run is None or run.get("status") != "ok" for run in wanted):
        return None
    if any(not run.get("trained_at") or run["trained_at"]["uncommitted_changes"] for run in wanted):
        return None
    if "resolved_recipe" not in bench or not same_training(recipe, bench["resolved_recipe"]):
        return None
    return {
        "accuracies": [run["test_accuracy"] for run in wanted],
        "commits": sorted({run["trained_at"]["commit"] for run in wanted}),
        "source": f"benchmarks/results/{recipe.name}",
    }
