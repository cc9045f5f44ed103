"""Provision + teardown against the AWS emulator with 2 and 30 workers.

Prints wall times, calls by action (through the strict proxy), the 30/2 time ratio and the number of
AWS calls per extra node. The 2-worker run is the baseline, measured in the same process.
Run: .venv/bin/python bench/bench_provision.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "helpers"), str(ROOT)]

from awslab import AwsLab, aws_lab  # noqa: E402


def measure(lab: AwsLab, workers: int) -> tuple[float, float, Counter[str]]:
    cluster = f"bench{workers}"
    lab.proxy.reset_counts()
    t0 = time.perf_counter()
    up = lab.playbook("provision", cluster, workers=workers)
    t1 = time.perf_counter()
    down = lab.playbook("teardown", cluster)
    t2 = time.perf_counter()
    if up.rc or down.rc:
        raise SystemExit(f"run with {workers} workers failed:\n{up.stdout[-3000:]}\n{down.stdout[-3000:]}")
    return t1 - t0, t2 - t1, Counter(lab.proxy.calls)


def main() -> None:
    with aws_lab(Path(tempfile.mkdtemp(prefix="sparklab-bench-"))) as lab:
        results = {n: measure(lab, n) for n in (2, 30)}
    for n, (up, down, calls) in results.items():
        total = up + down
        print(f"workers={n:2d}  provision {up:6.1f}s  teardown {down:6.1f}s  total {total:6.1f}s", end="")
        print(f"  calls {sum(calls.values())}")
    actions = sorted(set(results[2][2]) | set(results[30][2]))
    print(f"\n{'action':45s} {'2 workers':>10s} {'30 workers':>10s}")
    for action in actions:
        print(f"{action:45s} {results[2][2][action]:10d} {results[30][2][action]:10d}")
    base = results[2][0] + results[2][1]
    big = results[30][0] + results[30][1]
    extra_calls = (sum(results[30][2].values()) - sum(results[2][2].values())) / 28
    print(f"\nratio 30/2 (wall time, provision+teardown): {big / base:.2f}")
    print(f"AWS calls per extra node: {extra_calls:.2f}")


if __name__ == "__main__":
    main()
