"""What exists after an interrupted run, once AWS has stopped changing.

When a run is interrupted, the playbook's processes are stopped (:func:`sparklab.cluster.bridge.reap`),
but a request they had already sent is still carried out by AWS, and AWS's describe calls show a
new resource only after a moment. A single scan taken right after the stop can miss what was
being created. :func:`settled_scan` scans again after a pause until two scans in a row agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sparklab.cluster import aws

PAUSE_SECONDS = 5.0  # AWS went on for 2-5 s after a stop in our trials
MAX_SCANS = 5


def fingerprint(inv: aws.Inventory) -> tuple[tuple[str, ...], ...]:
    """What identifies an inventory's content: every instance with its state, every resource id."""
    return (tuple(sorted(f"{n.instance_id}:{n.state}" for n in inv.nodes)),
            tuple(sorted(f"{kind}:{rid}" for kind, rid, _ in inv.resources)))


def settled_scan(cluster: str, target: aws.Target, *, pause: float = PAUSE_SECONDS,
                 max_scans: int = MAX_SCANS, scan: Callable[[str, aws.Target], aws.Inventory] = aws.scan,
                 sleep: Callable[[float], None] = time.sleep) -> aws.Inventory:
    """Scan until two scans ``pause`` seconds apart agree (at most ``max_scans``); return the last."""
    previous = scan(cluster, target)
    for _ in range(max_scans - 1):
        sleep(pause)
        current = scan(cluster, target)
        if fingerprint(current) == fingerprint(previous):
            return current
        previous = current
    return previous
