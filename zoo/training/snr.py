"""The signal-to-noise ratio of a stochastic gradient: how much of a batch gradient is the true gradient.

zoo's gradient diagnostics (`diagnose --snr`) report it per layer; the tuples experiment shows it
falling with the parity's k. Plain numpy: it reads gradients, whatever computed them.
"""

from __future__ import annotations

import math

import numpy as np

from zoo.errors import DataError


def gradient_snr(batch_gradients, batch_size: int) -> dict[str, float]:
    """Signal-to-noise ratio of a stochastic gradient, from the mean gradients of equal-sized batches.

    `batch_gradients` holds one gradient per batch of `batch_size` examples (an array or a list
    of arrays, e.g. one per variable). With g_i those batch means and S their sample variance
    (summed over coordinates), one example's gradient has noise tr(Cov) ~ batch_size * S, and
    ||E g||^2 is estimated without bias as ||mean g_i||^2 - S / m. Returns ``signal`` (that
    estimate, floored at 0), ``noise``, ``snr`` = signal / noise per example, and ``resolution``
    = 1 / (m * batch_size): an SNR below it cannot be told from zero with this many examples.
    (Shalev-Shwartz, Shamir and Shammah 2017, section 3, use this SNR to show why end-to-end
    training of a parity of k tags fails.)

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> strong = gradient_snr([1.0 + rng.normal(size=3) / 10 for _ in range(50)], batch_size=1)
        >>> weak = gradient_snr([0.01 + rng.normal(size=3) for _ in range(50)], batch_size=1)
        >>> strong["snr"] > 10 > weak["snr"]
        True
    """
    flat = np.stack(
        [
            np.concatenate(
                [np.ravel(np.asarray(part, np.float64)) for part in (g if isinstance(g, (list, tuple)) else [g])]
            )
            for g in batch_gradients
        ]
    )
    batches = len(flat)
    if batches < 2:
        raise DataError(f"gradient_snr needs the gradients of at least 2 batches; got {batches}")
    mean = flat.mean(axis=0)
    spread = float(np.sum(flat.var(axis=0, ddof=1)))
    noise = batch_size * spread
    signal = max(0.0, float(mean @ mean) - spread / batches)
    return {
        "signal": signal,
        "noise": noise,
        "snr": signal / noise if noise > 0 else math.inf,
        "resolution": 1.0 / (batches * batch_size),
    }
