"""Committed experiments that show *why* the default stack exists (`zoo experiment NAME`).

One module per experiment. Each imports the library and has a `run(**options)`; the library never
imports this package, and torch is imported only by the speed experiment.

* ``vanishing``: Nielsen's observation on Fashion-MNIST. Nets of 2, 3 and 4 hidden layers of
  30 sigmoid units (N(0, 1/fan_in) init, SGD) learn slower the nearer a layer is to the input;
  the same depths built with the default stack do not. Plus the 20-layer recipe vs its baseline.
* ``exploding``: a 10-layer ReLU net with a too-large init (std 0.2, ~1.4x He) trained with
  a large SGD rate: gradient norms blow up and the loss goes to NaN; the same net with gradient
  clipping (clipnorm 1.0) trains.

* ``transfer``: reuse a net trained on 8 classes for a 2-class task with 200 labels.
* ``pretrain``: one deep sigmoid net trained from random init, from greedy RBM pretraining and
  from greedy denoising-autoencoder pretraining (then fine-tuned with SGD), next to the same
  architecture built with the default stack; test accuracy and wall time over several seeds.
* ``levers``: each benchmarked recipe's own stack against the modern stack (Swish, AdamW), 3 seeds, the
  choice read on validation only (`--recipes` runs some of them; the report joins every recipe run).
* ``leaderboard``: seconds of training to test accuracy 0.90, 0.92, 0.93 and 0.94 on this CPU:
  zoo's recipes against keras.io's example convnet, a PyTorch twin and zoo under the JAX backend, fixed
  budgets, median over seeds.
* ``tuning``: a KerasTuner search of a recipe's [tune] space against the recipe itself, both
  retrained for several seeds: does the default hold up, and what does the search cost?
* ``tabular``: the tabular recipe against its baseline, scikit-learn's MLP and gradient boosting on
  scikit-learn's own tables (three classification, one regression), read through `--data`'s path.
* ``parity``, ``tuples``, ``conditioning``, ``flat``: the four cases of "Failures of
  Gradient-Based Deep Learning" (Shalev-Shwartz, Shamir and Shammah 2017), where gradient
  descent fails and the default stack does not help: parities, end-to-end against
  decomposition, architecture and conditioning, and flat activations. They share
  `zoo.experiments.online` (training on fresh samples).
* ``activations``: the guide's activation ranking (ELU > leaky ReLU > ReLU > tanh > sigmoid)
  measured at two depths, every activation with its own initializer.
* ``claims``: the founding claims as a table (dropout's 2%, Adam's speed-up, deep vs shallow,
  the activation ranking, DAE against RBM pretraining), each with a measurement and a verdict.
* ``heldout``: the generic recipes on data they were never tuned on: 19 tables and 8 image sets split into
  meta-train (defaults chosen there, on validation) and meta-test (final runs only), against gradient
  boosting, RealMLP-TD, scikit-learn's MLP and keras.io's example convnet (`--part meta-train|meta-test`).
* ``estimator_checks``: scikit-learn's `check_estimator` on `zoo.Classifier` and `zoo.Regressor`, every
  check's verdict.
* ``reproducibility``: one cheap run (the tests' tiny digits recipe) whose per-epoch metrics the test
  suite reproduces, to float32 rounding on the same library versions and CPU.
* ``distribute``: training seconds of one small recipe with no strategy, mirrored over 1 and 2 devices and
  as 2 workers (`zoo launch`), each in its own process, median of 3 rounds.
* ``accelerator``: the leaderboard's zoo budgets on a GPU: zoo's networks as Keras programs (JAX backend) and
  as PyTorch twins, float32 and bfloat16, against keras.io's example convnet (the GPU machine has no TensorFlow).
* ``redraw``: the committed figures (benchmarks' curves, the leaderboard, the activation ranking) drawn
  again from their results.json after a plot's code changed, training nothing.
* ``speed``: training throughput of zoo's path vs plain Keras fit vs PyTorch (zoo.experiments.speed).
* ``precision``: zoo's training path in mixed bfloat16 against float32 on this CPU (the conv recipes).

Each writes results.json, report.md and PNGs to benchmarks/results/<name>/.
"""

from __future__ import annotations

import importlib
from typing import Any

from zoo.recipes.schema import unknown_word_error

# Each experiment: one line on what it shows, and its typical time on 2 CPU cores (its committed results.json
# records the run's own seconds; `zoo experiment --help` prints these).
ABOUT: dict[str, tuple[str, str]] = {
    "vanishing": ("sigmoid nets learn slower near the input; the default stack does not", "1-2 min"),
    "exploding": ("a too-large init blows up the gradients; clipping keeps the same net training", "1 min"),
    "transfer": ("reuse a net trained on 8 classes for a 2-class task with 200 labels", "2 min"),
    "pretrain": ("random init, RBM and denoising-autoencoder pretraining, and the default stack", "8 min"),
    "speed": ("training throughput: zoo's path, a plain Keras fit and PyTorch", "25-35 min"),
    "precision": ("zoo's training path in mixed bfloat16 against float32 on this CPU", "3 min"),
    "levers": ("each recipe's own stack against the modern stack, chosen on validation", "hours"),
    "leaderboard": ("seconds of training to test accuracy 0.90-0.94 against keras.io, PyTorch and JAX", "120 min"),
    "tuning": ("a KerasTuner search of each recipe's [tune] space against the recipe", "2 min-8 h (--recipes)"),
    "tabular": ("the tabular recipe against gradient boosting and scikit-learn's MLP", "17 min"),
    "parity": ("learning parities: where gradient descent fails as d grows", "3 min"),
    "tuples": ("end-to-end learning against decomposition on tuples of images", "6 min"),
    "conditioning": ("architecture and conditioning: iterations against problem size", "3 min"),
    "flat": ("flat activations: a forward-only estimator against end-to-end and smooth fits", "1-2 min"),
    "activations": ("the activation ranking at two depths, each with its own initializer", "10 min"),
    "claims": ("the founding claims as a table, each with a measurement and a verdict", "8 min"),
    "heldout": ("the generic recipes on 19 tables and 8 image sets they were not tuned on", "about 60 min"),
    "estimator_checks": ("scikit-learn's check_estimator on zoo.Classifier and zoo.Regressor", "5 min"),
    "reproducibility": ("one cheap run whose per-epoch metrics every test run reproduces", "3 s"),
    "distribute": ("training seconds with no strategy, mirrored and two workers, per process", "3 min"),
    "redraw": ("the committed figures drawn again from their results.json, training nothing", "10 s"),
    # Made for a GPU (8 min on one H200); on 2 cores JAX's convolutions make it slow.
    "accelerator": (
        "the leaderboard's budgets as Keras (JAX) and PyTorch on a GPU, float32 and bf16",
        "hours",
    ),
}
EXPERIMENTS = tuple(ABOUT)


def run_experiment(name: str, **options) -> dict[str, Any]:
    """Run the experiment `name` (one of EXPERIMENTS) and return its results.

    Examples:
        >>> run_experiment("vanish")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        zoo.errors.RecipeError: experiment = 'vanish' is not allowed (did you mean 'vanishing'?); allowed: ...
    """
    if name not in EXPERIMENTS:
        raise unknown_word_error("experiment", name, EXPERIMENTS)
    return importlib.import_module(f"zoo.experiments.{name}").run(**options)
