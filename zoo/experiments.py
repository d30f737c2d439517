"""Committed experiments that show *why* the default stack exists (`zoo experiment NAME`).

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
* ``speed``: training throughput of zoo's path vs plain Keras fit vs PyTorch (zoo.speed).

Each writes results.json, report.md and PNGs to benchmarks/results/<name>/.
"""

from __future__ import annotations

import json
import time

import keras
from pathlib import Path
from typing import Any

from zoo.build import BASELINE_OVERRIDES
from zoo.data import load, reshuffled
from zoo.diagnostics import plot_speeds
from zoo.files import atomic_write, write_json
from zoo.recipe import get_recipe
from zoo.train import train, versions

EXPERIMENTS = ("vanishing", "exploding", "transfer", "pretrain", "speed")


def _run(recipe, data, runs_dir: Path, label: str, baseline: bool = False, learning_rate=None) -> dict[str, Any]:
    result = train(recipe, data=data, out_dir=runs_dir / label, baseline=baseline, learning_rate=learning_rate, verbose=0)
    records = json.loads(result.paths["diagnostics"].read_text())["records"]
    return {
        "label": label,
        "stack": "baseline" if baseline else recipe.stack.name,
        "hidden": list(recipe.model.hidden),
        "test_accuracy": result.metrics["test_accuracy"],
        "diverged": result.metrics["diverged"],
        "epochs_run": result.metrics["epochs_run"],
        "gradient_warning": result.metrics["gradient_warning"],
        "speeds": [{"epoch": r["epoch"], "bias_grad_norm": [row["bias_grad_norm"] for row in r["layers"]],
                    "weight_grad_norm": [row["weight_grad_norm"] for row in r["layers"]],
                    "first_last_ratio": r["first_last_ratio"]} for r in records],
        "records": records,
        "history": {key: result.metrics["history"].get(key, []) for key in ("loss", "val_accuracy")},
    }


def vanishing(out_dir: str | Path = Path("benchmarks/results/vanishing"), runs_dir: str | Path | None = None,
              epochs: int = 5, deep_epochs: int = 2) -> dict[str, Any]:
    """The vanishing-gradient experiment; returns the results written to `out_dir`."""
    out_dir = Path(out_dir)
    runs_dir = Path(runs_dir) if runs_dir else Path("runs") / "experiments" / f"vanishing-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.perf_counter()
    data = load("fashion_mnist", batch_size=10)
    runs = []
    for depth in (2, 3, 4):
        # Nielsen's setting: 30 sigmoid units per layer, mini-batches of 10, SGD at 0.1.
        small = get_recipe("fashion_mlp", name=f"sigmoid_{depth}x30", hidden=[30] * depth, batch_size=10, epochs=epochs,
                           early_stopping_patience=0, **{"baseline.learning_rates": [0.1]})
        runs.append(_run(small, data, runs_dir, f"{depth}x30-baseline", baseline=True, learning_rate=0.1))
        runs.append(_run(get_recipe(small, name=f"default_{depth}x30", dropout=0.0), data, runs_dir, f"{depth}x30-default"))
        print(f"[{time.perf_counter() - started:6.0f} s] depth {depth} done", flush=True)
    deep = get_recipe("fashion_deep_mlp", epochs=deep_epochs, early_stopping_patience=0)
    deep_data = load("fashion_mnist", batch_size=deep.train.batch_size)
    runs.append(_run(deep, deep_data, runs_dir, "20x100-baseline", baseline=True, learning_rate=0.1))
    runs.append(_run(deep, deep_data, runs_dir, "20x100-default"))
    results = {"experiment": "vanishing", "epochs": epochs, "deep_epochs": deep_epochs, "runs": runs,
               "seconds": round(time.perf_counter() - started), "versions": versions(), "date": time.strftime("%Y-%m-%d")}
    _write(out_dir, results, _vanishing_report(results))
    return results


def _speeds(values) -> str:
    return ", ".join(f"{v:.2g}" for v in values)


