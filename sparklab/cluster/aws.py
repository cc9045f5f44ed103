"""Read-only view of one cluster's AWS resources, found by the ``sparklab:cluster`` tag.

Used by ``status``, by ``plan`` (against the emulator), after ``down`` and after Ctrl-C to say what
exists. Teardown itself is the playbook's job; this module never changes anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sparklab.core.contract import module_utils

# The scanner, its tag names and its resource table live only in plugins/module_utils/aws_scan.py,
# shared with the aws_cluster_scan module used by the playbooks.
aws_scan = module_utils("aws_scan")
CLUSTER_TAG = aws_scan.CLUSTER_TAG
OWNER_TAG = aws_scan.OWNER_TAG
EXPIRES_TAG = aws_scan.EXPIRES_TAG
ROLE_TAG = aws_scan.ROLE_TAG
# Either variable points EC2 at another endpoint: an emulator, whose node addresses are invented
# (they may belong to strangers), so sparklab opens no connection to them.
EMULATOR_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2")


def emulated_endpoint(environ: Mapping[str, str] | None = None) -> str:
    """The endpoint EC2 calls go to when it is not AWS (``AWS_ENDPOINT_URL`` set), else ``""``."""
    env = os.environ if environ is None else environ
    return next((env[k] for k in reversed(EMULATOR_ENV) if env.get(k)), "")


@dataclass(frozen=True)
class Node:
    name: str
    instance_id: str
    instance_type: str
    role: str
    state: str
    public_ip: str
    private_ip: str
    launched: datetime | None
    expires_at: str = ""  # the node's sparklab:expires-at tag


@dataclass
class Inventory:
    """What exists for one cluster."""

    cluster: str
    region: str
    nodes: list[Node] = field(default_factory=list)
    resources: list[tuple[str, str, str]] = field(default_factory=list)  # (type, id, detail)
    expires_at: str = ""
    owner: str = ""
    creator: str = ""

    @property
    def count(self) -> int:
        return len(self.nodes) + len(self.resources)

    @property
    def control_plane(self) -> Node | None:
        return next((n for n in self.nodes if n.role == "control-plane" and n.state == "running"), None)

    def lines(self) -> list[str]:
        out = [f"  instance  {n.instance_id}  {n.name}  {n.instance_type}  {n.state}"
               f"{f'  public {n.public_ip}' if n.public_ip else ''}" for n in self.nodes]
        out += [f"  {kind}  {rid}{f'  {detail}' if detail else ''}" for kind, rid, detail in self.resources]
        return out


@dataclass(frozen=True)
class Target:
    """Where to look: the user's AWS account (default chain) or the local emulator."""

    region: str
    endpoint_url: str | None = None
    access_key: str | None = None
    secret_key: str | None = None

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        cfg = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 4, "mode": "standard"})
        return boto3.session.Session(
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key, region_name=self.region
        ).client(service, endpoint_url=self.endpoint_url, config=cfg)


def scan(cluster: str, target: Target) -> Inventory:
    """Every live resource of ``cluster`` in the target's account and region (the shared scanner)."""
    found = aws_scan.scan(
        target.client("ec2"),
        target.client("s3"),
        cluster,
        aws_scan.caller_account(target.client("sts")),
        target.region,
    )
    inv = Inventory(cluster=cluster, region=target.region)
    for item in found:
        inv.expires_at = inv.expires_at or item["expires_at"]
        if item["type"] == "instance":
            inv.owner = inv.owner or item["owner"]
            inv.creator = inv.creator or item["creator"]
            launched = datetime.fromisoformat(item["launched"]) if item["launched"] else None
            inv.nodes.append(Node(
                name=item["name"], instance_id=item["id"], instance_type=item["instance_type"] or "?",
                role=item["role"] or "?", state=item["state"], public_ip=item["public_ip"],
                private_ip=item["private_ip"], launched=launched, expires_at=item["expires_at"],
            ))
        else:
            inv.resources.append((item["type"], item["id"], item["detail"]))
    inv.nodes.sort(key=lambda n: (n.role != "control-plane", n.name))
    return inv


def node_timers(target: Target, nodes: list[Node]) -> dict[str, str]:
    """Instance id -> the expiry whose timer the node's user data arms (``""``: none), per live node.

    Read from the user data (DescribeInstanceAttribute, one call per node), not from the node itself:
    it says what cloud-init was given to arm, which is all an emulator can show.
    """
    ec2 = target.client("ec2")
    return {n.instance_id: aws_scan.armed_expiry(aws_scan.node_user_data(ec2, n.instance_id))
            for n in nodes if n.state not in ("shutting-down", "terminated")}


def timer_state(node: Node, armed: str) -> str:
    """One phrase: whether the node's timer matches its expiry tag."""
    tagged = node.expires_at if node.expires_at not in ("", "never") else ""
    if armed and armed == tagged:
        return f"timer armed for {armed}"
    if not armed and not tagged:
        return "no timer (cluster_ttl_hours 0)"
    if not armed:
        return f"NO TIMER ARMED, though tagged to expire at {tagged}"
    return f"timer armed for {armed}, but tagged {node.expires_at or 'without expiry'}"


def cluster_names(target: Target) -> list[str]:
    """The name of every cluster with a tagged EC2 resource in the target's region (one call)."""
    return list(aws_scan.cluster_names(target.client("ec2")))


def enabled_regions(target: Target) -> list[str]:
    """The regions enabled for the account (EC2 DescribeRegions without opted-out ones)."""
    regions = target.client("ec2").describe_regions(AllRegions=False)["Regions"]
    return sorted(r["RegionName"] for r in regions)


def hours_running(nodes: list[Node], now: datetime | None = None) -> dict[str, float]:
    """Instance type -> instance-hours so far (running instances only)."""
    now = now or datetime.now(UTC)
    out: dict[str, float] = {}
    for node in nodes:
        if node.state != "running" or node.launched is None:
            continue
        hours = max(0.0, (now - node.launched).total_seconds() / 3600)
        out[node.instance_type] = out.get(node.instance_type, 0.0) + hours
    return out
