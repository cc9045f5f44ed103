"""`status` reads each node's expiry timer from the node itself, over the cluster's SSH, and falls back
to the user data, naming the source, when the node does not answer or cannot be trusted.

The node is a systemd container with sshd (tests/helpers/ssh_node.py), reached at its address with
the cluster's key, the ``ubuntu`` login user and a known_hosts file holding the container's host key
(read from inside the container). The timer is armed by the product's own user data
(``roles/aws_instances/templates/user-data.sh.j2``, rendered as the role renders it) run as root, as
cloud-init runs it. The fallback with an emulator is in tests/emulator/test_node_expiry_and_image.py.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jinja2
import pytest
from ssh_node import SshNode, ssh_node

from sparklab.cluster.aws import Node
from sparklab.cluster.node_timers import (
    FROM_NODE,
    FROM_USER_DATA,
    TIMER_UNIT,
    SshAccess,
    TimerReading,
    read_node,
    read_timers,
)

REPO = Path(__file__).resolve().parents[2]
USER_DATA = REPO / "roles" / "aws_instances" / "templates" / "user-data.sh.j2"


def user_data(expires_at: str, cluster: str = "demo") -> str:
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(USER_DATA.read_text())
    return template.render(aws_instances_expires_at=expires_at, aws_instances_cluster_name=cluster)


ID = "i-0123456789abcdef0"


def _node(address: str, state: str = "running") -> Node:
    return Node(name="demo-worker-1", instance_id=ID, instance_type="t3.medium",
                role="worker", state=state, public_ip=address, private_ip="10.0.1.10", launched=None)


@pytest.fixture(scope="module")
def node() -> SshNode:
    with ssh_node() as started:
        yield started


@pytest.fixture
def access(node: SshNode, tmp_path: Path) -> SshAccess:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    node.authorize(Path(f"{key}.pub").read_text())
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(node.known_hosts_line())
    return SshAccess(key, known_hosts, "ubuntu")


def test_the_timer_is_read_from_the_node_over_the_clusters_ssh(node: SshNode, access: SshAccess) -> None:
    node.run("sh", "-c", f"systemctl disable --now {TIMER_UNIT}; rm -f /etc/systemd/system/sparklab-expire.*;"
             " systemctl daemon-reload", check=False)
    assert read_node(access, node.address) == ("", "")  # no unit: the node says no timer

    expires = (datetime.now(UTC) + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    node.run("bash", "-s", stdin=user_data(expires).encode())
    assert read_node(access, node.address) == (expires, "")

    # The node's answer wins over what the user data was given (here: nothing).
    readings = read_timers([_node(node.address)], {ID: ""}, access)
    assert readings == {ID: TimerReading(expires, FROM_NODE)}
    assert readings[ID].phrase() == "from the node"

    # Disarmed on the node (the unit stopped and disabled) although the user data armed it.
    node.run("systemctl", "disable", "--now", TIMER_UNIT)
    readings = read_timers([_node(node.address)], {ID: expires}, access)
    assert readings[ID] == TimerReading("", FROM_NODE)


def test_a_node_that_cannot_be_trusted_or_reached_falls_back_to_its_user_data(
        node: SshNode, access: SshAccess, tmp_path: Path) -> None:
    armed = "2030-01-01T00:00:00Z"
    # A host key other than the recorded one: ssh refuses, nothing is read from that host.
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    algorithm, body = Path(f"{other}.pub").read_text().split()[:2]
    access.known_hosts.write_text(f"{node.address} {algorithm} {body}\n")
    reading = read_timers([_node(node.address)], {ID: armed}, access)[ID]
    assert (reading.armed_for, reading.source) == (armed, FROM_USER_DATA)
    assert "Host key verification failed" in reading.why
    assert reading.phrase() == f"from its user data; the node was not read: {reading.why}"

    # A stopped node, and no access at all (no key, an emulator): the user data, with the reason.
    stopped = read_timers([_node(node.address, "stopped")], {ID: armed}, access)
    assert stopped[ID] == TimerReading(armed, FROM_USER_DATA, "it is stopped")
    missing = tmp_path / "none"
    assert SshAccess(missing, access.known_hosts, "ubuntu").missing() == f"no key at {missing}"
    none = read_timers([_node(node.address)], {ID: armed}, None, "why not")
    assert none[ID] == TimerReading(armed, FROM_USER_DATA, "why not")
