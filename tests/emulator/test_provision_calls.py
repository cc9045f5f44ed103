"""AWS calls per extra node, counted by the strict proxy: provisioning and teardown grow by a small,
fixed number of calls per worker (tags at launch, one launch per role, one termination for all), never
by per-instance reads and writes. Counts, not timings: the same bound holds on any machine."""

from __future__ import annotations

from collections import Counter

import pytest
from awslab import AwsLab

pytestmark = pytest.mark.xdist_group("emulator-calls")

# Issue #19: at most 4 AWS calls per extra node, for provisioning and for teardown.
MAX_CALLS_PER_EXTRA_NODE = 4
# Reads and writes of single instances that a batched launch and a describe make unnecessary.
PER_INSTANCE_ACTIONS = (
    "ec2:DescribeInstanceAttribute",
    "ec2:ModifyInstanceAttribute",
    "ec2:DescribeInstanceStatus",
)


def _calls(aws: AwsLab, cluster: str, workers: int) -> tuple[Counter[str], Counter[str]]:
    aws.proxy.reset_counts()
    up = aws.playbook("provision", cluster, workers=workers)
    assert up.rc == 0, up.stdout[-4000:]
    up_calls = Counter(aws.proxy.calls)
    aws.proxy.reset_counts()
    down = aws.playbook("teardown", cluster)
    assert down.rc == 0, down.stdout[-4000:]
    assert aws.tagged(cluster) == []
    return up_calls, Counter(aws.proxy.calls)


def _per_extra_node(small: Counter[str], big: Counter[str], extra: int) -> dict[str, float]:
    return {a: (big[a] - small[a]) / extra for a in sorted(set(small) | set(big)) if big[a] != small[a]}


def test_calls_per_extra_worker_are_bounded_for_provisioning_and_teardown(aws: AwsLab) -> None:
    one_up, one_down = _calls(aws, "calls-one", 1)
    three_up, three_down = _calls(aws, "calls-three", 3)
    for phase, small, big in (("provision", one_up, three_up), ("teardown", one_down, three_down)):
        per_node = _per_extra_node(small, big, 2)
        total = (sum(big.values()) - sum(small.values())) / 2
        assert total <= MAX_CALLS_PER_EXTRA_NODE, (phase, total, per_node)
        for action in PER_INSTANCE_ACTIONS:
            assert big[action] == 0, (phase, action, per_node)
    # One launch per role and one termination for all, whatever the worker count.
    assert one_up["ec2:RunInstances"] == three_up["ec2:RunInstances"] == 2
    assert one_down["ec2:TerminateInstances"] == three_down["ec2:TerminateInstances"] == 1
