"""A closed terminal (SIGHUP) or a ``kill`` (SIGTERM) ends runner.py through its cleanup code.

Python's default for both signals ends the process at once: no ``finally`` runs, so a run would
leave behind what it meant to delete (the 0600 job-vars file that holds presigned URLs, the lock
description). :func:`install` turns them into :class:`Terminated`, which unwinds like an error;
while a playbook runs, :class:`sparklab.cluster.interrupts.Interrupts` handles them like Ctrl-C instead
(the playbook is stopped first). After SIGHUP the terminal is gone: :func:`detach_terminal` points
the standard streams at ``/dev/null`` so that the cleanup's messages cannot fail on it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any

from sparklab.core.errors import Interrupted

HANDLED = (signal.SIGHUP, signal.SIGTERM)


class Terminated(Interrupted):
    """The process was told to end (SIGHUP, SIGTERM): exit code 130 after the cleanup."""


def detach_terminal() -> None:
    """Send stdin/stdout/stderr that are a terminal to /dev/null (the terminal was closed)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in (0, 1, 2):
            with contextlib.suppress(OSError):
                if os.isatty(fd):
                    os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _terminate(signum: int, _frame: Any) -> None:
    if signum == signal.SIGHUP:
        detach_terminal()
    raise Terminated(f"stopped by {signal.Signals(signum).name}; cleanup done")


def install() -> None:
    """Make SIGHUP and SIGTERM raise :class:`Terminated` in the main thread."""
    for sig in HANDLED:
        signal.signal(sig, _terminate)
