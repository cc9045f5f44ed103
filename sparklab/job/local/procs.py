"""The processes of a local run (``wordcount --local``, ``submit --local``): the driver's
environment, and stopping its tree.

The driver (the launcher, :mod:`sparklab.job.launcher`) runs in a child process in a session of
its own; Spark's JVM and the Python workers the JVM starts are its descendants. Ctrl-C stops
them in order: the driver is asked to cancel (SIGINT), then whatever of the tree has not ended within
``STOP_GRACE_SECONDS`` is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from sparklab.job import tuning as spark_tuning

REPO = Path(__file__).resolve().parents[3]
STOP_GRACE_SECONDS = 15.0


def driver_env() -> dict[str, str]:
    """The child's environment: the package importable by the driver and by the Python workers
    (they import the application's functions), Spark bound to 127.0.0.1 only, and spark-submit's
    launcher JVM started with :func:`sparklab.job.tuning.launcher_options`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYSPARK_PYTHON"] = env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    env.setdefault("PYTHONUNBUFFERED", "1")
    ours, users = spark_tuning.launcher_options(env), env.get(spark_tuning.LAUNCHER_OPTS_ENV)
    launcher = " ".join(filter(None, [ours, users]))
    if launcher:  # spark-submit's short launcher JVM starts sooner; the user's own options come last
        env[spark_tuning.LAUNCHER_OPTS_ENV] = launcher
    return env


def _processes(pids: set[int]) -> dict[int, Any]:
    """psutil processes of the pids still running."""
    import psutil

    procs: dict[int, Any] = {}
    for pid in pids:
        try:
            procs[pid] = psutil.Process(pid)
        except psutil.Error:
            continue
    return procs


def _kill_left(procs: list[Any], wait: float) -> list[int]:
    """Wait up to ``wait`` seconds for ``procs`` to end, kill the rest; returns the pids killed."""
    import psutil

    _, alive = psutil.wait_procs(procs, timeout=wait)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=5)
    return [proc.pid for proc in alive]


def stop_tree(root: Any, known: set[int], grace: float = STOP_GRACE_SECONDS) -> list[int]:
    """Ask the driver to cancel (SIGINT), wait, then kill whatever of its tree is left.

    ``known`` holds every pid the sampler saw in the tree, so processes whose parent has already
    gone (reparented) are found too. Returns the pids that had to be killed.
    """
    import psutil

    procs = _processes(known | {root.pid})
    try:
        for child in psutil.Process(root.pid).children(recursive=True):
            procs.setdefault(child.pid, child)
    except psutil.Error:
        pass
    with contextlib.suppress(OSError):
        root.send_signal(signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        root.wait(timeout=grace)
    killed = _kill_left(list(procs.values()), wait=3)
    if root.poll() is None:
        root.kill()
        root.wait(timeout=5)
    return killed


def reap(pids: set[int], grace: float = 5.0) -> list[int]:
    """After the driver has exited: wait for what is left of its tree (the JVM leaves when the
    driver's pipe closes), then kill anything still there. Returns the pids killed."""
    return _kill_left(list(_processes(pids).values()), wait=grace)


class Interrupts:
    """Ctrl-C (and SIGTERM) set an event; the job's processes are in their own session, so the
    terminal's SIGINT reaches this process only and the stop happens in order."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, lambda *_: self.event.set())
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
