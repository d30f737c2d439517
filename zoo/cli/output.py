"""What a command prints: its progress, which `--quiet` silences, and its result lines, which stay.

Progress is everything the library and Keras print while a command runs (epoch bars, "run k/N"
lines, reports echoed as they are written). A command's own answer (the test score and the run
folder, the best trial, the suggested rate) goes through `answer`, which writes to the stdout the
command started with even while `quiet` points the rest at /dev/null. Errors go to stderr, untouched, and
zoo's own warnings go there as one line each (`plain_warnings`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

_results = None  # the stream answer lines go to while quiet; None: the current sys.stdout
_PACKAGE = Path(__file__).resolve().parent.parent  # zoo/


def answer(*parts, end: str = "\n") -> None:
    """Print one of the command's result lines (kept with --quiet).

    Examples:
        >>> with quiet(True):
        ...     print("epoch 1/10 ...")
        ...     answer("test accuracy 0.9012")
        test accuracy 0.9012
    """
    print(*parts, end=end, file=_results or sys.stdout, flush=True)


@contextlib.contextmanager
def quiet(enabled: bool) -> Iterator[None]:
    """While enabled, send stdout to /dev/null, except `answer` lines."""
    global _results
    if not enabled:
        yield
        return
    _results = sys.stdout
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            yield
    finally:
        _results = None


@contextlib.contextmanager
def plain_warnings() -> Iterator[None]:
    """While a command runs, print each warning zoo raises as one line, `zoo: warning: <message>`.

    Python's own format names the file and line and then prints the source line that raised it
    (`.../diagnostics.py:262: UserWarning: vanishing gradients ...` and then `self._measure(epoch)`): noise for
    someone reading a command's output. Warnings from other packages keep Python's format, which says whose
    they are.

    Examples:
        >>> import zoo.recipes.stacks
        >>> with plain_warnings(), contextlib.redirect_stderr(sys.stdout), warnings.catch_warnings():
        ...     warnings.simplefilter("always")
        ...     warnings.warn_explicit("the net is deep", UserWarning, zoo.recipes.stacks.__file__, 1)
        zoo: warning: the net is deep
    """
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if Path(filename).resolve().is_relative_to(_PACKAGE):
            print(f"zoo: warning: {message}", file=file or sys.stderr, flush=True)
        else:
            previous(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous
