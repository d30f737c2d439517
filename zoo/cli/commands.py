"""What each `zoo` subcommand does, given its parsed arguments; each returns the exit status.

Every command calls the public API and prints what it did; the parser (`zoo.cli.parser`) and the
error handling (`zoo.cli.main`) live beside it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from zoo.cli.dataflags import data_flags_text, parse_override, read_as, recipe_and_data
from zoo.cli.output import answer
from zoo.errors import RecipeError, ZooError
from zoo.recipes.catalog import data_fits
from zoo.recipes.recipe import get_recipe
from zoo.recipes.registry import list_recipes
from zoo.reports.report import score_label


def cmd_list(args) -> int:
    names = list_recipes(args.pattern)
    if not names:
        print(f"no recipe matches {args.pattern!r}; `zoo list` shows them all", file=sys.stderr)
        return 1
    recipes = [get_recipe(name) for name in names]  # each file parsed once
    fits = [data_fits(recipe.dataset, recipe.model.kind) for recipe in recipes]
    width, fits_width = max(len(name) for name in names), max(len(text) for text in fits)
    for recipe, fit in zip(recipes, fits):
        answer(f"{recipe.name:<{width}}  {fit:<{fits_width}}  {recipe.description}")
    return 0


def cmd_show(args) -> int:
    recipe, data = recipe_and_data(args)
    answer(f"# {recipe.source}" if recipe.source else "", end="\n" if recipe.source else "")
    if data is not None:
        classes = f"{data.info.num_classes} classes" if recipe.task == "classification" else "one number"
        read = f"\n# read as: {said}" if (said := read_as(args, data)) else ""
        answer(
            f"# for --data {args.data}: examples of shape {data.info.input_shape}, predicting {classes}; "
            f"{data.sizes['train']} train / {data.sizes['validation']} validation / {data.sizes['test']} test{read}"
        )
    answer(recipe.describe(), end="")
    return 0


def cmd_train(args) -> int:
    from zoo.reports.records import run_folder
    from zoo.training.trainer import train

    recipe, data = recipe_and_data(args)
    if said := read_as(args, data):
        print(f"Read as: {said}")  # progress, not the answer: --quiet leaves it out
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
    score = score_label(m["score"])
    answer(
        f"\n{recipe.name}{' (baseline)' if args.baseline else ''}: test {score} {m['test_score']:.4f}, "
        f"test loss {m['test_loss']:.4f}, {m['epochs_run']} epoch{'s' * (m['epochs_run'] != 1)} "
        f"in {m['train_seconds']:.0f} s"
    )
    if not result.paths:  # a worker other than the chief
        answer(f"This worker's folder {result.run_dir} is removed; the chief's run folder {args.out} holds the run")
        return 0
    answer(f"Run folder: {result.run_dir} (metrics.json, model.keras, curves.png, log.csv, tensorboard/)")
    if m["status"] == "diverged":
        print(f"zoo: error: the run diverged: {m['status_message']}", file=sys.stderr)
        return 3
    if m["status"] == "chance":
        # Not an error exit: zoo's baselines exist to show this failure (fashion_deep_mlp --baseline).
        print(f"zoo: warning: the run stayed at chance: {m['status_message']}", file=sys.stderr)
    if args.save:  # save_run itself refuses a run that diverged or stayed at chance
        from zoo.hub.saved import save_run

        answer(f"Saved for reuse: {save_run(result.run_dir, force=args.force)}")
    return 0


def cmd_bench(args) -> int:
    from zoo.tools.bench import bench

    if args.all == (args.recipe is not None):
        print("zoo: error: name one recipe (or .toml file), or pass --all", file=sys.stderr)
        return 2
    # None: the recipe's own bench.seeds / bench.ablation.
    options = dict(seeds=args.seeds, epochs=args.epochs, ablation=args.ablation, verbose=args.verbose)
    options.update(save=args.save, force=args.force)
    if args.all:
        if args.out:
            print("zoo: error: --out goes with one recipe; --all writes benchmarks/results/<recipe>/", file=sys.stderr)
            return 2
        for name in list_recipes():
            recipe = get_recipe(name, **dict(parse_override(text) for text in args.set or []))
            answer(_bench_line(bench(recipe, out_dir=Path("benchmarks") / "results" / name, **options)))
        answer(_refresh_results())
        return 0
    recipe, data = recipe_and_data(args)
    results = bench(recipe, data=data, out_dir=args.out, data_flags=data_flags_text(args), **options)
    answer(_bench_line(results))
    if args.out and Path(args.out).resolve().parent == Path("benchmarks/results").resolve():
        _refresh_results()  # a committed result changed: the index and the README's rows follow
    return 0


def _bench_line(results: dict) -> str:
    """A benchmark's answer in one line: the recipe's and the baseline's median test accuracy, and the report."""
    scores = {variant: results["summary"][variant]["test_accuracy"]["median"] for variant in ("recipe", "baseline")}
    return (
        f"{results['recipe']}: test accuracy {scores['recipe']:.4f} against the baseline's {scores['baseline']:.4f} "
        f"(medians over {len(results['seeds'])} seed{'s' * (len(results['seeds']) != 1)}); "
        f"report: {results['report']}"
    )


