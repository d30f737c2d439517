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

import sys
from collections.abc import Sequence

from zoo.cli.dataflags import recipe_from_args
from zoo.cli.output import plain_warnings, quiet
from zoo.cli.parser import build_parser
from zoo.errors import ZooError
from zoo.recipes.schema import check_argument, count_field
from zoo.reports.console import quiet_tensorflow


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `zoo` command line; returns the exit status.

    Examples:
        >>> main(["list", "fashion_mlp"])
        fashion_mlp  fashion_mnist  Dense net with the modern stack ...
        0
    """
    args = build_parser().parse_args(argv)
    # `list`, `launch` and a `show` without --data read recipes only, and never load TensorFlow.
    if args.command not in ("list", "show", "launch") or getattr(args, "data", None):
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
        with quiet(getattr(args, "quiet", False)), plain_warnings():
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
