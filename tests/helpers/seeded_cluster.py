"""A sparklab cluster's tagged resources created straight in the emulator (no playbook): fast fixtures
for the verbs that only read or delete (``list``, ``status``, ``down``, ``ssh``, ``dashboard``).

The tags are those the provision roles set (``sparklab:cluster``, ``sparklab:owner``, ``sparklab:creator``,
``sparklab:expires-at``, ``sparklab:role``, ``Name``); the owner is the emulator's caller, so ``down``
accepts the cluster as its own.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import boto3

CALLER_ARN = "arn:aws:sts::123456789012:user/moto"  # the emulator's caller, as STS names it


@dataclass
class SeededCluster:
    name: str
    region: str
    endpoint_url: str
    creator: str
    nodes: dict[str, str] = field(default_factory=dict)  # Name tag -> instance id
    ids: dict[str, str] = field(default_factory=dict)  # vpc, subnet, security-group -> id

    def client(self) -> Any:
        return boto3.client("ec2", region_name=self.region, endpoint_url=self.endpoint_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def tagged_ids(self) -> set[str]:
        """Every resource id carrying the cluster tag, by EC2 DescribeTags (not sparklab's scanner)."""
        flt = [{"Name": "key", "Values": ["sparklab:cluster"]}, {"Name": "value", "Values": [self.name]}]
        return {t["ResourceId"] for t in self.client().describe_tags(Filters=flt)["Tags"]}

    def remove(self) -> None:
        """Terminate the nodes and delete the network (for tests that do not run ``down``)."""
        ec2 = self.client()
        live = list(self.nodes.values())
        if live:
            ec2.terminate_instances(InstanceIds=live)
        for call, key in (("delete_security_group", "GroupId"), ("delete_subnet", "SubnetId"),
                          ("delete_vpc", "VpcId")):
            kind = {"GroupId": "security-group", "SubnetId": "subnet", "VpcId": "vpc"}[key]
            with contextlib.suppress(Exception):  # already gone (deleted by `down`)
                getattr(ec2, call)(**{key: self.ids[kind]})


def seed_cluster(endpoint_url: str, region: str, image_id: str, name: str, *, creator: str,
                 workers: int = 1, expires_at: str = "2099-01-01T00:00:00Z") -> SeededCluster:
    """A VPC, a subnet, a security group and 1 + ``workers`` running instances, tagged for ``name``."""
    cluster = SeededCluster(name, region, endpoint_url, creator)
    ec2 = cluster.client()
    tags = [{"Key": "sparklab:cluster", "Value": name}, {"Key": "sparklab:owner", "Value": CALLER_ARN},
            {"Key": "sparklab:creator", "Value": creator},
            {"Key": "sparklab:expires-at", "Value": expires_at}]

    def spec(kind: str, *extra: dict[str, str]) -> list[dict[str, Any]]:
        return [{"ResourceType": kind, "Tags": tags + list(extra)}]

    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16", TagSpecifications=spec("vpc"))["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.0.0/24",
                               TagSpecifications=spec("subnet"))["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"sparklab-{name}", Description="sparklab test", VpcId=vpc,
                                      TagSpecifications=spec("security-group"))["GroupId"]
    cluster.ids = {"vpc": vpc, "subnet": subnet, "security-group": group}
    members = [("control-plane", f"{name}-control-plane-1", "t3.medium")]
    members += [("worker", f"{name}-worker-{n}", "t3.large") for n in range(1, workers + 1)]
    for role, node_name, itype in members:
        extra = ({"Key": "sparklab:role", "Value": role}, {"Key": "Name", "Value": node_name})
        instance = ec2.run_instances(
            ImageId=image_id, InstanceType=itype, MinCount=1, MaxCount=1,
            NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [group],
                                "AssociatePublicIpAddress": True}],
            BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 30, "VolumeType": "gp3",
                                                                       "DeleteOnTermination": True}}],
            TagSpecifications=spec("instance", *extra) + spec("volume"),
        )["Instances"][0]
        cluster.nodes[node_name] = instance["InstanceId"]
    return cluster