def _vanishing_report(results: dict[str, Any]) -> str:
    lines = [
        "# Vanishing gradients, layer by layer (Fashion-MNIST)",
        "",
        "Speed of learning of each hidden layer = ||dC/db||, the norm of the bias-gradient vector on a fixed batch of",
        "1,000 training examples (Nielsen, *Neural Networks and Deep Learning*, ch. 5; with BatchNorm the Dense has no",
        "bias and BN's beta is used). Layer 1 is nearest the input. Baseline: sigmoid, N(0, 1/fan_in) init, SGD at 0.1,",
        f"mini-batches of 10. Default: He init, BatchNorm, ELU, Adam (no dropout here). {results['epochs']} epochs;",
        f"the 20-layer nets {results['deep_epochs']}.",
        "",
        "| net | stack | speed per layer at initialization | after training | first/last ||dC/dW|| at init | test accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for run in results["runs"]:
        init, last = run["speeds"][0], run["speeds"][-1]
        shown = lambda speeds: _speeds(speeds) if len(speeds) <= 6 else _speeds(speeds[:3]) + ", ..., " + _speeds(speeds[-2:])
        lines.append(f"| {len(run['hidden'])} x {run['hidden'][0]} | {run['stack']} | {shown(init['bias_grad_norm'])} | "
                     f"{shown(last['bias_grad_norm'])} | {init['first_last_ratio']:.2g} | {run['test_accuracy']:.4f} |")
    lines += [
        "",
        "Reading it: at initialization each sigmoid layer learns several times slower than the one above it, so the",
        "gap between the first and the last layer grows with depth. In the shallow sigmoid nets a few epochs of SGD",
        "even the speeds out; at 20 layers the first layer's gradient starts many orders of magnitude below the last's,",
        "stays there, and the net stays at chance. With the default stack the speeds stay within a small factor of each",
        "other at every depth, from the first step on. Nielsen reports the same initialization pattern on MNIST with",
        "[784, 30, ..., 30, 10] sigmoid nets (chapter 5).",
        "",
        f"Regenerate: `zoo experiment vanishing` ({results['seconds']} s on this run's machine).",
        "",
    ]
    return "\n".join(lines)


def exploding(out_dir: str | Path = Path("benchmarks/results/exploding"), runs_dir: str | Path | None = None,
              epochs: int = 3) -> dict[str, Any]:
    """The exploding-gradient demonstration; returns the results written to `out_dir`."""
    out_dir = Path(out_dir)
    runs_dir = Path(runs_dir) if runs_dir else Path("runs") / "experiments" / f"exploding-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.perf_counter()
    unstable = get_recipe(
        "fashion_mlp", name="relu_10x100_large_init", hidden=[100] * 10, activation="relu", init="random_normal",
        init_std=0.2, batch_norm=False, dropout=0.0, optimizer="sgd", learning_rate=0.05, epochs=epochs,
        early_stopping_patience=0,
    )
    data = load("fashion_mnist", batch_size=unstable.train.batch_size)
    runs = [_run(unstable, data, runs_dir, "no-clipping"),
            _run(get_recipe(unstable, name="relu_10x100_large_init_clipped", clipnorm=1.0), data, runs_dir, "clipnorm-1.0")]
    results = {"experiment": "exploding", "epochs": epochs, "runs": runs, "seconds": round(time.perf_counter() - started),
               "versions": versions(), "date": time.strftime("%Y-%m-%d")}
    lines = [
        "# Exploding gradients and gradient clipping (Fashion-MNIST)",
        "",
        "10 hidden ReLU layers of 100 units, weights N(0, 0.2^2) (He would be 0.14), no BatchNorm, plain SGD at 0.05,",
        f"{epochs} epochs. Gradient norms per layer on a fixed batch of 1,000 training examples.",
        "",
        "| run | largest layer ||dC/dW|| at init | training loss, epoch 1 | diverged (loss inf or NaN) | epochs run | test accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        largest = max(run["speeds"][0]["weight_grad_norm"])
        lines.append(f"| {run['label']} | {largest:.3g} | {run['history']['loss'][0]:.4g} | "
                     f"{'yes' if run['diverged'] else 'no'} | {run['epochs_run']} | {run['test_accuracy']:.4f} |")
    lines += ["", "For scale: the same net built with the default stack starts with per-layer gradient norms of about 0.1 to 2",
              "(see the vanishing experiment). Without clipping, the first SGD steps on gradients this large throw the",
              "weights so far that the loss overflows within the first epoch; clipping each gradient to norm 1 keeps every",
              "step bounded and the same net trains."]
    lines += ["", f"Regenerate: `zoo experiment exploding` ({results['seconds']} s on this run's machine).", ""]
    _write(out_dir, results, "\n".join(lines))
    return results


def transfer_experiment(out_dir: str | Path = Path("benchmarks/results/transfer"), runs_dir: str | Path | None = None,
                        held_out: tuple[int, int] = (5, 6), train_size: int = 200, seeds: int = 5,
                        source_epochs: int = 10, epochs: int = 20) -> dict[str, Any]:
    """Model A on 8 Fashion-MNIST classes; task B = the 2 held-out classes from only 200 images.

    B is trained from scratch (the fashion_mlp recipe) and by reusing A (new head on A's frozen
    body, then the whole net at a 10x lower rate), for every seed; test accuracy on B's test set.
    """
    import statistics


    from zoo.data import select_classes
    from zoo.reuse import fine_tune

    out_dir = Path(out_dir)
    runs_dir = Path(runs_dir) if runs_dir else Path("runs") / "experiments" / f"transfer-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.perf_counter()
    recipe = get_recipe("fashion_mlp", epochs=source_epochs)
    data = load("fashion_mnist", batch_size=recipe.train.batch_size)
    keep = [c for c in range(10) if c not in held_out]
    source_data = select_classes(data, keep)
    source = train(get_recipe(recipe, name="fashion_mlp_8_classes"), data=source_data, out_dir=runs_dir / "source-A", verbose=0)
    print(f"[{time.perf_counter() - started:6.0f} s] A: test accuracy {source.test['accuracy']:.4f} on its 8 classes", flush=True)
    rows = []
    for seed in range(seeds):
        task = select_classes(data, list(held_out), train_size=train_size, seed=seed)
        scratch = train(get_recipe(recipe, name="task_b_scratch", epochs=epochs, seed=seed, early_stopping_patience=0,
                                   steps_per_execution=1),
                        data=task, out_dir=runs_dir / f"scratch-seed{seed}", verbose=0)
        keras.utils.set_random_seed(seed)
        reused, _ = fine_tune(source.model, task, head_epochs=epochs // 2, tune_epochs=epochs - epochs // 2)
        reused_accuracy = float(reused.evaluate(task.test, verbose=0, return_dict=True)["accuracy"])
        rows.append({"seed": seed, "scratch_test_accuracy": scratch.test["accuracy"], "reused_test_accuracy": reused_accuracy})
        print(f"[{time.perf_counter() - started:6.0f} s] seed {seed}: scratch {scratch.test['accuracy']:.4f}, "
              f"reusing A {reused_accuracy:.4f}", flush=True)
    summary = {}
    for key in ("scratch_test_accuracy", "reused_test_accuracy"):
        values = [row[key] for row in rows]
        summary[key] = {"mean": statistics.fmean(values), "std": statistics.pstdev(values), "min": min(values), "max": max(values)}
    error = {key: 1 - summary[key]["mean"] for key in summary}
    names = [data.info.class_names[c] for c in held_out]
    results = {"experiment": "transfer", "held_out_classes": list(held_out), "held_out_names": names, "train_size": train_size,
               "source_test_accuracy": source.test["accuracy"], "source_epochs": source_epochs, "epochs": epochs,
               "runs": rows, "summary": summary, "seconds": round(time.perf_counter() - started),
               "versions": versions(), "date": time.strftime("%Y-%m-%d")}
    ratio = error["scratch_test_accuracy"] / error["reused_test_accuracy"] if error["reused_test_accuracy"] else float("inf")
    report = "\n".join([
        f"# Transfer learning with {train_size} labelled images (Fashion-MNIST)",
        "",
        f"Model A: the fashion_mlp recipe trained for {source_epochs} epochs on the 8 classes other than "
        f"{names[0]} and {names[1]} (test accuracy {source.test['accuracy']:.4f} on those 8).",
        f"Task B: {names[0]} vs {names[1]}, {train_size} training images (a different draw per seed), "
        "the full validation and test images of the two classes.",
        f"From scratch: the fashion_mlp recipe, {epochs} epochs. Reusing A: A's body frozen under a new 2-way head for "
        f"{epochs // 2} epochs, then everything trained {epochs - epochs // 2} more epochs at a 10x lower rate (1e-4).",
        "",
        "| B trained | test accuracy, mean +- std over " + str(seeds) + " seeds | min | max |",
        "|---|---|---|---|",
        *(f"| {label} | {summary[key]['mean']:.4f} +- {summary[key]['std']:.4f} | {summary[key]['min']:.4f} | {summary[key]['max']:.4f} |"
          for label, key in (("from scratch", "scratch_test_accuracy"), ("reusing A", "reused_test_accuracy"))),
        "",
        f"Test error: {error['scratch_test_accuracy']:.2%} from scratch vs {error['reused_test_accuracy']:.2%} reusing A, "
        f"a ratio of {ratio:.2f}. Per seed: " + "; ".join(
            f"{r['seed']}: {r['scratch_test_accuracy']:.4f} vs {r['reused_test_accuracy']:.4f}" for r in rows) + ".",
        "",
        f"Regenerate: `zoo experiment transfer` ({results['seconds']} s on this run's machine).",
        "",
    ])
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "results.json", results)
    atomic_write(out_dir / "report.md", lambda tmp: tmp.write_text(report))
    print(report)
    return results


PRETRAIN_VARIANTS = (
    ("random", "sigmoid, random init, SGD"),
    ("rbm", "sigmoid, RBM-pretrained (CD-1), SGD"),
    ("dae", "sigmoid, DAE-pretrained, SGD"),
    ("default", "default stack (He, BN, ELU, dropout, Adam)"),
)


def pretrain_experiment(out_dir: str | Path = Path("benchmarks/results/pretrain"), runs_dir: str | Path | None = None,
                        hidden: tuple[int, ...] = (256,) * 6, seeds: int = 3, epochs: int = 8, layer_epochs: int = 2,
                        learning_rates: tuple[float, ...] = (0.1, 1.0), batch_size: int = 64) -> dict[str, Any]:
    """Random init vs RBM vs DAE pretraining of one deep sigmoid net, and the default stack beside them.

    The three sigmoid variants fine-tune with plain SGD, each at the rate from `learning_rates`
    with the best validation accuracy (first seed); the default stack uses Adam at 1e-3.
    Wall time counts pretraining and fine-tuning.
    """
    import shutil

    from zoo.bench import spread

    out_dir = Path(out_dir)
    runs_dir = Path(runs_dir) if runs_dir else Path("runs") / "experiments" / f"pretrain-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.perf_counter()
    common = dict(hidden=list(hidden), epochs=epochs, batch_size=batch_size, early_stopping_patience=epochs)
    # The plain practice (sigmoid, N(0, 1/fan_in), no BN or dropout, SGD), as zoo's baselines build it.
    sigmoid = get_recipe("fashion_mlp", name="sigmoid_deep", **BASELINE_OVERRIDES, **common, layer_epochs=layer_epochs,
                         layer_batch_size=batch_size)
    recipes = {
        "random": sigmoid,
        "rbm": get_recipe(sigmoid, name="sigmoid_deep_rbm", method="rbm"),
        "dae": get_recipe(sigmoid, name="sigmoid_deep_dae", method="dae"),
        "default": get_recipe("fashion_mlp", name="default_deep", **common),
    }
    data = load("fashion_mnist", batch_size=batch_size)
    seed_list = list(range(seeds))
    runs, grids = [], {}

    def run(variant: str, recipe, seed: int) -> dict[str, Any]:
        seeded = get_recipe(recipe, seed=seed)
        result = train(seeded, data=reshuffled(data, seed), verbose=0,
                       out_dir=runs_dir / f"{variant}-lr{seeded.train.learning_rate:g}-seed{seed}")
        m = result.metrics
        row = {"variant": variant, "seed": seed, "optimizer": seeded.train.optimizer, "learning_rate": seeded.train.learning_rate,
               "test_accuracy": m["test_accuracy"], "best_val_accuracy": m["best_val_accuracy"],
               "pretrain_seconds": m["pretrain_seconds"], "train_seconds": m["train_seconds"],
               "total_seconds": round(m["pretrain_seconds"] + m["train_seconds"], 2),
               "val_accuracy": m["history"].get("val_accuracy", []), "run_dir": str(result.run_dir)}
        print(f"[{time.perf_counter() - started:6.0f} s] {variant} lr={row['learning_rate']:g} seed {seed}: "
              f"validation {row['best_val_accuracy']:.4f}, test {row['test_accuracy']:.4f} "
              f"({row['pretrain_seconds']:.0f} s pretraining + {row['train_seconds']:.0f} s training)", flush=True)
        return row

    for variant, _ in PRETRAIN_VARIANTS:
        recipe = recipes[variant]
        if variant == "default":
            first = run(variant, recipe, seed_list[0])
        else:
            # The SGD rate is picked per variant on validation accuracy: pretrained weights may want a gentler one.
            grids[variant] = [run(variant, get_recipe(recipe, learning_rate=rate), seed_list[0]) for rate in learning_rates]
            first = max(grids[variant], key=lambda row: (row["best_val_accuracy"] or 0.0, -row["learning_rate"]))
            recipe = recipes[variant] = get_recipe(recipe, learning_rate=first["learning_rate"])
        runs.append(first)
        runs += [run(variant, recipe, seed) for seed in seed_list[1:]]

    summary = {}
    for variant, label in PRETRAIN_VARIANTS:
        mine = [row for row in runs if row["variant"] == variant]
        summary[variant] = {"label": label, "optimizer": mine[0]["optimizer"], "learning_rate": mine[0]["learning_rate"],
                            "test_accuracy": spread([row["test_accuracy"] for row in mine]),
                            "pretrain_seconds": spread([row["pretrain_seconds"] for row in mine]),
                            "total_seconds": spread([row["total_seconds"] for row in mine])}
    out_dir.mkdir(parents=True, exist_ok=True)
    for variant in ("rbm", "dae"):
        chosen = next(row for row in runs if row["variant"] == variant and row["seed"] == seed_list[0])
        shutil.copyfile(Path(chosen["run_dir"]) / "filters.png", out_dir / f"{variant}-filters.png")
    results = {"experiment": "pretrain", "hidden": list(hidden), "epochs": epochs, "layer_epochs": layer_epochs,
               "batch_size": batch_size, "learning_rates": list(learning_rates), "seeds": seed_list,
               "pretrain_settings": dict(recipes["rbm"].pretrain), "grids": {
                   v: [{"learning_rate": r["learning_rate"], "best_val_accuracy": r["best_val_accuracy"]} for r in grid]
                   for v, grid in grids.items()},
               "runs": [{k: v for k, v in row.items() if k != "run_dir"} for row in runs], "summary": summary,
               "seconds": round(time.perf_counter() - started), "versions": versions(), "date": time.strftime("%Y-%m-%d")}
    _plot_pretrain_curves(results, out_dir / "curves.png")
    write_json(out_dir / "results.json", results)
    report = _pretrain_report(results)
    atomic_write(out_dir / "report.md", lambda tmp: tmp.write_text(report))
    print(report)
    return results


def _plot_pretrain_curves(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (variant, row) in enumerate(results["summary"].items()):
        for number, run in enumerate(r for r in results["runs"] if r["variant"] == variant):
            values = run["val_accuracy"]
            axis.plot(range(1, len(values) + 1), values, color=colors[index], alpha=0.8, label=row["label"] if not number else None)
    axis.set(xlabel="fine-tuning epoch", ylabel="validation accuracy",
             title=f"{len(results['hidden'])} x {results['hidden'][0]} net on Fashion-MNIST (every seed)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    atomic_write(path, lambda tmp: figure.savefig(tmp, dpi=110, format="png"))
    plt.close(figure)


def _pretrain_report(results: dict[str, Any]) -> str:
    summary = results["summary"]
    settings = results["pretrain_settings"]
    depth, width = len(results["hidden"]), results["hidden"][0]
    sigmoid = {v: summary[v] for v in ("random", "rbm", "dae")}
    best_sigmoid = max(sigmoid, key=lambda v: sigmoid[v]["test_accuracy"]["mean"])
    overall = max(summary, key=lambda v: summary[v]["test_accuracy"]["mean"])
    lines = [
        f"# Unsupervised layer-wise pretraining vs the default stack (Fashion-MNIST, {depth} x {width})",
        "",
        f"One net: {depth} hidden layers of {width} units, 10-way softmax. Three sigmoid versions, no BatchNorm or dropout, "
        f"fine-tuned with plain SGD (rate picked per variant on validation accuracy, seed {results['seeds'][0]}, from "
        f"{', '.join(f'{r:g}' for r in results['learning_rates'])}): from N(0, 1/fan_in) random init; from greedy RBM "
        f"pretraining (CD-{settings['cd_k']}); from greedy denoising-autoencoder pretraining (masking noise "
        f"{settings['noise']:g}). Pretraining: {settings['layer_epochs']} epochs per layer, rate "
        f"{settings['layer_learning_rate']:g}, momentum {settings['momentum']:g}, weight decay {settings['weight_decay']:g}, "
        f"batches of {settings['layer_batch_size']}, on the 55,000 training images without their labels. The fourth "
        f"version is the same architecture with the default stack (He init, BatchNorm, ELU, dropout 0.3, Adam 1e-3). "
        f"Every version: {results['epochs']} epochs of supervised training, batch {results['batch_size']}, best "
        f"validation weights kept; seeds {results['seeds']}.",
        "",
        "| variant | optimizer, rate | test accuracy, mean +- std (min-max) | pretraining s | total s (pretraining + training), mean |",
        "|---|---|---|---|---|",
    ]
    for variant, row in summary.items():
        acc = row["test_accuracy"]
        lines.append(f"| {row['label']} | {row['optimizer']} {row['learning_rate']:g} | {acc['mean']:.4f} +- {acc['std']:.4f} "
                     f"({acc['min']:.4f}-{acc['max']:.4f}) | {row['pretrain_seconds']['mean']:.0f} | "
                     f"{row['total_seconds']['mean']:.0f} |")
    grid_text = "; ".join(f"{summary[v]['label']}: " + ", ".join(f"{g['learning_rate']:g} -> {g['best_val_accuracy']:.4f}"
                                                                  for g in grid) for v, grid in results["grids"].items())
    gain = lambda v: 100 * (summary[v]["test_accuracy"]["mean"] - summary["random"]["test_accuracy"]["mean"])
    cost = lambda v: summary[v]["total_seconds"]["mean"] / summary["random"]["total_seconds"]["mean"]
    lines += [
        "",
        f"SGD rates on validation: {grid_text}.",
        "",
        "**Verdict** (from the numbers above): among the sigmoid nets, "
        f"RBM pretraining moves mean test accuracy {gain('rbm'):+.1f} points from random init at {cost('rbm'):.1f}x its "
        f"wall time, DAE pretraining {gain('dae'):+.1f} points at {cost('dae'):.1f}x; the best sigmoid version is "
        f"*{summary[best_sigmoid]['label']}*. The default stack reaches "
        f"{summary['default']['test_accuracy']['mean']:.4f} ({gain('default'):+.1f} points from random init) in "
        f"{cost('default'):.1f}x the random-init wall time, without any pretraining; the best version overall is "
        f"*{summary[overall]['label']}*.",
        "",
        "First-layer filters learned without labels: [RBM](rbm-filters.png), [DAE](dae-filters.png); learning curves: "
        "[curves.png](curves.png).",
        "",
        f"Regenerate: `zoo experiment pretrain` ({results['seconds']} s on this run's machine; keras "
        f"{results['versions']['keras']}, tensorflow {results['versions']['tensorflow']}).",
        "",
    ]
    return "\n".join(lines)


def _write(out_dir: Path, results: dict[str, Any], report: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for run in results["runs"]:
        plot_speeds(run["records"], out_dir / f"{run['label']}.png", title=run["label"])
        del run["records"]  # the per-layer records stay in each run folder; results.json keeps the norms
    write_json(out_dir / "results.json", results)
    atomic_write(out_dir / "report.md", lambda tmp: tmp.write_text(report))
    print(report)


def run_experiment(name: str, **options) -> dict[str, Any]:
    """Run the experiment `name` (one of EXPERIMENTS)."""
    from zoo.schema import unknown_word_error

    if name not in EXPERIMENTS:
        raise unknown_word_error("experiment", name, EXPERIMENTS)
    from zoo.speed import speed_experiment

    return {"vanishing": vanishing, "exploding": exploding, "transfer": transfer_experiment,
            "pretrain": pretrain_experiment, "speed": speed_experiment}[name](**options)
