"""Live view of a running WordCount: CPU and memory of the nodes and of the job, at every sample.

A :class:`LiveView` receives :class:`sparklab.monitor.Snapshot` objects (from the metrics-API
sampler on a cluster, from the psutil sampler of :mod:`sparklab.local` on this machine) and shows:

* per node: CPU cores in use against the node's allocatable cores, memory in use against its
  allocatable memory, and a sparkline of each over the last samples;
* per pod role (driver, executor; on this machine: the JVM and the Python processes): the sum over
  the role's pods, and each pod on its own line when a role has only a few;
* the application's state (submitted, running, completed, failed), the elapsed time, the bytes read
  so far when Spark reports them, the Spark UI address, and the current Ansible task.

On a terminal it is a ``rich`` live panel redrawn at every sample; elsewhere, or with ``--plain``,
one compact line per sample. Lines given to :meth:`LiveView.note` (failures, the Spark UI address)
are printed above the panel and stay on screen; closing the view leaves its last state on screen,
so the reason of a failure and the tail of the driver log, printed afterwards, are never hidden.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, TextIO

from sparklab.monitor import MetricRow, Snapshot
from sparklab.progress import Progress, TaskState

GIB = 1024**3
HISTORY = 12  # samples per sparkline: the panel fits an 80-column terminal
PODS_SHOWN_PER_ROLE = 3
SPARK_TICKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], top: float | None = None) -> str:
    """One block character per value, scaled to ``top`` (default: the largest value)."""
    if not values:
        return ""
    peak = top if top and top > 0 else max(values)
    if peak <= 0:
        return SPARK_TICKS[0] * len(values)
    last = len(SPARK_TICKS) - 1
    return "".join(SPARK_TICKS[min(last, max(0, round(v / peak * last)))] for v in values)


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


def _cpu_text(line: Line) -> str:
    return f"{line.cpu:.2f}" + (f" / {line.cpu_capacity:g}" if line.cpu_capacity else "")


def _mem_text(line: Line) -> str:
    text = f"{line.memory / GIB:.2f}"
    return text + (f" / {line.memory_capacity / GIB:.1f} GiB" if line.memory_capacity else " GiB")


class PlainLiveView(LiveView):
    """One compact line per sample, for pipes, CI logs and ``--plain``."""

    def on_update(self) -> None:
        with self._lock:
            view = self.view
            parts = [f"[{fmt_elapsed(time.monotonic() - view.started):>6}] {self.status_text()}"]
            for line in view.nodes:
                parts.append(f"{line.label} cpu {_cpu_text(line).replace(' ', '')} "
                             f"mem {_mem_text(line).replace(' ', '')}")
            for line in view.roles:
                if not line.indent:
                    parts.append(f"{line.label} cpu {line.cpu:.2f} mem {line.memory / GIB:.2f}GiB")
            if view.error:
                parts.append(f"sample error: {view.error}")
        print(" | ".join(parts), file=self.out, flush=True)


class RichLiveView(LiveView):
    """The live panel on a terminal."""

    def __init__(self, title: str, out: TextIO | None = None, history: int = HISTORY,
                 unit: str = "pod") -> None:
        super().__init__(title, out, history, unit)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=self.out)
        self.live = Live(console=self.console, get_renderable=self._render, refresh_per_second=2,
                         transient=False, redirect_stdout=False, redirect_stderr=False)
        self.live.start()
        self._open = True

    def _render(self) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            view = self.view
            table = Table(box=None, padding=(0, 1), expand=False, show_edge=False)
            table.add_column("", style="bold", no_wrap=True)
            table.add_column("CPU cores", justify="right", no_wrap=True)
            table.add_column("", style="cyan", no_wrap=True)
            table.add_column("memory", justify="right", no_wrap=True)
            table.add_column("", style="magenta", no_wrap=True)
            for line in view.nodes:
                table.add_row(f"node {line.label}", _cpu_text(line),
                              sparkline(line.cpu_history, line.cpu_capacity), _mem_text(line),
                              sparkline(line.memory_history,
                                        line.memory_capacity / GIB if line.memory_capacity else None))
            if not view.nodes:
                table.add_row(Text("no node yet", style="dim"), "", "", "", "")
            for line in view.roles:
                label = f"  {line.label}" if line.indent else line.label
                table.add_row(Text(label, style="dim" if line.indent else "bold"), f"{line.cpu:.2f}",
                              sparkline(line.cpu_history), f"{line.memory / GIB:.2f} GiB",
                              sparkline(line.memory_history))
            if not view.roles:
                gone = "any more" if any(k.startswith("role/") for k in self._history) else "yet"
                table.add_row(Text(f"no {self.unit} {gone}", style="dim"), "", "", "", "")
            alarm = view.state in ("failed", "failing", "interrupted")
            head = Text(self.status_text(), style="bold red" if alarm else "bold")
            parts: list[Any] = [head]
            if view.spark_ui:
                parts.append(Text(f"Spark UI {view.spark_ui}"))
            parts.append(table)
            if view.task:
                parts.append(Text(f"task: {view.task}", style="dim", overflow="ellipsis", no_wrap=True))
            if view.error:
                parts.append(Text(f"last sample failed: {view.error}", style="yellow"))
            title = view.title
        return Panel(Group(*parts), title=title, title_align="left", expand=False)

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)

    def refresh(self) -> None:
        if self._open:
            self.live.refresh()

    def on_update(self) -> None:
        self.refresh()

    def close(self) -> None:
        self.closed = True
        if self._open:
            self.live.refresh()
            self.live.stop()
            self._open = False


def make_live_view(title: str, out: TextIO | None = None, force_plain: bool = False,
                   unit: str = "pod") -> LiveView:
    """The panel on a terminal, plain lines anywhere else; ``unit`` names what a role sums."""
    stream = out or sys.stdout
    if not force_plain and stream.isatty():
        return RichLiveView(title, stream, unit=unit)
    return PlainLiveView(title, stream, unit=unit)


class LiveProgress(Progress):
    """Ansible progress shown inside a live view: the current task in the panel, failures as
    lines that stay (the playbook's events arrive while the job is being sampled)."""

    def __init__(self, view: LiveView, verbose: bool = False) -> None:
        super().__init__(view.out, verbose)
        self.view = view

    def message(self, text: str) -> None:
        self.view.note(text)

    def stream(self, text: str) -> None:
        self.view.note(text)

    def on_task_start(self) -> None:
        self.view.set_task(f"{self.phase} | {self.task.name}")

    def on_task_end(self, task: TaskState) -> None:
        if task.failed:
            self.view.set_task(f"{self.phase} | {task.name}: failed")

    def on_failure(self, line: str) -> None:
        self.view.note(f"FAILED {line}")

    def close(self) -> None:
        """The playbook has ended: the view's last state stays, what follows prints below it."""
        self.view.close()


class NoteWriter:
    """A text stream whose lines go above the live panel (``print(..., file=NoteWriter(view))``)."""

    def __init__(self, view: LiveView) -> None:
        self.view = view
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if self.view.closed:
                print(line, file=self.view.out, flush=True)
            else:
                self.view.note(line)
        return len(text)

    def flush(self) -> None:
        self.view.out.flush()

    def isatty(self) -> bool:
        return self.view.out.isatty()


class ClusterWatch:
    """The sampler and the live view that ``runner.py wordcount`` runs beside the playbook.

    Every sample of the metrics API goes to ``metrics.csv`` and to the view. The Spark UI address
    (``spark_ui_url``, the driver's NodePort) is announced once, as soon as the driver is up: the
    application is RUNNING or the driver pod reports metrics; ``on_spark_ui`` receives it then.
    """

    def __init__(self, view: LiveView, kubeconfig: Any, namespace: str, app_name: str, output: Any,
                 spark_ui_url: str = "", interval: float | None = None,
                 on_spark_ui: Any = None) -> None:
        from sparklab.monitor import DEFAULT_INTERVAL_SECONDS, Sampler

        self.view = view
        self.spark_ui_url = spark_ui_url
        self.on_spark_ui = on_spark_ui
        self.announced = False
        self.sampler = Sampler(kubeconfig, namespace, app_name, output=output,
                               interval=interval or DEFAULT_INTERVAL_SECONDS, on_sample=self._on_sample,
                               spark_ui_url=spark_ui_url)

    def _on_sample(self, snap: Snapshot) -> None:
        self.view.update(snap)
        driver_up = snap.state == "running" or any(r.kind == "pod" and r.role == "driver" for r in snap.rows)
        if self.spark_ui_url and driver_up and not self.announced:
            self.announced = True
            self.view.set_spark_ui(self.spark_ui_url)
            self.view.note(f"Spark UI: {self.spark_ui_url} (while the job runs; cluster_admin_cidrs only)")
            if self.on_spark_ui is not None:
                self.on_spark_ui(self.spark_ui_url)

    def start(self) -> ClusterWatch:
        self.sampler.start()
        return self

    def stop(self) -> Any:
        return self.sampler.stop()
