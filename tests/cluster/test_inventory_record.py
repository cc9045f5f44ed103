"""The harness inventory is the aws_ec2 plugin's, and stays in step with the plugin configuration.

tests/harness/aws_ec2_inventory.json was recorded by tests/harness/record_aws_ec2.py (the plugin
against the emulator). Proves about our code: every variable the configuration composes and every
group it defines is in the record (a change of inventory/sparklab.aws_ec2.yml without a new record
fails here), and the inventory the harness writes keeps the recorded variables, puts the containers'
addresses in place of the recorded ones and sets no login user of its own (the product's
inventory/group_vars decides it). Nothing here starts a container.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from nodes import AWS_EC2_RECORD, REPO, Node, NodeSet


def test_record_has_every_composed_variable_and_group_of_the_plugin_configuration() -> None:
    config = yaml.safe_load((REPO / "inventory" / "sparklab.aws_ec2.yml").read_text())
    record = json.loads(AWS_EC2_RECORD.read_text())
    assert set(config["groups"]) <= set(record["groups"])
    assert len(record["groups"]["control_plane"]) == 1 and len(record["groups"]["workers"]) == 2
    for host, hostvars in record["hostvars"].items():
        assert set(config["compose"]) <= set(hostvars), host
        assert hostvars["ec2_tags"]["Name"]["__ansible_unsafe"] == host  # hostnames: tag:Name first


def test_harness_inventory_keeps_the_recorded_variables_with_the_containers_addresses(tmp_path: Path) -> None:
    nodes = [
        Node("h-cp-1", "control_plane", "172.30.0.2"),
        Node("h-worker-1", "workers", "172.30.0.3"),
        Node("h-worker-2", "workers", "172.30.0.4"),
    ]
    path = NodeSet("h", nodes).inventory(tmp_path / "inventory" / "hosts.yml")
    assert (path.parent / "group_vars").resolve() == (REPO / "inventory" / "group_vars").resolve()
    written = yaml.safe_load(path.read_text())["all"]["children"]
    record = json.loads(AWS_EC2_RECORD.read_text())
    worker = written["cluster"]["children"]["workers"]["hosts"]["h-worker-2"]
    assert "ansible_user" not in worker
    assert (worker["ansible_host"], worker["private_ip_address"], worker["public_ip_address"]) == (
        "h-worker-2", "172.30.0.4", "172.30.0.4")
    assert worker["private_dns_name"] == "h-worker-2.harness.internal"
    assert worker["sparklab_node_role"] == "worker" and worker["ec2_tags"]["Name"] == "h-worker-2"
    recorded = record["hostvars"][record["groups"]["workers"][1]]
    assert set(recorded) - {"tags"} <= set(worker)
    assert set(written["aws_ec2"]["hosts"]) == {node.name for node in nodes}
