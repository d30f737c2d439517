"""A leaderboard entry's run under `KERAS_BACKEND=jax`, in a process of its own.

Keras fixes its backend once per process, and the board runs on TensorFlow, so each run of a ``jax`` entry
starts `python -m zoo.experiments.jax_entry SPEC RUNS_DIR`: `zoo.train` of the entry's recipe, as the ``zoo``
contestant trains it, its test accuracy and training seconds printed as one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from zoo.errors import RunError


def run_in_jax(spec: dict[str, Any], runs_dir: str | Path) -> dict[str, float]:
    """Train the entry `spec` names (label, recipe, overrides, seed) in a fresh process under JAX.

    Examples:
        (Not run by the doctests: a JAX process and a minute of training; tests/test_leaderboard.py runs one.)
        >>> spec = {"label": "tiny", "recipe": "fashion_cnn_tiny", "overrides": {}, "seed": 0}  # doctest: +SKIP
        >>> sorted(run_in_jax(spec, "runs/board"))  # doctest: +SKIP
        ['test_accuracy', 'train_seconds']
    """
    try:
        return jax_process(["-m", "zoo.experiments.jax_entry", json.dumps(spec), str(runs_dir)])
    except RunError as error:
        raise RunError(f"{spec['label']}, seed {spec['seed']}: the JAX process failed: {error}") from None


def jax_process(args: list[str]) -> Any:
    """`python *args` in a fresh process under KERAS_BACKEND=jax: the last line it prints, read as JSON. A process
    that fails is a RunError with its last line of stderr. The leaderboard's JAX runs and the speed experiment's
    JAX timings (`zoo.experiments.twins.measure_jax`) both start theirs here.

    Examples:
        >>> jax_process(["-c", "import json, os; print(json.dumps(os.environ['KERAS_BACKEND']))"])
        'jax'
        >>> jax_process(["-c", "raise SystemExit('no such set')"])
        Traceback (most recent call last):
        ...
        zoo.errors.RunError: no such set
    """
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise RunError(said[-1] if said else f"the JAX process ended with exit code {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    """The child's side: the entry's run as the ``zoo`` contestant's, on whatever backend this process has."""
    from zoo.experiments.leaderboard import Entry, run_entry

    spec = json.loads(argv[0])
    entry = Entry("zoo", spec["label"], recipe=spec["recipe"], overrides=spec["overrides"])
    print(json.dumps(run_entry(entry, spec["seed"], Path(argv[1]))))


if __name__ == "__main__":
    main(sys.argv[1:])
