"""Node names of the aws_nodes module (plugins/module_utils/aws_nodes.py, loaded by file path)."""

from __future__ import annotations

from typing import Any

from sparklab.core.contract import module_utils

names = module_utils("aws_nodes")  # by file path, as runner.py loads the collection's module_utils


def _instance(ident: str, role: str, name: str = "", launched: str = "2026-01-01T00:00:00") -> dict[str, Any]:
    tags = [{"Key": "sparklab:cluster", "Value": "lab"}, {"Key": "sparklab:role", "Value": role}]
    if name:
        tags.append({"Key": "Name", "Value": name})
    return {"InstanceId": ident, "Tags": tags, "LaunchTime": launched, "State": {"Name": "running"}}


def test_new_nodes_fill_the_lowest_free_numbers_and_named_nodes_keep_their_names() -> None:
    kept = [_instance("i-a", "worker", "lab-worker-1"), _instance("i-c", "worker", "lab-worker-3")]
    assert names.free_names(kept, 3, "lab", "worker") == ["lab-worker-2", "lab-worker-4", "lab-worker-5"]
    assigned = names.assign_names(kept, ["i-x", "i-y"], "lab", "worker")
    assert assigned == {"i-x": "lab-worker-2", "i-y": "lab-worker-4"}


def test_an_unnamed_or_duplicate_node_gets_a_free_name_before_new_ones() -> None:
    kept = [
        _instance("i-a", "worker", "lab-worker-1", "2026-01-01T00:00:00"),
        _instance("i-b", "worker", "lab-worker-1", "2026-01-01T00:01:00"),  # duplicate, launched later
        _instance("i-c", "worker", "", "2026-01-01T00:02:00"),  # left unnamed by an interrupted run
    ]
    ordered = names.ranked(kept, "lab", "worker")
    assert [i["InstanceId"] for i in ordered] == ["i-a", "i-b", "i-c"]
    assert names.assign_names(ordered, ["i-new"], "lab", "worker") == {
        "i-b": "lab-worker-2",
        "i-c": "lab-worker-3",
        "i-new": "lab-worker-4",
    }


def test_surplus_is_the_unnamed_nodes_then_the_highest_names() -> None:
    workers = [
        _instance("i-3", "worker", "lab-worker-3"),
        _instance("i-u", "worker", ""),
        _instance("i-1", "worker", "lab-worker-1"),
        _instance("i-2", "worker", "lab-worker-2"),
        _instance("i-cp", "control-plane", "lab-control-plane-1"),
    ]
    ordered = [i["InstanceId"] for i in names.ranked(workers, "lab", "worker")]
    assert ordered == ["i-1", "i-2", "i-3", "i-u"]  # keeping the first 2 terminates i-u, then i-3


def test_node_list_puts_the_control_plane_first_and_orders_workers_by_number() -> None:
    instances = [
        _instance("i-10", "worker", "lab-worker-10"),
        _instance("i-2", "worker"),
        _instance("i-cp", "control-plane", "lab-control-plane-1"),
    ]
    nodes = names.node_list(instances, {"i-2": "lab-worker-2"})
    assert [n["name"] for n in nodes] == ["lab-control-plane-1", "lab-worker-2", "lab-worker-10"]
    assert nodes[1] == {
        "id": "i-2",
        "name": "lab-worker-2",
        "role": "worker",
        "instance_type": "",
        "public_ip": "",
        "private_ip": "",
        "public_dns": "",
        "private_dns": "",
        "state": "running",
    }
