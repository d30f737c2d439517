"""Run folders, result files and the versions that produced them.

Every command that writes results goes through here: `run_folder` names a fresh folder,
`atomic_write` / `write_json` never leave half a file behind, `stamp` records which code and
libraries made a result (the zoo version from package metadata and, when zoo runs from a git
checkout, the commit), and `write_results` writes one experiment's results.json, report.md and
figures in one step. Plain Python: no TensorFlow import until `versions` asks for its version.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# zoo/reports/records.py -> the checkout's root (in an installed wheel: site-packages, which has no .git).
_CHECKOUT = Path(__file__).resolve().parents[2]


def atomic_write(path: str | Path, write: Callable[[Path], Any]) -> None:
    """Call `write(tmp_path)` then rename over `path`, so a crash never leaves half a file.

    Examples:
        >>> atomic_write(Path(tempfile.gettempdir()) / "zoo-example.txt", lambda tmp: tmp.write_text("done"))
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(tmp))
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path: str | Path, data: Any) -> None:
    """Write `data` as indented JSON, atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n"))


def write_text(path: str | Path, text: str) -> None:
    """Write `text`, atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text))


def run_folder(name: str, parent: str | Path = "runs") -> Path:
    """A fresh, timestamped folder name under `parent`: runs/<name>-<date>-<time>.

    Examples:
        >>> run_folder("fashion_mlp").name.startswith("fashion_mlp-")
        True
    """
    return Path(parent) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def resumable_folder(name: str, parent: str | Path = "runs") -> Path:
    """`parent`/<name>-<commit>: the same committed code always maps to the same folder, so a long experiment
    interrupted and run again from the same place resumes there, and every part of it trained at that commit.
    Run with uncommitted changes (or outside a checkout), it is a fresh timestamped folder (`run_folder`).

    Examples:
        >>> folder = resumable_folder("tuning", "runs/experiments")
        >>> folder.parent, folder.name.startswith("tuning-")
        (PosixPath('runs/experiments'), True)
    """
    info = git_commit()
    if info is None or info["uncommitted_changes"]:
        return run_folder(name, parent)
    return Path(parent) / f"{name}-{info['commit'][:12]}"


RESULTS_PATHSPEC = ":(exclude)benchmarks/results"


@functools.lru_cache(maxsize=1)
def git_commit(checkout: str | Path | None = None) -> dict[str, Any] | None:
    """The commit zoo runs from, when it runs from a git checkout (None for an installed wheel), or the
    commit of the `checkout` named.

    Examples:
        >>> info = git_commit()
        >>> info is None or len(info["commit"]) == 40
        True
    """
    checkout = Path(checkout) if checkout is not None else _CHECKOUT
    if not (checkout / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        # Committed results are what runs write, never what they read: a run's own earlier output (one
        # experiment run recipe by recipe rewrites its results.json) does not make its code uncommitted.
        dirty = subprocess.run(
            ["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no", "--", ".", RESULTS_PATHSPEC],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "uncommitted_changes": bool(dirty)}


def versions() -> dict[str, Any]:
    """Versions of zoo (with its git commit from a checkout) and the libraries a result depends on, and the
    backend Keras ran on (`KERAS_BACKEND`: the same recipe trains on TensorFlow or JAX, at different speeds).

    `onednn` says whether TensorFlow ran its CPU ops through oneDNN (zoo turns it on: `zoo/__init__.py`), which
    changes both their speed and their rounding; None where there is no TensorFlow to ask.

    Examples:
        >>> sorted(versions())
        ['git', 'keras', 'keras_backend', 'numpy', 'onednn', 'python', 'tensorflow', 'zoo']
    """
    import keras
    import numpy

    from zoo import __version__

    tensorflow = None  # Keras on JAX or PyTorch runs without it (the accelerator experiment's machine has none)
    if importlib.util.find_spec("tensorflow") is not None:
        import tensorflow
    return {
        "zoo": __version__,
        "git": git_commit(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "tensorflow": tensorflow.__version__ if tensorflow else "absent",
        "onednn": _onednn() if tensorflow else None,
        "numpy": numpy.__version__,
        "python": sys.version.split()[0],
    }


def _onednn() -> bool | None:
    """Whether this process's TensorFlow runs oneDNN's CPU kernels (TF_ENABLE_ONEDNN_OPTS as TensorFlow read it)."""
    try:
        from tensorflow.python.util import _pywrap_util_port  # TensorFlow's own check; no public one exists
    except ImportError:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def stamp(started: float) -> dict[str, Any]:
    """The closing fields of every results file: wall seconds since `started`, versions, date."""
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d"),
    }


def write_results(
    out_dir: str | Path, results: dict[str, Any], report: str, figures: dict[str, Any] | None = None, echo: bool = True
) -> Path:
    """Write results.json, report.md and each `figures` entry (file name -> matplotlib Figure) to `out_dir`.

    The report is printed too unless `echo` is false. Returns `out_dir`.

    Examples:
        >>> folder = write_results(Path(tempfile.mkdtemp()), {"answer": 42}, "# Report\\n", echo=False)
        >>> sorted(path.name for path in folder.iterdir())
        ['report.md', 'results.json']
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, figure in (figures or {}).items():
        save_figure(figure, out_dir / name)
    write_json(out_dir / "results.json", results)
    write_report(out_dir, report)
    if echo:
        print(report)
    return out_dir


def write_report(out_dir: str | Path, report: str) -> None:
    """Write `out_dir`/report.md, ending with the link to the protocol where it is committed (`protocol_link`)."""
    link = protocol_link(out_dir)
    if link and "protocol.md" not in report:
        report = report.rstrip("\n") + f"\n\n{link}\n"
    write_text(Path(out_dir) / "report.md", report)


def protocol_link(folder: str | Path) -> str | None:
    """The line that ties a report inside zoo's checkout to the rules its numbers were made under
    (docs/protocol.md: only validation picks; test read once by final runs); None outside a checkout.

    Examples:
        >>> protocol_link(tempfile.mkdtemp()) is None
        True
    """
    folder = Path(folder).resolve()
    for parent in folder.parents:
        page = parent / "docs" / "protocol.md"
        if page.is_file() and (parent / "benchmarks").is_dir():
            where = os.path.relpath(page, folder)
            return f"How every number here was chosen and tested: [the protocol]({where}) (only validation picks)."
    return None


def save_figure(figure, path: str | Path) -> None:
    """Save a matplotlib Figure as a PNG, atomically."""
    atomic_write(path, lambda tmp: figure.savefig(tmp, dpi=110, format="png"))
