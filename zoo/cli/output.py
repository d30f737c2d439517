"""What a command prints: its progress, which `--quiet` silences, and its result lines, which stay.

Progress is everything the library and Keras print while a command runs (epoch bars, "run k/N"
lines, reports echoed as they are written). A command's own answer (the test score and the run
folder, the best trial, the suggested rate) goes through `answer`, which writes to the stdout the
command started with even while `quiet` points the rest at /dev/null. Errors go to stderr, untouched.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

_results = None  # the stream answer lines go to while quiet; None: the current sys.stdout


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
