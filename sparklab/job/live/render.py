"""How the live view is drawn: a ``rich`` panel on a terminal, one compact line per sample elsewhere.

The panel is redrawn at every sample (and when the state, the task or the Spark UI address
changes); lines given to ``note`` are printed above it and stay on screen, and closing it leaves
its last state on screen. The plain view prints one line per sample, for pipes, CI logs and
``--plain``.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from sparklab.job.live.state import GIB, HISTORY, Line, LiveView, fmt_elapsed

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
                gone = "any more" if self.had_roles() else "yet"
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
