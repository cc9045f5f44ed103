"""Progress display driven by ansible-runner events.

On a terminal: a live ``rich`` panel with the phase, the current task, hosts done out of hosts
started, and the elapsed time. Elsewhere (CI logs, pipes): plain, timestamped lines. With
``verbose`` the Ansible output itself is streamed as well.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

_DONE_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
}


@dataclass
class TaskState:
    name: str = ""
    started: set[str] = field(default_factory=set)
    done: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(1 for s in self.done.values() if s == "changed")

    @property
    def failed(self) -> int:
        return sum(1 for s in self.done.values() if s in ("failed", "unreachable"))


def _fmt_elapsed(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds}s"


class Progress:
    """Common event bookkeeping; subclasses decide how to show it."""

    def __init__(self, out: TextIO | None = None, verbose: bool = False) -> None:
        self.out = out or sys.stdout
        self.verbose = verbose
        self.phase = ""
        self.phase_index = 0
        self.phase_total = 0
        self.task = TaskState()
        self.failures: list[str] = []
        self.started_at = time.monotonic()
        self.phase_started_at = self.started_at
        self._lock = threading.Lock()

    # Lifecycle -----------------------------------------------------------------------------
    def start_phase(self, name: str, index: int, total: int) -> None:
        with self._lock:
            self.phase, self.phase_index, self.phase_total = name, index, total
            self.task = TaskState()
            self.phase_started_at = time.monotonic()
        self.on_phase_start()

    def end_phase(self, status: str) -> None:
        self._finish_task()
        self.on_phase_end(status)

    def close(self) -> None:
        """Release the display (idempotent)."""

    def message(self, text: str) -> None:
        """A line from sparklab itself (not from Ansible)."""
        print(text, file=self.out, flush=True)

    # Events --------------------------------------------------------------------------------
    def event(self, data: dict[str, Any]) -> bool:
        """ansible-runner event handler; returns True so the event is also kept on disk."""
        kind = data.get("event", "")
        ev = data.get("event_data") or {}
        if self.verbose and data.get("stdout"):
            self.stream(str(data["stdout"]))
        if kind == "playbook_on_task_start":
            self._finish_task()
            with self._lock:
                self.task = TaskState(name=str(ev.get("task") or ev.get("name") or ""))
            self.on_task_start()
        elif kind == "runner_on_start":
            with self._lock:
                self.task.started.add(str(ev.get("host", "?")))
        elif kind in _DONE_EVENTS:
            host = str(ev.get("host", "?"))
            status = _DONE_EVENTS[kind]
            if status == "ok" and (ev.get("res") or {}).get("changed"):
                status = "changed"
            if status == "failed" and ev.get("ignore_errors"):
                status = "ok"
            with self._lock:
                self.task.started.add(host)
                self.task.done[host] = status
            if status in ("failed", "unreachable"):
                self._record_failure(host, ev)
        return True

    def _record_failure(self, host: str, ev: dict[str, Any]) -> None:
        res = ev.get("res") or {}
        msg = res.get("msg") or res.get("stderr") or res.get("reason") or "failed"
        line = f"{self.phase} | {self.task.name} | {host}: {str(msg).strip().splitlines()[0][:300]}"
        self.failures.append(line)
        self.on_failure(line)

    def _finish_task(self) -> None:
        with self._lock:
            task, self.task = self.task, TaskState()
        if task.name:
            self.on_task_end(task)

    def elapsed(self) -> str:
        return _fmt_elapsed(time.monotonic() - self.started_at)

    # Hooks ---------------------------------------------------------------------------------
    def on_phase_start(self) -> None: ...

    def on_phase_end(self, status: str) -> None: ...

    def on_task_start(self) -> None: ...

    def on_task_end(self, task: TaskState) -> None: ...

    def on_failure(self, line: str) -> None: ...

    def stream(self, text: str) -> None:
        print(text, file=self.out, flush=True)


class PlainProgress(Progress):
    """One line per phase and per task, for logs and pipes."""

    def _line(self, text: str) -> None:
        print(f"[{self.elapsed():>6}] {text}", file=self.out, flush=True)

    def on_phase_start(self) -> None:
        self._line(f"phase {self.phase_index}/{self.phase_total}: {self.phase}")

    def on_phase_end(self, status: str) -> None:
        took = _fmt_elapsed(time.monotonic() - self.phase_started_at)
        self._line(f"phase {self.phase}: {status} in {took}")

    def on_task_start(self) -> None:
        if not self.verbose:
            self._line(f"{self.phase} | {self.task.name}")

    def on_task_end(self, task: TaskState) -> None:
        if task.started and not self.verbose:
            self._line(f"{self.phase} | {task.name}: {len(task.done)}/{len(task.started)} hosts done"
                       f"{f', {task.changed} changed' if task.changed else ''}"
                       f"{f', {task.failed} failed' if task.failed else ''}")

    def on_failure(self, line: str) -> None:
        self._line(f"FAILED {line}")


class RichProgress(Progress):
    """A live panel on a terminal."""

    def __init__(self, out: TextIO | None = None, verbose: bool = False) -> None:
        super().__init__(out, verbose)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=self.out)
        self._done_phases: list[str] = []
        self.live = Live(console=self.console, get_renderable=self._render, refresh_per_second=4,
                         transient=True)
        self.live.start()
        self._open = True

    def _render(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        phase = f"{self.phase} ({self.phase_index}/{self.phase_total})" if self.phase else "starting"
        table.add_row("phase", Text(phase))
        table.add_row("task", Text(self.task.name or "-", overflow="ellipsis", no_wrap=True))
        started = len(self.task.started)
        table.add_row("hosts", Text(f"{len(self.task.done)}/{started} done" if started else "-"))
        table.add_row("elapsed", Text(self.elapsed()))
        return table

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)

    def stream(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)

    def on_phase_end(self, status: str) -> None:
        took = _fmt_elapsed(time.monotonic() - self.phase_started_at)
        mark = "done" if status == "successful" else status
        self.console.print(f"phase {self.phase_index}/{self.phase_total} {self.phase}: {mark} in {took}",
                           highlight=False, markup=False)

    def on_failure(self, line: str) -> None:
        self.console.print(f"FAILED {line}", style="red", highlight=False, markup=False)

    def close(self) -> None:
        if self._open:
            self.live.stop()
            self._open = False


def make_progress(verbose: bool = False, out: TextIO | None = None, force_plain: bool = False) -> Progress:
    """A live display on a terminal, plain lines anywhere else."""
    stream = out or sys.stdout
    if not force_plain and stream.isatty():
        return RichProgress(stream, verbose)
    return PlainProgress(stream, verbose)
