"""Progress of a long command (bench, experiment, tune): run k of N, elapsed and ETA, in one place.

In a terminal or a notebook it is rich's live bar (rich comes with Keras), with each finished run's
line printed above it; in a log file (stdout not a terminal) it is plain lines, one per finished run,
each with the same counts: ``[  42 s, 3/12, ETA 2 min] fashion_cnn seed 1: test 0.9412``. With
``quiet`` it prints nothing: the command's result line and errors are all that remain.

The ETA assumes the runs left cost what the finished ones did on average, which is right for the
fixed grids of alike runs these commands train; where runs differ (a leaderboard's entries range from
40 s to 11 minutes), `weights` gives each run's expected cost in any unit (seconds measured before,
epochs) and the ETA scales the time so far by the weight left over the weight done.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any


def duration(seconds: float) -> str:
    """A short human duration: seconds under 2 minutes, then minutes, then hours.

    Examples:
        >>> duration(42.4), duration(150), duration(7300)
        ('42 s', '2.5 min', '2.0 h')
    """
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class Progress:
    """Count finished runs of `total`; say each with elapsed time and an ETA. A context manager.

    `total` may be None when the count is not known ahead (then no ETA is shown). `weights`, one per run
    in the order they finish, weigh the ETA by each run's expected cost.

    Examples:
        >>> with Progress(2, "demo", live=False) as progress:
        ...     progress.done("first run")                  # doctest: +ELLIPSIS
        ...     progress.done("second run")                 # doctest: +ELLIPSIS
        [    0 s, 1/2, ETA 0 s] demo: first run
        [    0 s, 2/2] demo: second run
        >>> Progress(3, "demo", live=False, weights=[1, 1, 8]).eta(elapsed=10.0) is None  # nothing done yet
        True
    """

    def __init__(
        self,
        total: int | None,
        label: str,
        quiet: bool = False,
        live: bool | None = None,
        weights: Sequence[float] | None = None,
    ):
        if weights is not None and (len(weights) != total or min(weights, default=1) <= 0):
            raise ValueError(f"Progress: {len(weights)} weights for {total} runs; expected one positive weight a run")
        # Without weights every run weighs the same: the ETA is then the mean cost of the finished runs.
        self.weights = list(weights) if weights is not None else [1.0] * (total or 0)
        self.total, self.label, self.quiet = total, label, quiet
        self.count, self.started = 0, time.perf_counter()
        self.live = (not quiet) and (live if live is not None else interactive())
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if self.live:
            from rich.progress import BarColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

            # With weights the bar fills by weight, so rich's own ETA is weighted too; it still counts runs.
            self._bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                "{task.fields[runs]}",
                TimeElapsedColumn(),
                "ETA",
                TimeRemainingColumn(),
                transient=True,  # the bar goes when the command ends; the finished runs' lines stay
            )
            self._bar.start()
            units = sum(self.weights) if self.total else None
            self._task = self._bar.add_task(self.label, total=units, runs=self._counts())
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def eta(self, elapsed: float | None = None) -> float | None:
        """Seconds left at the mean cost of the finished runs (None before the first, or with no total)."""
        if not self.total or not self.count:
            return None
        elapsed = self.elapsed() if elapsed is None else elapsed
        return elapsed / sum(self.weights[: self.count]) * sum(self.weights[self.count :])

    def _counts(self) -> str:
        return f"{self.count}/{self.total}" if self.total else f"{self.count}"

    def say(self, text: str) -> None:
        """A line that is not a finished run (a phase, a note), with the elapsed time."""
        if self.quiet:
            return
        line = f"[{self.elapsed():5.0f} s] {self.label}: {text}"
        self._bar.console.print(line, markup=False, highlight=False) if self._bar else print(line, flush=True)

    def done(self, text: str) -> None:
        """One run finished: count it and print `text` with elapsed time, k/N and the ETA."""
        self.count += 1
        if self._bar is not None:
            weight = self.weights[self.count - 1] if self.count <= len(self.weights) else 1
            self._bar.update(self._task, advance=weight, runs=self._counts())
        if self.quiet:
            return
        counts = self._counts()
        elapsed = self.elapsed()
        eta = self.eta(elapsed)
        left = f", ETA {duration(eta)}" if eta is not None and self.count < self.total else ""
        line = f"[{elapsed:5.0f} s, {counts}{left}] {self.label}: {text}"
        self._bar.console.print(line, markup=False, highlight=False) if self._bar else print(line, flush=True)


def interactive() -> bool:
    """A live bar where someone watches: a terminal, or an IPython kernel (Jupyter, Colab).

    Examples:
        >>> interactive() in (True, False)
        True
    """
    if "ipykernel" in sys.modules:
        return True
    return sys.stdout.isatty()
