"""Run folders: zoo's own, claimed by one process at a time, never anyone else's.

A run folder is marked as zoo's (`.zoo-run`) when zoo makes it, and locked (`fcntl.flock` on the
mark) while a run trains in it, so two runs into one `--out` cannot both proceed. zoo resumes only
a folder it marked, and refuses any other folder that holds files: it never writes over, appends
to or deletes files it did not write.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from zoo.errors import RunError
from zoo.recipes.recipe import Recipe, get_recipe
from zoo.reports.records import run_folder
from zoo.training.resume import AtomicBackup

# zoo's mark on a run folder it made: it resumes only folders it marked, and writes into no other
# folder that holds anything.
RUN_MARK = ".zoo-run"


def run_paths(recipe: Recipe, out_dir: str | Path | None) -> tuple[dict[str, Path], bool]:
    """The run folder's file paths, and whether an interrupted run of the same recipe resumes there.

    A folder that holds files and no zoo mark is refused: zoo never writes over, appends to or
    deletes files it did not write.
    """
    run_dir = Path(out_dir) if out_dir is not None else run_folder(recipe.name)
    paths = {
        "run_dir": run_dir,
        "mark": run_dir / RUN_MARK,
        "recipe": run_dir / "recipe.toml",
        "csv_log": run_dir / "log.csv",
        "tensorboard": run_dir / "tensorboard",
        "model": run_dir / "model.keras",
        "metrics": run_dir / "metrics.json",
        "curves": run_dir / "curves.png",
        "diagnostics": run_dir / "diagnostics.json",
        "backup": run_dir / "backup",
    }
    if run_dir.exists() and not run_dir.is_dir():
        raise RunError(f"--out {run_dir} is a file; name a new or empty folder for the run")
    held = sorted(path.name for path in run_dir.iterdir()) if run_dir.is_dir() else []
    if held and not paths["mark"].is_file():
        shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
        raise RunError(
            f"--out {run_dir} holds files zoo did not write ({shown}); zoo trains only into a new or empty "
            "folder, or resumes a run folder it made: choose another --out"
        )
    if paths["metrics"].exists():
        raise RunError(f"{run_dir} already holds a finished run ({paths['metrics']}); choose another output folder")
    resuming = bool(held) and bool(AtomicBackup(paths["backup"]).checkpoints())
    if paths["recipe"].exists() and resuming and get_recipe(paths["recipe"]).training_dict() != recipe.training_dict():
        raise RunError(
            f"{run_dir} holds an interrupted run of a different recipe; resume it with "
            f"`zoo train {paths['recipe']} --out {run_dir}` or choose another output folder"
        )
    return paths, resuming


@contextlib.contextmanager
def claimed(paths: dict[str, Path], recipe: Recipe) -> Iterator[None]:
    """Mark the run folder as zoo's and hold it for this process until the run ends.

    Examples:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()) / "run"
        >>> paths, resuming = run_paths(get_recipe("fashion_mlp"), folder)
        >>> with claimed(paths, get_recipe("fashion_mlp")):
        ...     with claimed(paths, get_recipe("fashion_mlp")):  # doctest: +ELLIPSIS
        ...         pass
        Traceback (most recent call last):
        ...
        zoo.errors.RunError: another zoo process is training in .../run ...
    """
    try:
        paths["mark"].parent.mkdir(parents=True, exist_ok=True)
        handle = paths["mark"].open("a+")
    except OSError as error:  # read-only, a file in the way, no space
        raise RunError(f"cannot write the run folder {paths['mark'].parent}: {error.strerror or error}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(
                f"another zoo process is training in {paths['mark'].parent} (its lock is on {RUN_MARK}); "
                "wait for it to finish, or train into another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"made_by": "zoo", "recipe": recipe.name, "pid": os.getpid()}) + "\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_history(path: Path) -> dict[str, list[float]]:
    """The run's per-epoch log (`log.csv`) as {column: values}, one value per epoch, {} before the first.

    It spans every epoch, those before a resume too, where `fit`'s own history does not. An epoch logged, then
    interrupted before its checkpoint was committed, trains again after the resume and is logged again: its
    last row is the one the run kept.

    Examples:
        >>> import tempfile
        >>> log = Path(tempfile.mkdtemp()) / "log.csv"
        >>> _ = log.write_text("epoch,loss\\n0,0.9\\n1,0.7\\n1,0.6\\n")
        >>> read_history(log)
        {'loss': [0.9, 0.6]}
    """
    if not path.is_file():
        return {}
    with path.open() as handle:
        rows = list({row["epoch"]: row for row in csv.DictReader(handle)}.values())
    return {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else {}) if key != "epoch"}
