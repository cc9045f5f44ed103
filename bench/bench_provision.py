"""Provision + teardown against the AWS emulator with 2 and 30 workers.

Prints wall times, the AWS calls per extra node by action for provisioning and for teardown (from
the strict proxy's counters) and the 30/2 time ratio, each against its goal (issue #19: at most 4
calls per extra node, ratio at most 1.5). The 2-worker run is the baseline, measured in the same
process.
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

MAX_CALLS_PER_EXTRA_NODE = 4.0
MAX_RATIO = 1.5


def _verdict(value: float, goal: float) -> str:
    return f"{value:.2f} (goal <= {goal:g}: {'met' if value <= goal else 'NOT MET'})"


def measure(lab: AwsLab, workers: int) -> tuple[float, float, Counter[str], Counter[str]]:
    """Wall times of provision and teardown, and the AWS calls of each, by action."""
    cluster = f"bench{workers}"
    lab.proxy.reset_counts()
    t0 = time.perf_counter()
    up = lab.playbook("provision", cluster, workers=workers)
    t1 = time.perf_counter()
    up_calls = Counter(lab.proxy.calls)
    lab.proxy.reset_counts()
    down = lab.playbook("teardown", cluster)
    t2 = time.perf_counter()
    if up.rc or down.rc:
        raise SystemExit(f"run with {workers} workers failed:\n{up.stdout[-3000:]}\n{down.stdout[-3000:]}")
    return t1 - t0, t2 - t1, up_calls, Counter(lab.proxy.calls)


def _per_extra_node(small: Counter[str], big: Counter[str], extra: int) -> list[tuple[str, float]]:
    actions = sorted(set(small) | set(big))
    return [(a, (big[a] - small[a]) / extra) for a in actions if big[a] != small[a]]


def main() -> None:
    sizes = (2, 30)
    extra = sizes[1] - sizes[0]
    with aws_lab(Path(tempfile.mkdtemp(prefix="sparklab-bench-"))) as lab:
        results = {n: measure(lab, n) for n in sizes}
    for n, (up, down, up_calls, down_calls) in results.items():
        total = up + down
        print(f"workers={n:2d}  provision {up:6.1f}s  teardown {down:6.1f}s  total {total:6.1f}s", end="")
        print(f"  calls {sum(up_calls.values())} + {sum(down_calls.values())}")
    totals = {}
    for label, index in (("provision", 2), ("teardown", 3)):
        small, big = results[sizes[0]][index], results[sizes[1]][index]
        print(f"\n{label}: AWS calls per extra node, by action (from the strict proxy's counters)")
        for action, per_node in _per_extra_node(small, big, extra):
            print(f"  {action:45s} {per_node:6.2f}")
        totals[label] = (sum(big.values()) - sum(small.values())) / extra
        print(f"  {'total':45s} {totals[label]:6.2f}")
    base = results[sizes[0]][0] + results[sizes[0]][1]
    big_time = results[sizes[1]][0] + results[sizes[1]][1]
    print(f"\nratio 30/2 (wall time, provision+teardown): {big_time / base:.2f}")
    print("\ngoals (issue #19):")
    for label, total in totals.items():
        print(f"  {label} calls per extra node: {_verdict(total, MAX_CALLS_PER_EXTRA_NODE)}")
    print(f"  ratio 30/2: {_verdict(big_time / base, MAX_RATIO)}")


if __name__ == "__main__":
    main()
