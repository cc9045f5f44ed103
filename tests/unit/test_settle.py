"""settled_scan's stopping rule, over a scripted sequence of inventories (no AWS here: the real
scan against moto is exercised by tests/runner/test_runner_safety.py)."""

from __future__ import annotations

from sparklab.cluster import aws
from sparklab.cluster.settle import settled_scan


def _inv(*ids: str) -> aws.Inventory:
    return aws.Inventory(cluster="c", region="eu-west-1", resources=[("security-group", i, "") for i in ids])


def _scripted(*inventories: aws.Inventory) -> tuple[list[float], object]:
    pauses: list[float] = []
    queue = list(inventories)

    def scan(_cluster: str, _target: aws.Target) -> aws.Inventory:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return pauses, scan


def test_scans_again_until_two_scans_agree_and_returns_the_last() -> None:
    pauses, scan = _scripted(_inv(), _inv("sg-1"), _inv("sg-1"))
    inv = settled_scan("c", aws.Target("eu-west-1"), pause=3, scan=scan, sleep=pauses.append)
    assert [r[1] for r in inv.resources] == ["sg-1"]
    assert pauses == [3, 3]


def test_stops_after_max_scans_when_aws_keeps_changing() -> None:
    pauses, scan = _scripted(_inv(), _inv("a"), _inv("a", "b"), _inv("a", "b", "c"))
    inv = settled_scan("c", aws.Target("eu-west-1"), pause=1, max_scans=3, scan=scan, sleep=pauses.append)
    assert [r[1] for r in inv.resources] == ["a", "b"] and pauses == [1, 1]
