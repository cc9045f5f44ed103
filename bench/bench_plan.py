"""`runner.py plan` wall time: the current settings against the baseline, measured in this process.

Each run is the real `runner.py plan` (the real playbooks/provision.yml against the local moto
emulator), as a user runs it, with no AWS credentials and a throw-away HOME and SPARKLAB_HOME.
Baseline = the settings `plan` had before it was tuned, restored through the environment:
SPARKLAB_EMULATOR_KEEP_PAUSES=1 (amazon.aws modules keep their fixed pauses, 5 s after a route
table change, 3 s after a security group is created) and MOTO_EC2_LOAD_DEFAULT_AMIS=true (moto
loads Amazon's own images). Runs alternate baseline / current so that load on the machine hits both.
Prints each run, the medians and the ratio current/baseline.
Run: .venv/bin/python bench/bench_plan.py [rounds, default 2]
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = {"SPARKLAB_EMULATOR_KEEP_PAUSES": "1", "MOTO_EC2_LOAD_DEFAULT_AMIS": "true"}
CURRENT = {"SPARKLAB_EMULATOR_KEEP_PAUSES": "0", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
PHASE_LINE = re.compile(r"\[ok\] phase 1/1 provision done in (?:(\d+)m)?([\d.]+)s")


def run_plan(extra: dict[str, str], label: str) -> tuple[float, float]:
    """Wall time of one `runner.py plan` and the provision phase time it printed."""
    home = Path(tempfile.mkdtemp(prefix=f"sparklab-bench-plan-{label}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SPARKLAB_"))}
    env.update(extra, HOME=str(home), SPARKLAB_HOME=str(home / "sparklab"))
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "runner.py"), "plan", "--name", "benchplan"],
                            cwd=home, env=env, capture_output=True, text=True, timeout=900, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        tail = result.stdout[-3000:] + result.stderr
        raise SystemExit(f"{label} plan failed ({result.returncode}):\n{tail}")
    match = PHASE_LINE.search(result.stdout)
    phase = (int(match.group(1) or 0) * 60 + float(match.group(2))) if match else float("nan")
    return wall, phase


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    runs: dict[str, list[tuple[float, float]]] = {"baseline": [], "current": []}
    for i in range(rounds):
        for label, extra in (("baseline", BASELINE), ("current", CURRENT)):
            wall, phase = run_plan(extra, label)
            runs[label].append((wall, phase))
            print(f"round {i + 1} {label:8s}  wall {wall:6.1f}s  provision phase {phase:6.1f}s", flush=True)
    base = statistics.median(w for w, _ in runs["baseline"])
    cur = statistics.median(w for w, _ in runs["current"])
    print(f"median wall: baseline {base:.1f}s, current {cur:.1f}s")
    print(f"ratio current/baseline (wall time of runner.py plan): {cur / base:.2f}")


if __name__ == "__main__":
    main()
