"""The `zoo` command line's argparse parser: one subcommand per task, each bound to `zoo.cli.commands`."""

from __future__ import annotations

import argparse

from zoo.cli import commands as handlers
from zoo.cli.dataflags import data_flags, quiet_flag, seed_flag
from zoo.recipes.keys import DISTRIBUTE


def build_parser() -> argparse.ArgumentParser:
    """The parser of every `zoo` subcommand; each sets `run`, the handler in `zoo.cli.commands`."""
    parser = argparse.ArgumentParser(
        prog="zoo", description="Best-default-configuration deep nets, measured against sigmoid/SGD."
    )
    from zoo import __version__  # the package's own: no TensorFlow import

    parser.add_argument("--version", action="version", version=f"zoo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("list", help="list the shipped recipes")
    listing.add_argument("pattern", nargs="?", default="*", help="shell-style pattern, e.g. 'fashion_*'")
    listing.set_defaults(run=handlers.cmd_list)

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
        run=handlers.cmd_show
    )
    _add_training_commands(commands, recipe_command)
    _add_tool_commands(commands, recipe_command)
    _add_other_commands(commands)
    _add_model_commands(commands)
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
    quiet_flag(seed_flag(data_flags(training)))
    training.set_defaults(run=handlers.cmd_train)

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
    quiet_flag(data_flags(benching))
    benching.set_defaults(run=handlers.cmd_bench)


def _add_tool_commands(commands, recipe_command) -> None:
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
    quiet_flag(seed_flag(data_flags(diagnosing)))
    diagnosing.set_defaults(run=handlers.cmd_diagnose)

    pretraining = recipe_command(
        "pretrain", "greedy layer-wise pretraining (RBM or denoising autoencoder) of a recipe's MLP"
    )
    pretraining.add_argument(
        "--out", help="folder for pretrain.json and filters.png (default runs/<recipe>-pretrain-<time>)"
    )
    pretraining.add_argument("--epochs", type=int, help="pretraining epochs per hidden layer (pretrain.layer_epochs)")
    quiet_flag(seed_flag(data_flags(pretraining)))
    pretraining.set_defaults(run=handlers.cmd_pretrain)

    finding = recipe_command("lr-find", "sweep the learning rate over a few hundred steps and suggest one")
    finding.add_argument(
        "--baseline", action="store_true", help="sweep the SGD rate of the recipe's sigmoid/SGD baseline"
    )
    finding.add_argument("--steps", type=int, default=200, help="training steps in the sweep (default 200)")
    finding.add_argument(
        "--epochs", type=int, help="sweep over this many passes over the training data instead of --steps"
    )
    finding.add_argument("--out", help="folder for lr_find.png and lr_find.json (default runs/<recipe>-lr-find-<time>)")
    quiet_flag(seed_flag(data_flags(finding)))
    finding.set_defaults(run=handlers.cmd_lr_find)

    tuning = recipe_command("tune", "search the recipe's [tune] space with KerasTuner; the first trial is the recipe")
    tuning.add_argument(
        "--trials", type=int, required=True, help="trials to run in all (a resumed search counts earlier ones)"
    )
    # zoo.tools.search.ALGORITHMS, written out: importing it would load TensorFlow for `zoo --help` (a test ties them).
    tuning.add_argument(
        "--algorithm", default="random", choices=("random", "bayesian", "hyperband"), help="search (default random)"
    )
    tuning.add_argument("--epochs", type=int, help="override train.epochs for every trial (replaces train.steps)")
    tuning.add_argument("--out", help="search folder (default runs/<recipe>-tune-<time>); the same folder resumes")
    quiet_flag(seed_flag(data_flags(tuning)))
    tuning.set_defaults(run=handlers.cmd_tune)


