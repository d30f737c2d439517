"""Start N local workers of one zoo command, each with its TF_CONFIG, for trying multi-worker training.

`zoo launch --workers 2 train RECIPE --out DIR` runs `zoo train RECIPE --out DIR --distribute
multi_worker` N times on 127.0.0.1 ports from `--port` up. Worker 0 is the chief: its output is
shown, and it writes DIR. The others write their output to DIR.worker<i>.log, shown if one fails.
On a real cluster, run the same command on each machine with TF_CONFIG naming every machine
(README, "More devices, more machines").

Examples:
    >>> tf_configs(2, 23456)[1]["task"], tf_configs(2, 23456)[1]["cluster"]["worker"]
    ({'type': 'worker', 'index': 1}, ['127.0.0.1:23456', '127.0.0.1:23457'])
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zoo.errors import RunError
from zoo.recipes.schema import check_argument, count_field


def tf_configs(workers: int, port: int) -> list[dict[str, Any]]:
    """The TF_CONFIG of each of `workers` local workers on ports `port`, `port + 1`, ..."""
    cluster = {"worker": [f"127.0.0.1:{port + index}" for index in range(workers)]}
    return [{"cluster": cluster, "task": {"type": "worker", "index": index}} for index in range(workers)]


def launch_local(command: Sequence[str], workers: int = 2, port: int = 23456) -> int:
    """Run `zoo <command> --distribute multi_worker` as `workers` local processes; the worst exit status."""
    check_argument("--workers", workers, count_field(1), RunError)
    check_argument("--port", port, count_field(1024, 65535 - workers), RunError)
    command = list(command)
    if not command or command[0] != "train" or "--out" not in command:
        raise RunError(
            "zoo launch runs `train RECIPE --out DIR ...` (the same --out for every worker), e.g. "
            "zoo launch --workers 2 train fashion_mlp --out runs/two-workers"
        )
    out = command[command.index("--out") + 1] if command.index("--out") + 1 < len(command) else ""
    busy = [number for number in range(port, port + workers) if _in_use(number)]
    if busy:  # TensorFlow would fail deep inside the strategy, or wait on another program's port
        raise RunError(
            f"port {busy[0]} on 127.0.0.1 is in use; the {workers} workers need ports {port}-{port + workers - 1}: "
            "pass --port with a free range"
        )
    processes, logs = [], []
    for index, config in enumerate(tf_configs(workers, port)):
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        log = None if index == 0 else open(f"{out}.worker{index}.log", "w")
        logs.append(log)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "zoo", *command, "--distribute", "multi_worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
            )
        )
    try:
        codes = [process.wait() for process in processes]
    except KeyboardInterrupt:
        for process in processes:
            process.terminate()
        raise
    for index, (code, log) in enumerate(zip(codes, logs)):
        if log is not None:
            log.close()
            if code:
                print(
                    f"worker {index} exited with status {code}; its output:\n{Path(log.name).read_text()[-3000:]}",
                    file=sys.stderr,
                )
            else:
                Path(log.name).unlink()
    return max(codes, key=abs)


def _in_use(port: int) -> bool:
    """Whether something on this machine already holds `port` (a bind to it fails)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As TensorFlow's gRPC server does: a port whose last run's connections linger in TIME_WAIT is free,
        # one that a program listens on is not (without this, a launch a minute after the last one failed).
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False