def _refresh_results() -> str:
    """Rewrite benchmarks/README.md's index and, in a checkout, the README's headline rows; the index's text."""
    from zoo.reports.report import write_headline, write_index

    index = write_index()
    if Path("README.md").is_file():
        write_headline("README.md", "benchmarks/results")
    return index


def cmd_diagnose(args) -> int:
    from zoo.training.board import write_layers
    from zoo.training.diagnostics import diagnose, gradient_warning, table, with_snr
    from zoo.training.trainer import train

    recipe, data = recipe_and_data(args)
    label = f"{recipe.name}{' (baseline)' if args.baseline else ''}"
    if args.epochs == 0:
        rows = diagnose(recipe, data=data, baseline=args.baseline, snr=args.snr)
        answer(f"{label} at initialization\n{table(rows)}")
        message = gradient_warning(rows, "at initialization")
        if message:
            answer(f"\nwarning: {message}")
        return 0
    result = train(recipe, data=data, epochs=args.epochs, out_dir=args.out, baseline=args.baseline)
    records = json.loads(result.paths["diagnostics"].read_text())["records"]
    for record in (records[0], records[-1]):
        when = "at initialization" if record["epoch"] == 0 else f"after epoch {record['epoch']}"
        rows = record["layers"]
        if args.snr and record is records[-1]:
            rows = with_snr(result.model, data, rows)
            write_layers(result.paths["tensorboard"] / "diagnostics", record["epoch"], rows, ("grad_snr",))
        answer(f"\n{label} {when}\n{table(rows)}")
    if result.metrics["gradient_warning"]:
        answer(f"\nwarning: {result.metrics['gradient_warning']}")
    answer(
        f"\nPer-epoch records and plot: {result.paths['diagnostics']} and "
        f"{result.paths['diagnostics'].with_suffix('.png')}"
    )
    return 0


def _transfer_data(args, card, source):
    """(splits, classes): the new task's data, --data (a folder resized to the source's input unless
    --image-size says otherwise) or the source's own dataset, cut to --classes and --train-size."""
    from zoo.cli.dataflags import read_data_flags
    from zoo.data.builtin import load, select_classes

    try:
        classes = None if args.classes is None else [int(part) for part in args.classes.split(",")]
    except ValueError:
        raise RecipeError(
            f"--classes {args.classes!r} does not parse; expected comma-separated class ids, e.g. 5,6"
        ) from None
    if args.data is None:
        if classes is None:
            raise RecipeError(
                f"name the new task: --data FOLDER (your images), or --classes of {card['dataset']}, e.g. 5,6"
            )
        # The source's own split: its validation images were never trained on, so they stay fair here.
        splits = load(card["dataset"], card["recipe"]["validation_size"])
    else:
        shape = tuple(source.input_shape[1:])
        image = len(shape) == 3 and shape[-1] in (1, 3)
        splits = read_data_flags(
            args,
            image_size=shape[:2] if image else None,
            color_mode={1: "grayscale", 3: "rgb"}[shape[-1]] if image else None,
        )
    if classes is None and args.train_size is None:
        return splits, None
    classes = classes if classes is not None else list(range(splits.info.num_classes))
    return select_classes(splits, classes, train_size=args.train_size, seed=args.seed), classes


