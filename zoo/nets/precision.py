"""Which arithmetic a network trains in: `train.precision`, with "auto" resolved for the machine at hand.

Mixed bfloat16 (weights in float32, the layers' arithmetic in bfloat16) pays only where the hardware
multiplies bfloat16 natively: CPUs with AVX512_BF16 or AMX (AMD Zen 4, Intel Cooper Lake and later). On a
CPU without them oneDNN converts and computes in float32, and bfloat16 can only cost. So "auto" picks mixed
bfloat16 on such a CPU and float32 everywhere else. With a GPU visible it stays float32: zoo has not
measured mixed precision on GPUs here, and a GPU user who wants it names `mixed_float16` or
`mixed_bfloat16` outright.

Examples:
    >>> resolve_precision("float32"), resolve_precision("mixed_float16")
    ('float32', 'mixed_float16')
    >>> resolve_precision("auto") in ("float32", "mixed_bfloat16")
    True
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import keras

AUTO = "auto"


def cpu_bf16_features(cpuinfo: str | Path = "/proc/cpuinfo") -> list[str]:
    """The CPU's bfloat16 instruction sets as /proc/cpuinfo names them (empty where it names none, or there is
    no /proc/cpuinfo, as on macOS).

    Examples:
        >>> cpu_bf16_features("/nowhere")
        []
    """
    path = Path(cpuinfo)
    if not path.is_file():
        return []
    lines = path.read_text().splitlines()
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return sorted(flag for flag in set(flags) if "bf16" in flag)


def _accelerator_visible() -> bool:
    """Whether the Keras backend sees a GPU (or another accelerator) to train on."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        # Without an NVIDIA driver TensorFlow sees no GPU, and asking it prints "failed call to cuInit" on stderr;
        # the driver shows itself in /proc (Linux) or, under WSL 2, as /dev/dxg.
        if not any(Path(p).exists() for p in ("/proc/driver/nvidia/version", "/dev/dxg")):
            return False
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


@functools.cache
def _auto() -> str:
    # Cached: the CPU and the visible devices do not change within a process, and a build reads this each time.
    return "mixed_bfloat16" if cpu_bf16_features() and not _accelerator_visible() else "float32"


def resolve_precision(policy: str) -> str:
    """The Keras dtype policy `train.precision` stands for: itself, or for "auto" what this machine runs best
    (see the module's docstring)."""
    return _auto() if policy == AUTO else policy


@contextlib.contextmanager
def precision_scope(policy: str):
    """Build under the dtype policy `policy` ("auto" resolved; layers keep the policy they were made with), then
    restore the previous one.

    Examples:
        >>> with precision_scope("mixed_bfloat16"):
        ...     keras.layers.Dense(2).dtype_policy.name
        'mixed_bfloat16'
        >>> keras.config.dtype_policy().name
        'float32'
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(resolve_precision(policy))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