def _add_experiment_command(commands) -> None:
    """`zoo experiment NAME` and the options some experiments take."""
    from zoo.experiments import ABOUT, EXPERIMENTS  # names and lines only: __init__ imports no experiment

    width = max(map(len, ABOUT))
    listing = "\n".join(f"  {name:<{width}}  {line} ({time} on 2 cores)" for name, (line, time) in ABOUT.items())
    experimenting = commands.add_parser(
        "experiment",
        help="regenerate a committed experiment under benchmarks/results/",
        epilog="experiments:\n" + listing,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    experimenting.add_argument("name", choices=EXPERIMENTS, metavar="NAME", help="one of the experiments below")
    experimenting.add_argument(
        "--part", choices=("meta-train", "meta-test"), help="heldout only: which sets to run (default meta-test)"
    )
    experimenting.add_argument("--sets", help="heldout only: comma-separated set names (default: all of the part)")
    experimenting.add_argument(
        "--recipes", help="levers and tuning: comma-separated recipes (default: every benchmarked recipe)"
    )
    experimenting.add_argument(
        "--seeds",
        type=int,
        help="heldout: seeds per set under 20,000 rows; accelerator: seeds per entry; levers: seeds per stack "
        "(default 3 for each)",
    )
    quiet_flag(experimenting)
    experimenting.set_defaults(run=handlers.cmd_experiment)


def _add_other_commands(commands) -> None:
    _add_experiment_command(commands)
    launching = commands.add_parser(
        "launch", help="run a train command as N local workers (multi-worker training on one machine)"
    )
    launching.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    launching.add_argument(
        "--port", type=int, default=23456, help="first of the 127.0.0.1 ports they use (default 23456)"
    )
    launching.add_argument("zoo_command", nargs=argparse.REMAINDER, metavar="train RECIPE --out DIR ...")
    launching.set_defaults(run=handlers.cmd_launch)

    transferring = commands.add_parser(
        "transfer", help="reuse a shipped model on your images (--data) or on a few of its own classes"
    )
    transferring.add_argument("source", help="a shipped model (see saved_models/manifest.json)")
    transferring.add_argument(
        "--classes",
        help="comma-separated class ids of the new task, e.g. 5,6 (required without --data; with it, a subset)",
    )
    transferring.add_argument("--train-size", type=int, help="labelled training images of the new task (default: all)")
    transferring.add_argument(
        "--epochs", type=int, help="epochs in each phase (sets both --head-epochs and --tune-epochs)"
    )
    transferring.add_argument(
        "--head-epochs", type=int, default=10, help="epochs training the new head on the frozen body"
    )
    transferring.add_argument(
        "--tune-epochs", type=int, default=10, help="epochs fine-tuning everything at a 10x lower rate"
    )
    transferring.add_argument(
        "--out", help="folder for the fine-tuned model.keras and transfer.json (default: nothing is written)"
    )
    transferring.add_argument("--seed", type=int, default=0, help="data draw, order and head weights (default 0)")
    # Without --image-size a folder's images are resized to the source model's input.
    quiet_flag(data_flags(transferring))
    transferring.set_defaults(run=handlers.cmd_transfer)


def _add_model_commands(commands) -> None:
    """The commands that use a trained model: predict, export, save-preset."""
    predicting = commands.add_parser(
        "predict", help="a trained model's predictions for new inputs, as CSV (id, class, probabilities)"
    )
    predicting.add_argument("model", metavar="MODEL_OR_RUN", help="a run folder, a .keras file or a shipped model")
    predicting.add_argument(
        "--data", required=True, help="a .csv/.tsv/.parquet table, an image file or folder, or an .npy/.npz array"
    )
    predicting.add_argument("--out", help="write the CSV here (whole, or not at all); default: print it")
    predicting.set_defaults(run=handlers.cmd_predict)

    exporting = commands.add_parser(
        "export", help="a trained model as a TF SavedModel, TFLite or ONNX file, verified against Keras"
    )
    exporting.add_argument("model", metavar="MODEL_OR_RUN", help="a run folder, a .keras file or a shipped model")
    exporting.add_argument("--format", required=True, choices=("savedmodel", "tflite", "onnx"), help="what to write")
    exporting.add_argument("--out", required=True, help="the new file or folder to write")
    exporting.set_defaults(run=handlers.cmd_export)

    presetting = commands.add_parser(
        "save-preset", help="a finished run as a preset folder: model.keras, card.json, README.md (model card)"
    )
    presetting.add_argument("run_dir", metavar="RUN", help="a finished run folder")
    presetting.add_argument("out", metavar="DIR", help="the new preset folder")
    presetting.add_argument("--name", help="the model's name in its card (default: the recipe's)")
    presetting.set_defaults(run=handlers.cmd_save_preset)