def cmd_transfer(args) -> int:
    from zoo.hub.reuse import fine_tune
    from zoo.hub.saved import load_pretrained, verify
    from zoo.recipes.budget import adapted_batch
    from zoo.reports.records import atomic_write, write_json

    if args.out and (Path(args.out) / "transfer.json").exists():  # checked before training, not after
        raise ZooError(f"--out {args.out} already holds a transferred model; choose another folder")
    card = verify(args.source)
    source = load_pretrained(args.source)
    data, classes = _transfer_data(args, card, source)
    # The source's batch, shrunk on a small folder as the recipes' adapt_batch does (128 refused 87 images).
    batch_size = adapted_batch(card["recipe"]["train"]["batch_size"], data.sizes["train"])
    epochs = {"head_epochs": args.head_epochs, "tune_epochs": args.tune_epochs}
    if args.epochs is not None:
        epochs = {"head_epochs": args.epochs, "tune_epochs": args.epochs}
    model, history = fine_tune(
        source, data, **epochs, verbose=0 if args.quiet else 1, batch_size=batch_size, seed=args.seed
    )
    accuracy = model.evaluate(*data.arrays["test"], batch_size=batch_size, verbose=0, return_dict=True)["accuracy"]
    names = list(data.info.class_names)
    if args.out:
        out = Path(args.out)
        atomic_write(out / "model.keras", model.save)
        write_json(
            out / "transfer.json",
            {
                "source": args.source,
                "data": args.data or card["dataset"],
                "classes": names,
                **epochs,
                "batch_size": batch_size,
                "sizes": dict(data.sizes),
                "test_accuracy": float(accuracy),
                "seed": args.seed,
                "history": history,
            },
        )
    shown = f"classes {classes} ({', '.join(names)})" if classes else f"classes {', '.join(names)}"
    answer(
        f"{args.source} -> {shown}, {data.sizes['train']} training images: "
        f"test accuracy {accuracy:.4f} on {data.sizes['test']} test images"
        + (f"; model in {Path(args.out) / 'model.keras'}" if args.out else "")
    )
    return 0


def cmd_pretrain(args) -> int:
    from pathlib import Path

    from zoo.data.sources import recipe_data
    from zoo.errors import RecipeError
    from zoo.reports.records import run_folder
    from zoo.training.pretrain import pretrain_recipe, write_pretraining

    recipe, data = recipe_and_data(args)
    if args.epochs is not None:
        recipe = get_recipe(recipe, **{"pretrain.layer_epochs": args.epochs})
    if recipe.pretrain.method == "none":
        raise RecipeError(
            f"{recipe.name} has pretrain.method = 'none'; pick one, e.g. --set pretrain.method=rbm "
            "(sigmoid nets) or --set pretrain.method=dae (any activation)"
        )
    recipe, data = recipe_data(recipe, data)
    out = Path(args.out) if args.out else run_folder(f"{recipe.name}-pretrain")
    pretrained = pretrain_recipe(recipe, data.arrays["train"][0])
    paths = write_pretraining(pretrained, out)
    answer(
        f"\n{recipe.name}: {recipe.pretrain.method} pretraining of {pretrained.sizes} in {pretrained.seconds:.0f} s "
        "(labels unused)"
    )
    answer("layer  inputs -> units  reconstruction error (first epoch -> last)")
    for layer in pretrained.history:
        errors = layer["reconstruction_error"]
        answer(f"{layer['layer']:>5}  {layer['inputs']:>6} -> {layer['units']:<5}  {errors[0]:.4f} -> {errors[-1]:.4f}")
    answer(f"Written: {', '.join(str(path) for path in paths.values())}")
    answer("`zoo train` with this recipe pretrains the same way, then fine-tunes the whole net with backpropagation.")
    return 0


def cmd_lr_find(args) -> int:
    from zoo.reports.records import run_folder
    from zoo.tools.lrfind import lr_find

    recipe, data = recipe_and_data(args)
    steps = args.steps
    if args.epochs is not None:  # passes over the data, in the recipe's batches
        import math

        from zoo.data.sources import recipe_data
        from zoo.recipes.schema import check_argument, count_field

        check_argument("--epochs", args.epochs, count_field(1), RecipeError)
        recipe, data = recipe_data(recipe, data)
        steps = args.epochs * math.ceil(data.sizes["train"] / recipe.train.batch_size)
    out = Path(args.out) if args.out else run_folder(f"{recipe.name}-lr-find")
    found = lr_find(recipe, data=data, baseline=args.baseline, steps=steps, out_dir=out)
    answer(
        f"{found.recipe} ({found.optimizer}): the loss falls fastest at rate {found.suggestion:.3g} "
        f"(lowest at {found.minimum_rate:.3g}); {len(found.rates)} steps before it blew up or the sweep ended."
    )
    answer(
        f"Train with it: zoo train {args.recipe} {found.command()}{data_flags_text(args)}"
        + (" --baseline" if args.baseline else "")
    )
    answer(f"Plot and numbers: {found.paths['plot']}, {found.paths['json']}")
    return 0


