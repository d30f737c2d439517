"""tf.distribute for zoo's training path: mirrored devices on one machine, or several workers.

`train.distribute` (CLI `--distribute`) picks the strategy:

* ``none``: no strategy, zoo's fast path.
* ``mirrored``: `tf.distribute.MirroredStrategy` over every GPU, or, on a machine without one,
  over `--devices N` logical CPU devices. Logical devices must be made before TensorFlow starts
  its runtime, which is why `configure_devices` is a separate first call (the CLI makes it
  before anything else touches TensorFlow).
* ``multi_worker``: `tf.distribute.MultiWorkerMirroredStrategy`, configured from `TF_CONFIG`
  (checked here first, so a malformed one gets a clear message rather than a stack trace), and
  given a bounded time to reach every peer.

The recipe's `train.batch_size` is the *global* batch: each step consumes that many examples,
split evenly over the replicas, so the learning rate needs no change when the device count does.

Examples:
    >>> make_strategy("none") is None
    True
    >>> cluster_from_tf_config('{"cluster": {"worker": ["127.0.0.1:2000"]}, "task": {"type": "worker", "index": 3}}')
    Traceback (most recent call last):
    ...
    zoo.errors.RunError: TF_CONFIG: task.index = 3 is outside cluster.worker, which lists 1 address (0 to 0)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from typing import Any

import tensorflow as tf

from zoo.errors import RunError
from zoo.recipes.keys import SCHEMA
from zoo.recipes.schema import Field, check_argument, count_field

# How long a worker waits for every peer's address to answer, and a collective for its peers,
# before giving up (seconds); $ZOO_PEER_TIMEOUT overrides it.
PEER_TIMEOUT_S = 60.0


# A wait is finite and positive: inf or -1 crashed the watchdog, and the worker then waited for a
# dead peer forever.
_TIMEOUT = Field(float, None, "seconds", minimum=0.0, min_exclusive=True, maximum=86400.0)  # at most a day


def peer_timeout() -> float:
    """$ZOO_PEER_TIMEOUT, or PEER_TIMEOUT_S.

    Examples:
        >>> os.environ["ZOO_PEER_TIMEOUT"] = "inf"
        >>> peer_timeout()
        Traceback (most recent call last):
        ...
        zoo.errors.RunError: ZOO_PEER_TIMEOUT = inf is not allowed; expected a number > 0 and <= 86400
        >>> del os.environ["ZOO_PEER_TIMEOUT"]
    """
    text = os.environ.get("ZOO_PEER_TIMEOUT", "")
    if not text:
        return PEER_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        raise RunError(f"ZOO_PEER_TIMEOUT={text!r} is not a number of seconds") from None
    return check_argument("ZOO_PEER_TIMEOUT", value, _TIMEOUT, RunError)


def configure_devices(count: int) -> int:
    """Split this machine's CPU into `count` logical devices for mirrored training; returns the
    number of devices a mirrored strategy will use (every GPU when there are GPUs).

    Call it before anything else runs TensorFlow: the runtime fixes its devices when it starts.

    Examples:
        (Not run by the doctests: the doctest process has started TensorFlow already.)
        >>> configure_devices(2)   # doctest: +SKIP
        2
    """
    count = check_argument("--devices", count, count_field(1), RunError)
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return len(gpus)  # GPUs are the devices; logical CPU devices would only slow them down
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:
        current = len(tf.config.list_logical_devices("CPU"))
        if current == count:
            return count
        raise RunError(
            f"--devices {count}: TensorFlow has already started with {current} CPU device(s); configure the "
            "devices first (zoo.configure_devices before any other TensorFlow call)"
        ) from None
    return count


def cluster_from_tf_config(text: str | None = None) -> dict[str, Any]:
    """The checked TF_CONFIG (`text`, default the environment's): its cluster and this task.

    Examples:
        >>> cluster_from_tf_config('{"cluster": {"worker": ["127.0.0.1:2000", "127.0.0.1:2001"]}, '
        ...                        '"task": {"type": "worker", "index": 1}}')["task"]
        {'type': 'worker', 'index': 1}
    """
    text = os.environ.get("TF_CONFIG") if text is None else text
    if not text:
        raise RunError(
            'train.distribute = \'multi_worker\' needs TF_CONFIG, e.g. TF_CONFIG=\'{"cluster": {"worker": '
            '["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 0}}\' on each worker'
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise RunError(f"TF_CONFIG is not JSON ({error}): {text[:200]!r}") from None
    if (
        not isinstance(config, dict)
        or not isinstance(config.get("cluster"), dict)
        or not isinstance(config.get("task"), dict)
    ):
        raise RunError('TF_CONFIG needs a "cluster" object and a "task" object')
    task, cluster = config["task"], config["cluster"]
    kind = task.get("type")
    if kind not in ("worker", "chief") or kind not in cluster:
        raise RunError(
            f"TF_CONFIG: task.type = {kind!r} is not allowed; expected worker or chief, with a cluster entry of that "
            "name"
        )
    for name, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses or not all(_address(a) for a in addresses):
            raise RunError(
                f'TF_CONFIG: cluster.{name} = {addresses!r} is not allowed; expected a list of "host:port" addresses'
            )
    index = task.get("index")
    if not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
        count = len(cluster[kind])
        raise RunError(
            f"TF_CONFIG: task.index = {index!r} is outside cluster.{kind}, which lists {count} "
            f"address{'es' if count > 1 else ''} (0 to {count - 1})"
        )
    return config


def _address(text: Any) -> bool:
    host, _, port = str(text).rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


def is_chief(config: dict[str, Any]) -> bool:
    """Whether this task writes the run folder: the chief, or worker 0 in a cluster without one."""
    task = config["task"]
    return task["type"] == "chief" or (
        task["type"] == "worker" and task["index"] == 0 and "chief" not in config["cluster"]
    )


# The watchdog: a separate process, because the waiting happens in C++ holding Python's lock, so
# no thread of this process runs until it returns.
_WATCHDOG = """
import os, signal, sys, time
parent, timeout, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
time.sleep(timeout)
print(message, file=sys.stderr, flush=True)
os.kill(parent, signal.SIGKILL)
"""


def _watchdog(config: dict[str, Any], timeout_s: float) -> subprocess.Popen:
    """A process that ends this one with a clear line if the strategy is not up within `timeout_s`;
    kill it once the strategy is up.

    TensorFlow's MultiWorkerMirroredStrategy() waits for every peer with no deadline of its own,
    inside C++ where neither an exception nor SIGTERM reaches it. Nothing has been written when it
    waits, so ending the process loses nothing.
    """
    own = config["cluster"][config["task"]["type"]][config["task"]["index"]]
    peers = ", ".join(a for addresses in config["cluster"].values() for a in addresses if a != own)
    message = (
        f"zoo: error: worker {own}: the cluster was not complete within {timeout_s:.0f} s (its peers: {peers}); "
        "start every worker listed in TF_CONFIG, or check the addresses and the firewall "
        "($ZOO_PEER_TIMEOUT sets the wait)"
    )
    return subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(timeout_s), message])


def make_strategy(kind: str, timeout_s: float | None = None):
    """The `tf.distribute` strategy for `train.distribute = kind` (None for "none").

    Examples:
        >>> make_strategy("mirored")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        zoo.errors.RecipeError: train.distribute = 'mirored' is not allowed (did you mean 'mirrored'?); allowed: ...
    """
    SCHEMA["train"]["distribute"].check("train.distribute", kind)
    if kind == "none":
        return None
    if kind == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    config = cluster_from_tf_config()
    timeout_s = peer_timeout() if timeout_s is None else timeout_s
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout_s)
    watchdog = _watchdog(config, timeout_s)
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    except RuntimeError as error:  # "Collective ops must be configured at program startup"
        raise RunError(
            "the multi-worker strategy must be made before TensorFlow runs anything else: call "
            "zoo.make_strategy('multi_worker') first and pass it as train(..., strategy=...) "
            f"({error})"
        ) from None
    finally:
        watchdog.kill()
        watchdog.wait()
    _default_sigterm()
    return strategy


def _default_sigterm() -> None:
    """Let SIGTERM end this worker at once, as it ends any other process.

    TensorFlow's coordination service installs its own SIGTERM handler (a preemption notice that only
    records the signal), so a worker waiting on a collective ignored `kill` and a cluster manager's stop.
    Ending at once loses at most the unfinished epoch: each epoch's checkpoint is written aside and
    renamed into place (see zoo.training.resume).
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
