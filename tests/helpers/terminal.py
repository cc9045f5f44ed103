"""A real terminal for tests of what a user sees: a detached tmux session, read with capture-pane.

``scripts/test.sh`` installs tmux. The command runs in a shell, without ``COLUMNS`` and
``LINES`` (a CI runner may export ``COLUMNS=80``; rich would draw to that width instead of the
terminal's), and is followed by ``echo EXIT=$?; sleep 600`` so the last screen stays readable after
the command ends. The session
is killed when the ``with`` block ends.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

TMUX = shutil.which("tmux")
SIZE_VARIABLES = ("COLUMNS", "LINES")


class Terminal:
    """``with Terminal(name, command, ...) as term:`` then ``term.wait(...)``, ``term.send(...)``."""

    def __init__(self, name: str, command: str, *, width: int = 160, height: int = 50,
                 cwd: Path | None = None, env: Mapping[str, str] | None = None, join: bool = False) -> None:
        assert TMUX, "tmux is needed for the terminal tests (scripts/test.sh installs it)"
        self.name = name[:60]
        self.join = join  # capture wrapped lines joined (-J), for lines wider than the terminal
        args = [TMUX, "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height)]
        if cwd is not None:
            args += ["-c", str(cwd)]
        for key, value in (env or {}).items():
            if key in SIZE_VARIABLES:
                continue
            args += ["-e", f"{key}={value}"]
        subprocess.run([*args, f"unset COLUMNS LINES; {command}; echo EXIT=$?; sleep 600"], check=True)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run([TMUX, "kill-session", "-t", self.name], capture_output=True, check=False)

    def screen(self) -> str:
        flags = ["-p", "-J"] if self.join else ["-p"]
        return subprocess.run([TMUX, "capture-pane", *flags, "-t", self.name], capture_output=True,
                              text=True, check=True).stdout

    def wait(self, until: str | Callable[[str], bool], timeout: float = 120.0) -> str:
        """The screen once it contains ``until`` (text) or ``until(screen)`` is true."""
        match = (lambda s: until in s) if isinstance(until, str) else until
        deadline = time.time() + timeout
        screen = self.screen()
        while not match(screen):
            if time.time() > deadline:
                raise AssertionError(f"screen never matched; last screen:\n{screen}")
            time.sleep(0.2)
            screen = self.screen()
        return screen

    def wait_exit(self, timeout: float = 120.0) -> tuple[int, str]:
        """The command's exit code and the last screen."""
        screen = self.wait("EXIT=", timeout)
        code = screen.rsplit("EXIT=", 1)[1].split()[0]
        return int(code), screen

    def send(self, *keys: str) -> None:
        subprocess.run([TMUX, "send-keys", "-t", self.name, *keys], check=True)
