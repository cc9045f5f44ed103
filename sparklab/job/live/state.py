"""What the live view shows, built from the samples: nodes, pod roles, state, progress.

:class:`LiveView` takes :class:`sparklab.job.monitor.Snapshot` objects and keeps, thread-safe, a
:class:`ViewState`: one :class:`Line` per node (against its allocatable CPU and memory), per pod
role (summed over the role's pods) and per pod when a role has only a few, each with the history
of its last samples. How it is drawn is :mod:`sparklab.job.live.render`'s business.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import TextIO

from sparklab.job.monitor import MetricRow, Snapshot

GIB = 1024**3
HISTORY = 12  # samples per sparkline: the panel fits an 80-column terminal
PODS_SHOWN_PER_ROLE = 3


def fmt_elapsed(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def fmt_bytes(count: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


@dataclass
class Line:
    """One line of the panel: a node, a role (summed) or a single pod."""

    label: str
    cpu: float
    memory: int
    cpu_capacity: float | None = None
    memory_capacity: int | None = None
    cpu_history: list[float] = field(default_factory=list)
    memory_history: list[float] = field(default_factory=list)
    indent: bool = False


@dataclass
class ViewState:
    """Everything the view shows; built from snapshots, rendered by the subclasses."""

    title: str
    started: float = field(default_factory=time.monotonic)
    state: str = "starting"
    bytes_read: int | None = None
    tasks_done: int | None = None
    tasks_active: int | None = None
    spark_ui: str = ""
    task: str = ""
    samples: int = 0
    error: str = ""
    nodes: list[Line] = field(default_factory=list)
    roles: list[Line] = field(default_factory=list)


class LiveView:
    """Bookkeeping shared by the panel and the plain lines; thread-safe."""

    def __init__(self, title: str, out: TextIO | None = None, history: int = HISTORY,
                 unit: str = "pod") -> None:
        self.out = out or sys.stdout
        self.unit = unit
        self.view = ViewState(title)
        self._history: dict[str, tuple[deque[float], deque[float]]] = defaultdict(
            lambda: (deque(maxlen=history), deque(maxlen=history)))
        self._lock = threading.Lock()
        self.closed = False

    # inputs ---------------------------------------------------------------------------------
    def update(self, snap: Snapshot) -> None:
        """Take one sample and redraw (nothing once the view is closed)."""
        if self.closed:
            return
        with self._lock:
            self._take(snap)
        self.on_update()

    def set_state(self, state: str) -> None:
        with self._lock:
            self.view.state = state
        self.refresh()

    def set_task(self, task: str) -> None:
        with self._lock:
            self.view.task = task
        self.refresh()

    def set_spark_ui(self, url: str) -> None:
        with self._lock:
            self.view.spark_ui = url
        self.refresh()

    def note(self, text: str) -> None:
        """A line that stays on screen, printed above the panel."""
        print(text, file=self.out, flush=True)

    def refresh(self) -> None:
        """Redraw now (the panel); plain lines are printed only per sample."""

    def close(self) -> None:
        """Stop redrawing; the last state stays on screen."""
        self.closed = True

    def on_update(self) -> None: ...

    # bookkeeping ----------------------------------------------------------------------------
    def _remember(self, key: str, cpu: float, memory: int) -> tuple[list[float], list[float]]:
        cpus, mems = self._history[key]
        cpus.append(cpu)
        mems.append(memory / GIB)
        return list(cpus), list(mems)

    def _take(self, snap: Snapshot) -> None:
        view = self.view
        if snap.state:
            view.state = snap.state
        if snap.bytes_read is not None:
            view.bytes_read = snap.bytes_read
        if snap.tasks_done is not None:
            view.tasks_done, view.tasks_active = snap.tasks_done, snap.tasks_active
        view.error = snap.error
        if not snap.rows and snap.error:
            return  # a failed sample: keep the last lines, show the error
        view.samples += 1
        view.nodes = []
        for row in sorted((r for r in snap.rows if r.kind == "node"), key=lambda r: r.name):
            cpu_cap, mem_cap = snap.capacity.get(row.name, (None, None))
            cpus, mems = self._remember(f"node/{row.name}", row.cpu_cores, row.memory_bytes)
            view.nodes.append(Line(row.name, row.cpu_cores, row.memory_bytes, cpu_cap, mem_cap, cpus, mems))
        pods: dict[str, list[MetricRow]] = defaultdict(list)
        for row in snap.rows:
            if row.kind == "pod":
                pods[row.role or "other"].append(row)
        seen = {f"role/{role}" for role in pods}
        for key in list(self._history):  # roles that are gone start from zero if they come back
            if key.startswith("role/") and key not in seen:
                self._remember(key, 0.0, 0)
        view.roles = []
        for role in sorted(pods, key=_role_order):
            members = sorted(pods[role], key=lambda r: r.name)
            cpu = sum(r.cpu_cores for r in members)
            memory = sum(r.memory_bytes for r in members)
            cpus, mems = self._remember(f"role/{role}", cpu, memory)
            plural = "es" if self.unit.endswith("s") else "s"
            label = f"{role} ({len(members)} {self.unit}{plural if len(members) != 1 else ''})"
            view.roles.append(Line(label, cpu, memory, cpu_history=cpus, memory_history=mems))
            if 1 < len(members) <= PODS_SHOWN_PER_ROLE:
                for member in members:
                    cpus, mems = self._remember(f"pod/{member.name}", member.cpu_cores, member.memory_bytes)
                    view.roles.append(Line(_short(member.name), member.cpu_cores, member.memory_bytes,
                                           cpu_history=cpus, memory_history=mems, indent=True))

    def had_roles(self) -> bool:
        """Whether a pod role has been seen (its history stays once its pods are gone)."""
        return any(key.startswith("role/") for key in self._history)

    def status_text(self) -> str:
        view = self.view
        parts = [view.state, fmt_elapsed(time.monotonic() - view.started)]
        if view.bytes_read:
            parts.append(f"read {fmt_bytes(view.bytes_read)}")
        if view.tasks_done is not None:
            ended = view.state in ("completed", "failed", "interrupted")
            running = "" if ended else f", {view.tasks_active or 0} running"
            parts.append(f"tasks {view.tasks_done} done{running}")
        return " · ".join(parts)


def _role_order(role: str) -> tuple[int, str]:
    order = {"driver": 0, "executor": 1}
    return order.get(role, 2), role


def _short(name: str) -> str:
    return name if len(name) <= 20 else "…" + name[-19:]
