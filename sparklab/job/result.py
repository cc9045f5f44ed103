"""The result a WordCount run logs: its fields, and reading it from a driver log.

The driver prints one ``<JOB_RESULT_PREFIX> {json}`` line; the parser is ``read_driver_log`` of
``plugins/module_utils/driver_log.py``, the one the spark_wordcount role uses too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sparklab.core.contract import module_utils

driver_log = module_utils("driver_log")
RESULT_PREFIX = driver_log.JOB_RESULT_PREFIX


class ResultNotFoundError(ValueError):
    """The driver log holds no result line (the job failed or did not finish)."""


@dataclass
class Result:
    """What the job reports in its driver log."""

    top: list[tuple[str, int]]
    lines: int
    words: int
    distinct_words: int
    bytes: int
    elapsed_seconds: float
    started_at: str
    finished_at: str
    inputs: int = 0
    splits: int = 0
    word_splitter: str = ""
    output: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        return cls(
            top=[(str(word), int(count)) for word, count in data.get("top", [])],
            lines=int(data["lines"]), words=int(data["words"]), distinct_words=int(data["distinct_words"]),
            bytes=int(data["bytes"]), elapsed_seconds=float(data["elapsed_seconds"]),
            started_at=str(data["started_at"]), finished_at=str(data["finished_at"]),
            inputs=int(data.get("inputs", 0)), splits=int(data.get("splits", 0)),
            word_splitter=str(data.get("word_splitter", "")),
            output=dict(data.get("output", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["top"] = [list(item) for item in self.top]
        return data


def parse_driver_log(text: str) -> Result:
    """The job's result from its driver log (the last ``<RESULT_PREFIX> {json}`` line wins), read by
    the parser the spark_wordcount role uses too (``read_driver_log`` of ``driver_log.py``)."""
    found = driver_log.read_driver_log(text.splitlines())
    if found["result"] is None:
        raise ResultNotFoundError(found["problem"])
    try:
        return Result.from_dict(found["result"])
    except (KeyError, TypeError, ValueError) as err:
        raise ResultNotFoundError(f"unreadable {RESULT_PREFIX} line: {err}") from None
