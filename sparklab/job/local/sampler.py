"""The sampler of ``wordcount --local``: the machine and the job's process tree, every second.

Every ``interval`` seconds, psutil gives the machine's CPU cores busy and memory in use and, for
each process of the job's tree, its CPU and resident memory. The driver's Python process, the JVM
(driver and executor threads together in local mode) and the Python workers the JVM starts are
told apart (roles ``python-driver``, ``jvm``, ``python-workers``). Each sample is appended to
``metrics.csv`` and handed, as a :class:`sparklab.job.monitor.Snapshot`, to ``on_sample`` (the live view).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklab.job.monitor import MetricRow, Snapshot, append_metrics, spark_ui_progress

SAMPLE_SECONDS = 1.0
ROLE_DRIVER, ROLE_JVM, ROLE_WORKERS = "python-driver", "jvm", "python-workers"


def _classify(root: Any, proc: Any, jvm_pids: set[int]) -> str:
    """Role of a process of the job's tree: the driver itself, the JVM, or what the JVM started."""
    if proc.pid == root.pid:
        return ROLE_DRIVER
    try:
        name = proc.name()
    except Exception:
        name = ""
    if name == "java" or name.startswith("java"):
        jvm_pids.add(proc.pid)
        return ROLE_JVM
    try:
        parents = {p.pid for p in proc.parents()}
    except Exception:
        parents = set()
    if parents & jvm_pids:
        return ROLE_WORKERS
    # spark-submit's shell scripts, which start the JVM: counted with it.
    return ROLE_DRIVER if name.startswith("python") else ROLE_JVM


@dataclass
class LocalSampler:
    """Samples the machine and the process tree under ``root_pid`` every ``interval`` seconds."""

    root_pid: int
    output: Path
    interval: float = SAMPLE_SECONDS
    on_sample: Callable[[Snapshot], None] | None = None
    status_file: Path | None = None
    node_name: str = field(default_factory=socket.gethostname)
    samples: int = 0
    seen: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _procs: dict[int, Any] = field(default_factory=dict, repr=False)
    _jvm: set[int] = field(default_factory=set, repr=False)
    _last_sample: float = field(default=0.0, repr=False)

    def tree(self) -> list[Any]:
        """The root and every descendant now (psutil processes)."""
        import psutil

        try:
            root = psutil.Process(self.root_pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def status(self) -> dict[str, Any]:
        if self.status_file is None or not self.status_file.exists():
            return {}
        try:
            return json.loads(self.status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def sample_once(self) -> Snapshot:
        import psutil

        now = time.time()
        cores = psutil.cpu_count() or 1
        memory = psutil.virtual_memory()
        rows = [MetricRow(now, "node", self.node_name, "", psutil.cpu_percent(None) * cores / 100,
                          int(memory.total - memory.available))]
        procs = self.tree()
        if procs:
            root = procs[0]
            for proc in procs:
                cached = self._procs.setdefault(proc.pid, proc)
                try:
                    with cached.oneshot():
                        cpu = cached.cpu_percent(None) / 100  # 0.0 at a process's first sample
                        rss = cached.memory_info().rss
                except psutil.Error:
                    continue
                self.seen.add(proc.pid)
                role = _classify(root, cached, self._jvm)
                rows.append(MetricRow(now, "pod", f"{role}-{proc.pid}", role, cpu, int(rss)))
        status = self.status()
        snap = Snapshot(now, rows, {self.node_name: (float(cores), int(memory.total))},
                        state=str(status.get("state", "starting")))
        if status.get("spark_ui") and snap.state == "running":
            try:
                snap.bytes_read, snap.tasks_done, snap.tasks_active = spark_ui_progress(status["spark_ui"])
            except Exception:  # the UI answers only while the job runs
                snap.bytes_read = None
        return snap

    def _loop(self) -> None:
        import psutil

        psutil.cpu_percent(None)  # the machine's counter starts here
        next_tick = time.monotonic() + self.interval
        while not self._stop.wait(max(0.0, next_tick - time.monotonic())):
            # A late sample (a busy machine) is not followed by a burst to catch up.
            next_tick = max(next_tick + self.interval, time.monotonic() + self.interval / 2)
            self._sample_and_show()

    def _sample_and_show(self) -> None:
        snap = self.sample_once()
        append_metrics(self.output, snap.rows)
        self.samples += 1
        self._last_sample = time.monotonic()
        if self.on_sample is not None:
            try:
                self.on_sample(snap)
            except Exception as err:  # the display must never stop the sampling
                print(f"live view: {type(err).__name__}: {err}", file=sys.stderr)

    def start(self) -> LocalSampler:
        append_metrics(self.output, [])
        self._thread = threading.Thread(target=self._loop, name="sparklab-local-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling, then take one last sample: the job's final state (completed, failed) is
        shown and recorded even when it ended between two ticks. It comes at least half an interval
        after the previous one, like every other sample."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 10)
            self._thread = None
            time.sleep(max(0.0, self._last_sample + self.interval / 2 - time.monotonic()))
            self._sample_and_show()