def cmd_tune(args) -> int:
    from zoo.nets.network import score_name
    from zoo.tools.search import tune

    recipe, data = recipe_and_data(args)
    if args.epochs is not None:  # as `zoo train --epochs`: N epochs, in place of a step budget
        recipe = get_recipe(recipe, **{"train.epochs": args.epochs, "train.steps": 0})
    result = tune(recipe, data=data, trials=args.trials, algorithm=args.algorithm, out_dir=args.out)
    best = max(r["val_accuracy"] for r in result.trials if r["val_accuracy"] is not None)
    default = f"{result.default_accuracy:.4f}" if result.default_accuracy is not None else "not run"
    trials = f"{len(result.trials)} trial{'s' * (len(result.trials) != 1)}"
    score = score_label(score_name(result.best_recipe))  # R^2 for a regression: the data may have made it one
    answer(f"{recipe.name}: best validation {score} {best:.4f} over {trials} (the recipe itself: {default})")
    answer(
        f"Best recipe: {result.paths['best']} (train it: zoo train {result.paths['best']}{data_flags_text(args)}); "
        "all trials: "
        f"{result.paths['table']}"
    )
    return 0


def cmd_predict(args) -> int:
    from zoo.tools.predict import predict_rows, write_predictions

    header, rows, notes = predict_rows(args.model, args.data)
    for note in notes:
        print(note, file=sys.stderr)
    text = write_predictions(header, rows, args.out)
    if args.out:
        answer(f"{len(rows)} predictions written to {args.out}")
    else:
        answer(text, end="")
    return 0


def cmd_export(args) -> int:
    from zoo.tools.export import export

    report = export(args.model, args.format, args.out)
    answer(
        f"{report['path']}: {report['format']}, its outputs within {report['max_abs_difference']:.2g} of the "
        f"Keras model's on {report['inputs_checked']} inputs"
    )
    return 0


def cmd_save_preset(args) -> int:
    from zoo.hub.presets import save_preset

    folder = save_preset(args.run_dir, args.out, args.name)
    answer(f"{folder}: model.keras, card.json, README.md (load it: zoo.from_preset or keras.saving.load_model)")
    return 0


def cmd_launch(args) -> int:
    from zoo.training.launch import launch_local  # starts processes only; each worker loads TensorFlow itself

    return launch_local(args.zoo_command, args.workers, args.port)


# The experiments that take options on the command line, and which.
EXPERIMENT_OPTIONS = {
    "heldout": ("part", "sets", "seeds"),
    "accelerator": ("seeds",),
    "levers": ("recipes", "seeds"),
    "tuning": ("recipes", "seeds"),
}


def cmd_experiment(args) -> int:
    from zoo.experiments import run_experiment  # research code: loaded only for this command

    listed = {key: getattr(args, key) and tuple(getattr(args, key).split(",")) for key in ("sets", "recipes")}
    given = {"part": args.part, **listed, "seeds": args.seeds}
    options = {key: value for key, value in given.items() if value is not None}
    for key in options:
        if key not in EXPERIMENT_OPTIONS.get(args.name, ()):
            owners = " or ".join(f"`zoo experiment {name}`" for name, keys in EXPERIMENT_OPTIONS.items() if key in keys)
            takes = ", ".join(f"--{k}" for k in EXPERIMENT_OPTIONS.get(args.name, ())) or "no options"
            raise RecipeError(f"--{key} goes with {owners}; {args.name} takes {takes}")
    started = time.perf_counter()
    run_experiment(args.name, **options)
    # This call's time: an experiment run in sittings (levers, tuning, heldout) records its sittings' sum instead.
    seconds = time.perf_counter() - started
    answer(f"zoo experiment {args.name}: done in {seconds:.0f} s; its report is under benchmarks/results/")
    return 0
