"""Progress display driven by ansible-runner events.

Milestones (both modes): one line per finished role and per finished phase, with the clock time and
the duration, e.g. ``2026-11-30 15:02:11 [ok] role aws_network done in 14.1s (9 tasks)``.
On a terminal: a live ``rich`` line under them with the phase, "task N of M", the current task,
hosts done of hosts started, and the elapsed time. Elsewhere (CI logs, pipes): one plain line per
finished task. The argument validation Ansible adds to each role is neither shown nor counted.
With ``verbose`` the Ansible output itself is streamed as well.

A playbook says something to the user by setting the fact ``sparklab_progress`` (e.g. "pulling 8
images on each worker ... in the background"): each distinct text is shown once, as a milestone.

"task N of M": M comes from the ``task_plan`` callback (plugins/callback/task_plan.py), which
prints the ids of the tasks each play will run when the playbook starts; N is the position of the
current task in that list. Tasks a ``when`` skips count (they are reported as skipped), ``rescue``
tasks and handlers do not.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

_DONE_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
}
TASK_PLAN_MARKER = "SPARKLAB_TASK_PLAN "
PROGRESS_FACT = "sparklab_progress"
_VALIDATION = ("validate_argument_spec", "ansible.builtin.validate_argument_spec")
_GATHER = ("gather_facts", "ansible.builtin.gather_facts", "setup", "ansible.builtin.setup")


@dataclass
class TaskState:
    name: str = ""
    role: str = ""
    number: int = 0  # position in the phase's task plan; 0 when not planned
    validation: bool = False
    started_at: float = field(default_factory=time.monotonic)
    started: set[str] = field(default_factory=set)
    done: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(1 for s in self.done.values() if s == "changed")

    @property
    def failed(self) -> int:
        return sum(1 for s in self.done.values() if s in ("failed", "unreachable"))

    def outcome(self) -> str:
        """``changed``, ``ok``, ``skipped`` or ``failed`` for one host; counts for several."""
        if not self.done:  # a meta task such as refresh_inventory reports no host
            return "done"
        if len(self.done) == 1:
            return next(iter(self.done.values()))
        counts: dict[str, int] = {}
        for status in self.done.values():
            counts[status] = counts.get(status, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        return f"{len(self.done)}/{len(self.started)} hosts: {parts}"


@dataclass
class RoleState:
    name: str = ""
    started_at: float = 0.0
    tasks: int = 0
    failed: bool = False


def fmt_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60:02d}s"


def _fmt_elapsed(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds}s"


def _clock() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")


class Progress:
    """Common event bookkeeping; subclasses decide how to show it."""

    def __init__(self, out: TextIO | None = None, verbose: bool = False) -> None:
        self.out = out or sys.stdout
        self.verbose = verbose
        self.phase = ""
        self.phase_index = 0
        self.phase_total = 0
        self.task = TaskState()
        self.role = RoleState()
        self.failures: list[str] = []
        self.plan: dict[str, int] = {}  # task id -> position in the phase
        self.gathers: dict[str, int] = {}  # play id -> position of its fact gathering
        self.task_total = 0
        self.phase_counts: dict[str, int] = {}
        self.started_at = time.monotonic()
        self.phase_started_at = self.started_at
        self.notes: set[str] = set()  # sparklab_progress texts already shown
        self._lock = threading.Lock()

    # Lifecycle -----------------------------------------------------------------------------
    def start_phase(self, name: str, index: int, total: int) -> None:
        with self._lock:
            self.phase, self.phase_index, self.phase_total = name, index, total
            self.task, self.role = TaskState(), RoleState()
            self.plan, self.gathers, self.task_total = {}, {}, 0
            self.phase_counts = {"tasks": 0, "changed": 0, "failed": 0}
            self.phase_started_at = time.monotonic()
        self.on_phase_start()

    def end_phase(self, status: str) -> None:
        self._finish_task()
        self._finish_role()
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
        stdout = str(data.get("stdout") or "")
        if TASK_PLAN_MARKER in stdout:
            self._read_plan(stdout)
            return True
        if self.verbose and stdout:
            self.stream(stdout)
        if kind == "playbook_on_task_start":
            self._start_task(ev)
        elif kind == "runner_on_start":
            with self._lock:
                self.task.started.add(str(ev.get("host", "?")))
        elif kind in _DONE_EVENTS:
            self._host_done(kind, ev)
        return True

    def _read_plan(self, stdout: str) -> None:
        try:
            plays = json.loads(stdout.split(TASK_PLAN_MARKER, 1)[1].strip().splitlines()[0])["plays"]
        except (ValueError, KeyError, IndexError):
            return
        position = 0
        with self._lock:
            for play in plays:
                if play.get("gather"):
                    position += 1
                    self.gathers[str(play.get("play"))] = position
                for task_id in play.get("tasks", []):
                    position += 1
                    self.plan[str(task_id)] = position
            self.task_total = position

    def _start_task(self, ev: dict[str, Any]) -> None:
        self._finish_task()
        action = str(ev.get("task_action") or ev.get("resolved_action") or "")
        name = str(ev.get("task") or ev.get("name") or "")
        number = self.plan.get(str(ev.get("task_uuid")), 0)
        if not number and action in _GATHER:
            number = self.gathers.get(str(ev.get("play_uuid")), 0)
        role = str(ev.get("role") or "")
        if role != self.role.name:
            self._finish_role()
            with self._lock:
                self.role = RoleState(name=role, started_at=time.monotonic())
        validation = action in _VALIDATION and name.startswith("Validating arguments against arg spec")
        with self._lock:
            self.task = TaskState(name=name, role=role, number=number, validation=validation)
            if not validation:
                self.role.tasks += 1
        if not validation:
            self.on_task_start()

    def _host_done(self, kind: str, ev: dict[str, Any]) -> None:
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
            with self._lock:
                self.role.failed = True
            self._record_failure(host, ev)
        note = ((ev.get("res") or {}).get("ansible_facts") or {}).get(PROGRESS_FACT)
        if status in ("ok", "changed") and isinstance(note, str) and note.strip():
            self._note(" ".join(note.split()))

    def _note(self, text: str) -> None:
        with self._lock:
            if text in self.notes:
                return
            self.notes.add(text)
        self.message(self.milestone("..", text))

    def _record_failure(self, host: str, ev: dict[str, Any]) -> None:
        res = ev.get("res") or {}
        msg = res.get("msg") or res.get("stderr") or res.get("reason") or "failed"
        line = f"{self.phase} | {self.task.name} | {host}: {str(msg).strip().splitlines()[0][:300]}"
        self.failures.append(line)
        self.on_failure(line)

    def _finish_task(self) -> None:
        with self._lock:
            task, self.task = self.task, TaskState()
            if task.name and not task.validation:
                self.phase_counts["tasks"] = self.phase_counts.get("tasks", 0) + 1
                self.phase_counts["changed"] = self.phase_counts.get("changed", 0) + int(task.changed > 0)
                self.phase_counts["failed"] = self.phase_counts.get("failed", 0) + int(task.failed > 0)
        if task.name:
            self.on_task_end(task)

    def _finish_role(self) -> None:
        with self._lock:
            role, self.role = self.role, RoleState()
        if role.name and role.tasks:
            self.on_role_end(role)

    # Text ----------------------------------------------------------------------------------
    def elapsed(self) -> str:
        return _fmt_elapsed(time.monotonic() - self.started_at)

    def counter(self, task: TaskState | None = None) -> str:
        """``task 7 of 52`` (or ``task 7``) for ``task`` or the current task."""
        task = task or self.task
        if not task.number:
            return ""
        return f"task {task.number} of {self.task_total}" if self.task_total else f"task {task.number}"

    def milestone(self, mark: str, text: str) -> str:
        return f"{_clock()} [{mark}] {text}"

    def role_line(self, role: RoleState) -> str:
        took = fmt_seconds(time.monotonic() - role.started_at)
        state = "failed after" if role.failed else "done in"
        plural = "s" if role.tasks != 1 else ""
        return self.milestone("!!" if role.failed else "ok",
                              f"{self.phase}: role {role.name} {state} {took} ({role.tasks} task{plural})")

    def phase_line(self, status: str) -> str:
        took = fmt_seconds(time.monotonic() - self.phase_started_at)
        counts = self.phase_counts
        summary = f"{counts.get('tasks', 0)} tasks, {counts.get('changed', 0)} changed"
        if counts.get("failed"):
            summary += f", {counts['failed']} failed"
        word = "done in" if status == "successful" else f"{status} after"
        phase = f"phase {self.phase_index}/{self.phase_total} {self.phase}"
        return self.milestone("ok" if status == "successful" else "!!", f"{phase} {word} {took} ({summary})")

    # Hooks ---------------------------------------------------------------------------------
    def on_phase_start(self) -> None: ...

    def on_phase_end(self, status: str) -> None: ...

    def on_role_end(self, role: RoleState) -> None: ...

    def on_task_start(self) -> None: ...

    def on_task_end(self, task: TaskState) -> None: ...

    def on_failure(self, line: str) -> None: ...

    def stream(self, text: str) -> None:
        print(text, file=self.out, flush=True)
