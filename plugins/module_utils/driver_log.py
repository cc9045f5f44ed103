"""The WordCount driver's result lines and their parser, for the spark_wordcount role and runner.py.

The driver prints its result as one line ``SPARKLAB_RESULT {json}`` and a failure as
``SPARKLAB_ERROR {json}``. The prefixes are defined here only (the application, which runs alone
in the driver pod, carries copies that a test compares). Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

JOB_RESULT_PREFIX = "SPARKLAB_RESULT"
JOB_ERROR_PREFIX = "SPARKLAB_ERROR"


def read_driver_log(lines: Iterable[str]) -> dict[str, Any]:
    """What the WordCount driver reported in its log, for the role and for runner.py alike.

    The result is the JSON object of the last ``JOB_RESULT_PREFIX`` line; the error, the ``error``
    of the last ``JOB_ERROR_PREFIX`` line (its text when it is not JSON). Returns ``{"result": dict
    or None, "error": str or None, "problem": ""}``, ``problem`` saying in one line why there is no
    result when there is none.
    """
    result_line = error_line = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(JOB_RESULT_PREFIX + " "):
            result_line = stripped[len(JOB_RESULT_PREFIX) + 1 :]
        elif stripped.startswith(JOB_ERROR_PREFIX + " "):
            error_line = stripped[len(JOB_ERROR_PREFIX) + 1 :]
    found: dict[str, Any] = {"result": None, "error": _error_text(error_line), "problem": ""}
    if result_line is None:
        found["problem"] = (f"the job failed: {found['error']}" if error_line is not None
                            else f"no {JOB_RESULT_PREFIX} line in the driver log: the job did not finish")
        return found
    try:
        result = json.loads(result_line)
    except ValueError as err:
        found["problem"] = f"unreadable {JOB_RESULT_PREFIX} line: {err}"
        return found
    if not isinstance(result, dict):
        found["problem"] = f"unreadable {JOB_RESULT_PREFIX} line: not a JSON object"
        return found
    found["result"] = result
    return found


def _error_text(error_line: str | None) -> str | None:
    """The ``error`` of an error line's JSON object, or the line itself when it is not one."""
    if error_line is None:
        return None
    try:
        parsed = json.loads(error_line)
    except ValueError:
        parsed = None
    return str(parsed.get("error", error_line)) if isinstance(parsed, dict) else error_line
