"""Read-only view of one cluster's AWS resources, found by the ``sparklab:cluster`` tag.

Used by ``status``, by ``plan`` (against the emulator), after ``down`` and after Ctrl-C to say what
exists. Teardown itself is the playbook's job; this module never changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CLUSTER_TAG = "sparklab:cluster"
OWNER_TAG = "sparklab:owner"
EXPIRES_TAG = "sparklab:expires-at"
ROLE_TAG = "sparklab:role"

# (type, describe call, result key, id key)
_EC2_TYPES = (
    ("vpc", "describe_vpcs", "Vpcs", "VpcId"),
    ("subnet", "describe_subnets", "Subnets", "SubnetId"),
    ("internet-gateway", "describe_internet_gateways", "InternetGateways", "InternetGatewayId"),
    ("route-table", "describe_route_tables", "RouteTables", "RouteTableId"),
    ("security-group", "describe_security_groups", "SecurityGroups", "GroupId"),
    ("key-pair", "describe_key_pairs", "KeyPairs", "KeyName"),
    ("volume", "describe_volumes", "Volumes", "VolumeId"),
    ("elastic-ip", "describe_addresses", "Addresses", "AllocationId"),
    ("network-interface", "describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId"),
)


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


@dataclass
class Inventory:
    """What exists for one cluster."""

    cluster: str
    region: str
    nodes: list[Node] = field(default_factory=list)
    resources: list[tuple[str, str, str]] = field(default_factory=list)  # (type, id, detail)
    expires_at: str = ""
    owner: str = ""

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


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags") or []}


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
    """Every live resource tagged for ``cluster`` (instances, network, key pair, volumes, bucket)."""
    region = target.region
    ec2 = target.client("ec2")
    inv = Inventory(cluster=cluster, region=region)
    flt = [{"Name": f"tag:{CLUSTER_TAG}", "Values": [cluster]}]
    for page in ec2.get_paginator("describe_instances").paginate(Filters=flt):
        for reservation in page.get("Reservations", []):
            for item in reservation.get("Instances", []):
                state = item.get("State", {}).get("Name", "")
                if state == "terminated":
                    continue
                tags = _tags(item)
                inv.expires_at = inv.expires_at or tags.get(EXPIRES_TAG, "")
                inv.owner = inv.owner or tags.get(OWNER_TAG, "")
                inv.nodes.append(Node(
                    name=tags.get("Name", item["InstanceId"]), instance_id=item["InstanceId"],
                    instance_type=item.get("InstanceType", "?"), role=tags.get(ROLE_TAG, "?"), state=state,
                    public_ip=item.get("PublicIpAddress", ""), private_ip=item.get("PrivateIpAddress", ""),
                    launched=item.get("LaunchTime"),
                ))
    inv.nodes.sort(key=lambda n: (n.role != "control-plane", n.name))
    for kind, call, key, id_key in _EC2_TYPES:
        for item in getattr(ec2, call)(Filters=flt).get(key, []):
            if kind == "volume" and item.get("State") in ("deleting", "deleted"):
                continue
            detail = item.get("CidrBlock", "") or item.get("GroupName", "") or item.get("Size", "")
            inv.resources.append((kind, str(item[id_key]), str(detail)))
            inv.expires_at = inv.expires_at or _tags(item).get(EXPIRES_TAG, "")
    inv.resources.extend(_buckets(target, cluster))
    return inv


def _buckets(target: Target, cluster: str) -> list[tuple[str, str, str]]:
    from botocore.exceptions import ClientError

    s3 = target.client("s3")
    found = []
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if not name.startswith(f"sparklab-{cluster}-"):
            continue
        try:
            tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name).get("TagSet", [])}
        except ClientError:
            tags = {}
        if tags.get(CLUSTER_TAG, cluster) == cluster:
            found.append(("s3-bucket", name, ""))
    return found


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
