"""The `zoo` command: a thin shell front end over the Python API (nothing here the API lacks).

    zoo list [PATTERN]                 recipes and what they are for
    zoo show NAME_OR_FILE [--set k=v]  the fully resolved recipe, as TOML
    zoo train NAME_OR_FILE [--epochs N] [--set k=v ...] [--out DIR] [--baseline [--learning-rate R]]
    zoo diagnose NAME_OR_FILE [--baseline] [--epochs N] [--snr]   per-layer gradient norms
    zoo pretrain NAME_OR_FILE [--set k=v ...] [--out DIR]   greedy layer-wise pretraining only
    zoo lr-find NAME_OR_FILE [--baseline] [--steps N] [--out DIR]   a learning-rate sweep and a suggested rate
    zoo tune NAME_OR_FILE --trials N [--algorithm random|bayesian|hyperband] [--out DIR]   search the [tune] space
    zoo experiment NAME        regenerate a committed experiment (vanishing, levers, leaderboard, ...)
    zoo bench NAME_OR_FILE | --all [--seeds N] [--ablation] [--epochs N] [--set k=v ...] [--out DIR]

Bad input prints one line starting with `zoo: error:` and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from zoo.cli.dataflags import data_flags, recipe_and_data, recipe_from_args
from zoo.errors import ZooError
from zoo.recipes.catalog import data_fits
from zoo.recipes.keys import DISTRIBUTE
from zoo.recipes.recipe import get_recipe, list_recipes, parse_override
from zoo.recipes.schema import check_argument, count_field
from zoo.reports.console import quiet_tensorflow


def _cmd_list(args) -> int:
    names = list_recipes(args.pattern)
    if not names:
        print(f"no recipe matches {args.pattern!r}; `zoo list` shows them all", file=sys.stderr)
        return 1
    recipes = [get_recipe(name) for name in names]  # each file parsed once
    fits = [data_fits(recipe.dataset, recipe.model.kind) for recipe in recipes]
    width, fits_width = max(len(name) for name in names), max(len(text) for text in fits)
    for recipe, fit in zip(recipes, fits):
        print(f"{recipe.name:<{width}}  {fit:<{fits_width}}  {recipe.description}")
    return 0


def _cmd_show(args) -> int:
    recipe, data = recipe_and_data(args)
    print(f"# {recipe.source}" if recipe.source else "", end="\n" if recipe.source else "")
    if data is not None:
        classes = f"{data.info.num_classes} classes" if recipe.task == "classification" else "one number"
        print(
            f"# for --data {args.data}: examples of shape {data.info.input_shape}, predicting {classes}; "
            f"{data.sizes['train']} train / {data.sizes['validation']} validation / {data.sizes['test']} test"
        )
    print(recipe.to_toml(), end="")
    return 0


def _cmd_train(args) -> int:
    from zoo.reports.records import run_folder
    from zoo.training.trainer import train

    recipe, data = recipe_and_data(args)
    if recipe.train.distribute == "multi_worker" and not args.out:
        raise ZooError("--distribute multi_worker needs --out DIR, the same on every worker (the chief writes there)")
    # The folder is named here, not inside train(), so an interruption can say exactly where to resume.
    args.out = args.out or str(run_folder(recipe.name + ("_baseline" if args.baseline else "")))
    result = train(
        recipe,
        data=data,
        epochs=args.epochs,
        out_dir=args.out,
        baseline=args.baseline,
        learning_rate=args.learning_rate,
        strategy=getattr(args, "strategy", None),
    )
    m = result.metrics
    score = "accuracy" if m["score"] == "accuracy" else "R^2"
    print(
        f"\n{recipe.name}{' (baseline)' if args.baseline else ''}: test {score} {m['test_score']:.4f}, "
        f"test loss {m['test_loss']:.4f}, {m['epochs_run']} epochs in {m['train_seconds']:.0f} s"
    )
    if not result.paths:  # a worker other than the chief
        print(f"This worker's folder {result.run_dir} is removed; the chief's run folder {args.out} holds the run")
        return 0
    print(f"Run folder: {result.run_dir} (metrics.json, model.keras, log.csv, tensorboard/)")
    if m["status"] == "diverged":
        print(f"zoo: error: the run diverged: {m['status_message']}", file=sys.stderr)
        return 3
    if m["status"] == "chance":
        # Not an error exit: zoo's baselines exist to show this failure (fashion_deep_mlp --baseline).
        print(f"zoo: warning: the run stayed at chance: {m['status_message']}", file=sys.stderr)
    if args.save:  # save_run itself refuses a run that diverged or stayed at chance
        from zoo.hub.saved import save_run

        print(f"Saved for reuse: {save_run(result.run_dir, force=args.force)}")
    return 0


def _cmd_bench(args) -> int:
    from zoo.reports.report import write_index
    from zoo.tools.bench import bench

    if args.all == (args.recipe is not None):
        print("zoo: error: name one recipe (or .toml file), or pass --all", file=sys.stderr)
        return 2
    ablation = args.ablation  # None: the recipe's own bench.ablation
    if args.all:
        if args.out:
            print("zoo: error: --out goes with one recipe; --all writes benchmarks/results/<recipe>/", file=sys.stderr)
            return 2
        for name in list_recipes():
            recipe = get_recipe(name, **dict(parse_override(text) for text in args.set or []))
            bench(
                recipe,
                seeds=args.seeds,
                epochs=args.epochs,
                ablation=ablation,
                verbose=args.verbose,
                save=args.save,
                force=args.force,
                out_dir=Path("benchmarks") / "results" / name,
            )
        print(write_index())
        return 0
    recipe, data = recipe_and_data(args)
    bench(
        recipe,
        data=data,
        seeds=args.seeds,
        epochs=args.epochs,
        ablation=ablation,
        out_dir=args.out,
        verbose=args.verbose,
        save=args.save,
        force=args.force,
    )
    if args.out and Path(args.out).resolve().parent == Path("benchmarks/results").resolve():
        write_index()  # a committed result changed: the index follows
    return 0


def _cmd_diagnose(args) -> int:
    from zoo.training.diagnostics import diagnose, gradient_warning, table, with_snr
    from zoo.training.trainer import train

    recipe, data = recipe_and_data(args)
    label = f"{recipe.name}{' (baseline)' if args.baseline else ''}"
    if args.epochs == 0:
        rows = diagnose(recipe, data=data, baseline=args.baseline, snr=args.snr)
        print(f"{label} at initialization\n{table(rows)}")
        message = gradient_warning(rows, "at initialization")
        if message:
            print(f"\nwarning: {message}")
        return 0
    result = train(recipe, data=data, epochs=args.epochs, out_dir=args.out, baseline=args.baseline)
    records = json.loads(result.paths["diagnostics"].read_text())["records"]
    for record in (records[0], records[-1]):
        when = "at initialization" if record["epoch"] == 0 else f"after epoch {record['epoch']}"
        rows = (
            with_snr(result.model, data, record["layers"]) if args.snr and record is records[-1] else record["layers"]
        )
        print(f"\n{label} {when}\n{table(rows)}")
    if result.metrics["gradient_warning"]:
        print(f"\nwarning: {result.metrics['gradient_warning']}")
    print(
        f"\nPer-epoch records and plot: {result.paths['diagnostics']} and {result.paths['diagnostics'].with_suffix('.png')}"
    )
    return 0


def _cmd_transfer(args) -> int:
    from zoo.data.builtin import load, select_classes
    from zoo.errors import RecipeError
    from zoo.hub.reuse import fine_tune
    from zoo.hub.saved import load_pretrained, verify

    try:
        classes = [int(part) for part in args.classes.split(",")]
    except ValueError:
        raise RecipeError(
            f"--classes {args.classes!r} does not parse; expected comma-separated class ids, e.g. 5,6"
        ) from None
    card = verify(args.source)
    source = load_pretrained(args.source)
    # The source's own split: its validation images were never trained on, so they stay fair here.
    recipe = card["recipe"]
    splits = load(card["dataset"], recipe["validation_size"])
    data = select_classes(splits, classes, train_size=args.train_size, seed=args.seed)
    batch_size = recipe["train"]["batch_size"]
    model, _ = fine_tune(
        source,
        data,
        head_epochs=args.head_epochs,
        tune_epochs=args.tune_epochs,
        verbose=1,
        batch_size=batch_size,
        seed=args.seed,
    )
    accuracy = model.evaluate(*data.arrays["test"], batch_size=batch_size, verbose=0, return_dict=True)["accuracy"]
    print(
        f"{args.source} -> classes {classes} ({', '.join(data.info.class_names)}), {data.sizes['train']} training images: "
        f"test accuracy {accuracy:.4f} on {data.sizes['test']} test images"
    )
    return 0


def _cmd_pretrain(args) -> int:
    from pathlib import Path

    from zoo.data.sources import recipe_data
    from zoo.errors import RecipeError
    from zoo.reports.records import run_folder
    from zoo.training.pretrain import pretrain_recipe, write_pretraining

    recipe, data = recipe_and_data(args)
    if recipe.pretrain.method == "none":
        raise RecipeError(
            f"{recipe.name} has pretrain.method = 'none'; pick one, e.g. --set pretrain.method=rbm "
            "(sigmoid nets) or --set pretrain.method=dae (any activation)"
        )
    recipe, data = recipe_data(recipe, data)
    out = Path(args.out) if args.out else run_folder(f"{recipe.name}-pretrain")
    pretrained = pretrain_recipe(recipe, data.arrays["train"][0])
    paths = write_pretraining(pretrained, out)
    print(
        f"\n{recipe.name}: {recipe.pretrain.method} pretraining of {pretrained.sizes} in {pretrained.seconds:.0f} s "
        "(labels unused)"
    )
    print("layer  inputs -> units  reconstruction error (first epoch -> last)")
    for layer in pretrained.history:
        errors = layer["reconstruction_error"]
        print(f"{layer['layer']:>5}  {layer['inputs']:>6} -> {layer['units']:<5}  {errors[0]:.4f} -> {errors[-1]:.4f}")
    print(f"Written: {', '.join(str(path) for path in paths.values())}")
    print("`zoo train` with this recipe pretrains the same way, then fine-tunes the whole net with backpropagation.")
    return 0


def _cmd_lr_find(args) -> int:
    from zoo.reports.records import run_folder
    from zoo.tools.lrfind import lr_find

    recipe, data = recipe_and_data(args)
    out = Path(args.out) if args.out else run_folder(f"{recipe.name}-lr-find")
    found = lr_find(recipe, data=data, baseline=args.baseline, steps=args.steps, out_dir=out)
    print(
        f"{found.recipe} ({found.optimizer}): the loss falls fastest at rate {found.suggestion:.3g} "
        f"(lowest at {found.minimum_rate:.3g}); {len(found.rates)} steps before it blew up or the sweep ended."
    )
    print(f"Train with it: zoo train {args.recipe} {found.command()}" + (" --baseline" if args.baseline else ""))
    print(f"Plot and numbers: {found.paths['plot']}, {found.paths['json']}")
    return 0


def _cmd_tune(args) -> int:
    from zoo.tools.search import tune

    recipe, data = recipe_and_data(args)
    result = tune(recipe, data=data, trials=args.trials, algorithm=args.algorithm, out_dir=args.out)
    best = max(r["val_accuracy"] for r in result.trials if r["val_accuracy"] is not None)
    default = f"{result.default_accuracy:.4f}" if result.default_accuracy is not None else "not run"
    print(
        f"{recipe.name}: best validation accuracy {best:.4f} over {len(result.trials)} trials (the recipe itself: {default})"
    )
    print(
        f"Best recipe: {result.paths['best']} (train it: zoo train {result.paths['best']}); all trials: {result.paths['table']}"
    )
    return 0


def _cmd_launch(args) -> int:
    from zoo.training.launch import launch_local  # starts processes only; each worker loads TensorFlow itself

    return launch_local(args.zoo_command, args.workers, args.port)


def _cmd_experiment(args) -> int:
    from zoo.experiments import run_experiment  # research code: loaded only for this command

    run_experiment(args.name)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description="Best-default-configuration deep nets, measured against sigmoid/SGD."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="list the shipped recipes")
    listing.add_argument("pattern", nargs="?", default="*", help="shell-style pattern, e.g. 'fashion_*'")
    listing.set_defaults(run=_cmd_list)

    def recipe_command(name: str, help_text: str):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "recipe",
            metavar="NAME_OR_FILE",
            nargs="?" if name == "bench" else None,
            help="a shipped recipe name or a path to a .toml file",
        )
        command.add_argument(
            "--set",
            action="append",
            metavar="KEY=VALUE",
            help="override a recipe key, e.g. --set stack.dropout=0.3 (repeatable)",
        )
        return command

    data_flags(recipe_command("show", "print the fully resolved recipe (for --data: its task resolved)")).set_defaults(
        run=_cmd_show
    )
    _add_training_commands(commands, recipe_command)
    _add_other_commands(commands)
    return parser


def _add_training_commands(commands, recipe_command) -> None:
    training = recipe_command("train", "train a recipe (or its baseline) and evaluate it on the test set")
    training.add_argument("--epochs", type=int, help="override train.epochs")
    training.add_argument("--out", help="run folder (default runs/<recipe>-<time>); an interrupted run in it resumes")
    training.add_argument(
        "--baseline", action="store_true", help="train the same net the plain way: sigmoid, small init, SGD"
    )
    training.add_argument("--learning-rate", type=float, help="learning rate (with --baseline: the SGD rate)")
    training.add_argument(
        "--save", action="store_true", help="ship the trained model in saved_models/ (with card and sha256)"
    )
    training.add_argument(
        "--force", action="store_true", help="with --save: replace a model already saved under this name"
    )
    training.add_argument(
        "--distribute",
        choices=DISTRIBUTE,
        help="override train.distribute: mirrored devices, or workers from TF_CONFIG (see `zoo launch`)",
    )
    training.add_argument(
        "--devices",
        type=int,
        metavar="N",
        help="with --distribute mirrored on a machine without GPUs: split the CPU into N logical devices",
    )
    data_flags(training)
    training.set_defaults(run=_cmd_train)

    benching = recipe_command("bench", "train the recipe and its baseline (rate picked on validation) and compare")
    benching.add_argument("--all", action="store_true", help="every shipped recipe, then benchmarks/README.md")
    benching.add_argument("--save", action="store_true", help="ship the recipe's first-seed model in saved_models/")
    benching.add_argument(
        "--force", action="store_true", help="with --save: replace a model already saved under this name"
    )
    benching.add_argument("--epochs", type=int, help="override train.epochs for every run")
    benching.add_argument("--seeds", type=int, help="seeds per variant (default: the recipe's bench.seeds)")
    benching.add_argument(
        "--ablation",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also train the ladder from baseline to recipe, one component at a time "
        "(default: the recipe's bench.ablation)",
    )
    benching.add_argument("--out", help="results folder (default benchmarks/results/<recipe>)")
    benching.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2), help="Keras progress output per run")
    data_flags(benching)
    benching.set_defaults(run=_cmd_bench)

    diagnosing = recipe_command(
        "diagnose", "per-layer gradient norms and activation statistics (vanishing/exploding gradients)"
    )
    diagnosing.add_argument("--baseline", action="store_true", help="diagnose the sigmoid/SGD baseline of the recipe")
    diagnosing.add_argument(
        "--epochs", type=int, default=1, help="epochs to train while recording (0: initialization only)"
    )
    diagnosing.add_argument("--out", help="run folder (default runs/<recipe>-<time>)")
    diagnosing.add_argument(
        "--snr",
        action="store_true",
        help="add each layer's gradient signal-to-noise ratio (over 10 slices of the fixed batch)",
    )
    data_flags(diagnosing)
    diagnosing.set_defaults(run=_cmd_diagnose)

    pretraining = recipe_command(
        "pretrain", "greedy layer-wise pretraining (RBM or denoising autoencoder) of a recipe's MLP"
    )
    pretraining.add_argument(
        "--out", help="folder for pretrain.json and filters.png (default runs/<recipe>-pretrain-<time>)"
    )
    data_flags(pretraining)
    pretraining.set_defaults(run=_cmd_pretrain)

    finding = recipe_command("lr-find", "sweep the learning rate over a few hundred steps and suggest one")
    finding.add_argument(
        "--baseline", action="store_true", help="sweep the SGD rate of the recipe's sigmoid/SGD baseline"
    )
    finding.add_argument("--steps", type=int, default=200, help="training steps in the sweep (default 200)")
    finding.add_argument("--out", help="folder for lr_find.png and lr_find.json (default runs/<recipe>-lr-find-<time>)")
    data_flags(finding)
    finding.set_defaults(run=_cmd_lr_find)

    tuning = recipe_command("tune", "search the recipe's [tune] space with KerasTuner; the first trial is the recipe")
    tuning.add_argument(
        "--trials", type=int, required=True, help="trials to run in all (a resumed search counts earlier ones)"
    )
    tuning.add_argument("--algorithm", default="random", help="random (default), bayesian or hyperband")
    tuning.add_argument("--out", help="search folder (default runs/<recipe>-tune-<time>); the same folder resumes")
    data_flags(tuning)
    tuning.set_defaults(run=_cmd_tune)


def _add_other_commands(commands) -> None:
    from zoo.experiments import EXPERIMENTS  # the names only: the package's __init__ imports no experiment

    experimenting = commands.add_parser(
        "experiment", help="regenerate a committed experiment under benchmarks/results/"
    )
    experimenting.add_argument("name", choices=EXPERIMENTS)
    experimenting.set_defaults(run=_cmd_experiment)

    launching = commands.add_parser(
        "launch", help="run a train command as N local workers (multi-worker training on one machine)"
    )
    launching.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    launching.add_argument(
        "--port", type=int, default=23456, help="first of the 127.0.0.1 ports they use (default 23456)"
    )
    launching.add_argument("zoo_command", nargs=argparse.REMAINDER, metavar="train RECIPE --out DIR ...")
    launching.set_defaults(run=_cmd_launch)

    transferring = commands.add_parser("transfer", help="reuse a shipped model on a few classes with few labels")
    transferring.add_argument("source", help="a shipped model (see saved_models/manifest.json)")
    transferring.add_argument("--classes", required=True, help="comma-separated class ids of the new task, e.g. 5,6")
    transferring.add_argument("--train-size", type=int, help="labelled training images of the new task (default: all)")
    transferring.add_argument(
        "--head-epochs", type=int, default=10, help="epochs training the new head on the frozen body"
    )
    transferring.add_argument(
        "--tune-epochs", type=int, default=10, help="epochs fine-tuning everything at a 10x lower rate"
    )
    transferring.add_argument("--seed", type=int, default=0)
    transferring.set_defaults(run=_cmd_transfer)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `zoo` command line; returns the exit status.

    Example:
        >>> main(["list", "fashion_mlp"])
        fashion_mlp  fashion_mnist  Dense net with the default stack ...
        0
    """
    args = _parser().parse_args(argv)
    if args.command not in ("list", "show", "launch"):  # these read recipes only, and never load TensorFlow
        quiet_tensorflow()
    try:
        if getattr(args, "epochs", None) is not None:
            check_argument("--epochs", args.epochs, count_field(0 if args.command == "diagnose" else 1))
        if getattr(args, "devices", None) is not None:  # before anything starts TensorFlow's runtime
            from zoo.training.distribute import configure_devices

            configure_devices(args.devices)
        if args.command == "train" and recipe_from_args(args).train.distribute == "multi_worker":
            from zoo.training.distribute import make_strategy  # TensorFlow allows it only before anything else runs

            args.strategy = make_strategy("multi_worker")
        return args.run(args)
    except ZooError as error:
        print(f"zoo: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nzoo: interrupted; {_resume_hint(args, argv)}", file=sys.stderr)
        return 130


def _resume_hint(args, argv) -> str:
    """Exactly how to pick up where an interrupted command stopped."""
    words = list(sys.argv[1:] if argv is None else argv)
    if args.command in ("train", "diagnose") and args.out:
        if "--out" not in words:
            words += ["--out", args.out]
        return f"resume from the last finished epoch with: zoo {' '.join(words)}"
    if args.command == "bench":
        return (
            f"run `zoo {' '.join(words)}` again: runs that finished are read back from runs/bench/, "
            "the interrupted one resumes from its last finished epoch"
        )
    return "nothing was saved; run the command again"


if __name__ == "__main__":
    sys.exit(main())
