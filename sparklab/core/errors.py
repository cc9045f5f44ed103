"""Errors a user can cause or meet, each carrying the exit code runner.py returns for it.

Exit codes: 0 success, 1 a run failed, 2 bad input (nothing was started), 130 interrupted.
This module imports nothing of sparklab, so every other module can import it.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class SparklabError(Exception):
    """An error printed as one line (``error: <message>``); the process exits with ``exit_code``."""

    exit_code = EXIT_FAILED


class BadInput(SparklabError):
    """A mistake in the user's input, found before anything was started: exit code 2."""

    exit_code = EXIT_BAD_INPUT


class RunFailed(SparklabError):
    """A step failed after something was started: exit code 1."""

    exit_code = EXIT_FAILED


class Interrupted(SparklabError):
    """The user interrupted the command (Ctrl-C): exit code 130."""

    exit_code = EXIT_INTERRUPTED
