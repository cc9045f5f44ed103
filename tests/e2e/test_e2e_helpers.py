"""The non-AWS parts of the end-to-end test, run everywhere."""

from __future__ import annotations

from e2e_helpers import (
    dashboard_has_cpu_and_memory,
    live_tagged_arns,
    nodes_with_metrics,
    phase_seconds,
)


def test_phase_seconds_reads_runner_plain_progress() -> None:
    out = "\n".join([
        "[    0s] phase 1/4: provision",
        "[  1:40] phase provision: successful in 1:40",
        "[  5:02] phase nodes: successful in 3:22",
        "[  9:10] phase cluster: successful in 4:08",
        "[ 12:00] phase addons: successful in 2:50",
        "[ 12:00] provision | something else",
    ])
    assert phase_seconds(out) == {"provision": 100, "nodes": 202, "cluster": 248, "addons": 170}
    assert phase_seconds("[ 9s] phase teardown: successful in 9s") == {"teardown": 9}


def test_tagging_api_leftovers_ignore_terminated_instances_only() -> None:
    pages = [{"ResourceTagMappingList": [
        {"ResourceARN": "arn:aws:ec2:eu-west-1:1:instance/i-dead"},
        {"ResourceARN": "arn:aws:ec2:eu-west-1:1:instance/i-alive"},
        {"ResourceARN": "arn:aws:ec2:eu-west-1:1:vpc/vpc-1"},
    ]}]
    assert live_tagged_arns(pages, {"i-dead"}) == [
        "arn:aws:ec2:eu-west-1:1:instance/i-alive", "arn:aws:ec2:eu-west-1:1:vpc/vpc-1"]
    assert live_tagged_arns([{"ResourceTagMappingList": []}], set()) == []


def test_metrics_and_dashboard_checks_need_cpu_and_memory_for_every_node() -> None:
    metrics = {"items": [
        {"metadata": {"name": "a"}, "usage": {"cpu": "120m", "memory": "900Mi"}},
        {"metadata": {"name": "b"}, "usage": {"cpu": "80m"}},
    ]}
    assert nodes_with_metrics(metrics) == {"a": ("120m", "900Mi")}
    assert dashboard_has_cpu_and_memory({"a": {"cpuUsage": 0.1, "memUsage": 5}})
    assert not dashboard_has_cpu_and_memory({"a": {"cpuUsage": 0.1}})
    assert not dashboard_has_cpu_and_memory({})
