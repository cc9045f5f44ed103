"""The two faces of :class:`sparklab.cluster.progress.Progress`: plain lines and a live terminal line.

Plain (pipes, CI logs)::

    [    0s] phase 1/1: provision
    [    2s] provision | task 2 of 40 | caller | Read the caller identity: ok (1.3s)
    2026-11-30 15:02:11 [ok] provision: role aws_identity done in 5.9s (13 tasks)
    2026-11-30 15:02:50 [ok] phase 1/1 provision done in 43.0s (40 tasks, 11 changed)

On a terminal the same milestones stay on screen, above a live line that shows the phase, "task N of
M", the current task, the hosts done and the elapsed time; the live line goes away at the end.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from sparklab.cluster.progress import Progress, RoleState, TaskState, fmt_seconds


class PlainProgress(Progress):
    """One line per finished task, a milestone per finished role and phase: for logs and pipes."""

    def _line(self, text: str) -> None:
        print(f"[{self.elapsed():>6}] {text}", file=self.out, flush=True)

    def on_phase_start(self) -> None:
        self._line(f"phase {self.phase_index}/{self.phase_total}: {self.phase}")

    def on_phase_end(self, status: str) -> None:
        print(self.phase_line(status), file=self.out, flush=True)

    def on_role_end(self, role: RoleState) -> None:
        print(self.role_line(role), file=self.out, flush=True)

    def on_task_end(self, task: TaskState) -> None:
        if task.validation or self.verbose:
            return
        counter = self.counter(task)
        head = f"{self.phase} | {counter} | " if counter else f"{self.phase} | "
        took = fmt_seconds(time.monotonic() - task.started_at)
        self._line(f"{head}{task.name}: {task.outcome()} ({took})")

    def on_failure(self, line: str) -> None:
        self._line(f"FAILED {line}")


class RichProgress(Progress):
    """Milestones that stay, over one live line on a terminal."""

    def __init__(self, out: TextIO | None = None, verbose: bool = False) -> None:
        super().__init__(out, verbose)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=self.out)
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
        task = self.task
        counter = self.counter(task)
        label = f"{counter}: {task.name}" if counter and task.name else task.name or "-"
        if task.validation:
            label = f"checking the arguments of role {task.role}"
        table.add_row("task", Text(label, overflow="ellipsis", no_wrap=True))
        started = len(task.started)
        table.add_row("hosts", Text(f"{len(task.done)}/{started} done" if started else "-"))
        table.add_row("elapsed", Text(self.elapsed()))
        return table

    def _print(self, text: str, style: str | None = None) -> None:
        self.console.print(text, style=style, highlight=False, markup=False)

    def message(self, text: str) -> None:
        self._print(text)

    def stream(self, text: str) -> None:
        self._print(text)

    def on_role_end(self, role: RoleState) -> None:
        self._print(self.role_line(role), style="red" if role.failed else None)

    def on_phase_end(self, status: str) -> None:
        self._print(self.phase_line(status), style=None if status == "successful" else "red")

    def on_failure(self, line: str) -> None:
        self._print(f"FAILED {line}", style="red")

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
