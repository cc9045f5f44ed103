"""The critical-path model of `up` plus the first `wordcount` (docs/performance.md), and the
timings.json a run on a real account writes with the same phases, so that the run checks the model.

Pure Python, unit-tested offline (tests/e2e/test_e2e_timings.py); the table in docs/performance.md
must list exactly these phases with these figures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e2e_helpers import phase_seconds

GOAL_SECONDS = 600  # zero to the WordCount result, with the defaults (issue: time to the first result)


@dataclass(frozen=True)
class ModelPhase:
    name: str
    seconds: int  # the model's figure
    critical: bool  # on the critical path; False: in the background, must end before it is needed


# In the order they start. `prepull` starts at the end of `nodes` and must end before `wordcount`.
MODEL: tuple[ModelPhase, ...] = (
    ModelPhase("provision", 120, True),
    ModelPhase("nodes", 150, True),
    ModelPhase("prepull", 120, False),
    ModelPhase("cluster", 210, True),
    ModelPhase("addons", 90, True),
    ModelPhase("wordcount", 120, True),
)
PHASES = tuple(phase.name for phase in MODEL)
UP_PHASES = ("provision", "nodes", "cluster", "addons")  # runner.py's phases of `up`, in order

# The milestone addons.yml sets per node when every image was pulled ahead (roles/image_prepull).
_PULLED_AHEAD = re.compile(r": all \d+ images pulled ahead in (?P<seconds>\d+) s\b")


def model_zero_to_result() -> int:
    return sum(phase.seconds for phase in MODEL if phase.critical)


def prepull_seconds(output: str) -> int | None:
    """The longest background pull of any node, from `up`'s progress; None when a node did not say."""
    found = [int(m.group("seconds")) for m in _PULLED_AHEAD.finditer(" ".join(output.split()))]
    return max(found) if found else None


def record(up_output: str, up_seconds: int, wordcount_seconds: int | None,
           probes: dict[str, int] | None = None) -> dict[str, Any]:
    """timings.json: measured seconds per modelled phase (None: not measured), the model's, the goal.

    ``zero_to_result`` is `up` plus the first `wordcount` as a user runs them back to back; the
    test's own waits in between (nodes Ready, metrics, dashboard data) are ``probes``, not phases.
    """
    measured: dict[str, int | None] = dict.fromkeys(PHASES)
    measured.update({name: s for name, s in phase_seconds(up_output).items() if name in UP_PHASES})
    measured["prepull"] = prepull_seconds(up_output)
    measured["wordcount"] = wordcount_seconds
    total = up_seconds + wordcount_seconds if wordcount_seconds is not None else None
    background_slack = None
    if measured["prepull"] is not None and measured["cluster"] is not None and measured["addons"] is not None:
        background_slack = measured["cluster"] + measured["addons"] - measured["prepull"]
    return {
        "phases": measured,
        "up": up_seconds,
        "zero_to_result": total,
        "prepull_slack": background_slack,
        "model": {phase.name: phase.seconds for phase in MODEL},
        "model_zero_to_result": model_zero_to_result(),
        "goal_seconds": GOAL_SECONDS,
        "within_goal": None if total is None else total <= GOAL_SECONDS,
        "probes": dict(probes or {}),
    }


def write(path: Path, timings: dict[str, Any]) -> Path:
    missing = [name for name in PHASES if name not in timings.get("phases", {})]
    if missing:
        raise ValueError(f"timings without the phases {missing}")
    path.write_text(json.dumps(timings, indent=2) + "\n")
    return path
