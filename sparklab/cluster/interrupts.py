"""Ctrl-C while a playbook runs: the first SIGINT/SIGTERM/SIGHUP asks it to stop, a second quits.

SIGHUP (the terminal was closed) is handled like SIGTERM, after detaching from the dead terminal.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from sparklab.core.signals import detach_terminal


class Interrupts:
    """First SIGINT/SIGTERM/SIGHUP: set ``cancel`` (the playbook stops). A second: leave at once."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.cancel = threading.Event()
        self.say = say
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self.previous[sig] = signal.signal(sig, self.handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def handle(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGHUP:
            detach_terminal()
        if self.cancel.is_set():
            raise KeyboardInterrupt
        self.cancel.set()
        self.say("interrupted: stopping the playbook and everything it started (Ctrl-C again to quit now)")
