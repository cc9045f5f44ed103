"""Provision, re-provision, discover and tear down against moto behind the strict proxy."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
from typing import Any

import pytest
from awslab import DETECTED_IP, REGION, AwsLab

# The module fixture provisions two clusters once: keep every test of this file on one worker.
pytestmark = pytest.mark.xdist_group("emulator-lifecycle")

CLUSTER = "alpha"
NEIGHBOUR = "beta"


def _snapshot(aws: AwsLab, cluster: str) -> str:
    """Every attribute of every resource of a cluster, serialised (for byte-for-byte comparison)."""
    ec2 = aws.client("ec2")
    flt = [{"Name": "tag:sparklab:cluster", "Values": [cluster]}]
    data: dict[str, Any] = {}
    for call, key in (
        ("describe_instances", "Reservations"),
        ("describe_vpcs", "Vpcs"),
        ("describe_subnets", "Subnets"),
        ("describe_security_groups", "SecurityGroups"),
        ("describe_internet_gateways", "InternetGateways"),
        ("describe_route_tables", "RouteTables"),
        ("describe_key_pairs", "KeyPairs"),
    ):
        data[key] = getattr(ec2, call)(Filters=flt)[key]
    s3 = aws.client("s3")
    bucket = f"sparklab-{cluster}-123456789012-{REGION}"
    data["bucket"] = [s3.get_bucket_tagging(Bucket=bucket)["TagSet"], s3.get_bucket_encryption(Bucket=bucket)]
    for item in data["bucket"][1:]:
        item.pop("ResponseMetadata", None)
    return json.dumps(data, sort_keys=True, default=str)


@pytest.fixture(scope="module")
def provisioned(aws: AwsLab) -> dict[str, Any]:
    neighbour = aws.playbook("provision", NEIGHBOUR, workers=0)
    assert neighbour.rc == 0, neighbour.stdout[-4000:]
    aws.proxy.reset_counts()
    run = aws.playbook("provision", CLUSTER, workers=2)
    assert run.rc == 0, run.stdout[-4000:]
    return {"run": run, "calls": dict(aws.proxy.calls), "neighbour": _snapshot(aws, NEIGHBOUR)}


def _instances(aws: AwsLab, cluster: str) -> list[dict[str, Any]]:
    reservations = aws.client("ec2").describe_instances(
        Filters=[
            {"Name": "tag:sparklab:cluster", "Values": [cluster]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )["Reservations"]
    return [i for r in reservations for i in r["Instances"]]


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}


def test_provision_creates_the_locked_down_shape(aws: AwsLab, provisioned: dict[str, Any]) -> None:
    ec2 = aws.client("ec2")
    flt = [{"Name": "tag:sparklab:cluster", "Values": [CLUSTER]}]
    owner = "arn:aws:sts::123456789012:user/moto"

    vpcs = ec2.describe_vpcs(Filters=flt)["Vpcs"]
    assert [v["CidrBlock"] for v in vpcs] == ["10.42.0.0/16"]
    vpc_id = vpcs[0]["VpcId"]
    assert _tags(vpcs[0])["sparklab:owner"] == owner
    assert _tags(vpcs[0])["sparklab:expires-at"].endswith("Z")

    subnets = ec2.describe_subnets(Filters=flt)["Subnets"]
    assert len(subnets) == 1 and subnets[0]["VpcId"] == vpc_id and subnets[0]["MapPublicIpOnLaunch"]
    offered = {
        o["Location"]
        for o in ec2.describe_instance_type_offerings(
            LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": ["t3.large"]}]
        )["InstanceTypeOfferings"]
    }
    assert subnets[0]["AvailabilityZone"] in offered

    igws = ec2.describe_internet_gateways(Filters=flt)["InternetGateways"]
    assert len(igws) == 1 and igws[0]["Attachments"][0]["VpcId"] == vpc_id
    rtbs = ec2.describe_route_tables(Filters=flt)["RouteTables"]
    assert len(rtbs) == 1
    assert {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igws[0]["InternetGatewayId"]}.items() <= next(
        r for r in rtbs[0]["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"
    ).items()
    assert rtbs[0]["Associations"][0]["SubnetId"] == subnets[0]["SubnetId"]

    groups = ec2.describe_security_groups(Filters=flt)["SecurityGroups"]
    assert len(groups) == 1
    group = groups[0]
    inbound = group["IpPermissions"]
    self_rules = [p for p in inbound if p["UserIdGroupPairs"]]
    assert len(self_rules) == 1 and self_rules[0]["IpProtocol"] == "-1"
    assert self_rules[0]["UserIdGroupPairs"][0]["GroupId"] == group["GroupId"]
    cidr_rules = {
        (p["IpProtocol"], p["FromPort"], p["ToPort"]): sorted(r["CidrIp"] for r in p["IpRanges"])
        for p in inbound
        if p["IpRanges"]
    }
    # SSH, the API server, the dashboard and the Spark UI NodePorts: from the admin CIDRs only.
    assert cidr_rules == {("tcp", port, port): [f"{DETECTED_IP}/32"] for port in (22, 6443, 30080, 30040)}
    assert not any(r["CidrIp"].endswith("/0") for p in inbound for r in p["IpRanges"])

    keys = ec2.describe_key_pairs(Filters=flt)["KeyPairs"]
    assert [k["KeyName"] for k in keys] == [f"sparklab-{CLUSTER}"]
    private_key = aws.home / CLUSTER / "id_ed25519"
    assert stat.S_IMODE(private_key.stat().st_mode) == 0o600
    # The key on disk is the private half of the key pair AWS holds: ssh-keygen derives the same
    # public key from it as the .pub file sparklab imported.
    derived = subprocess.run(
        ["ssh-keygen", "-y", "-f", str(private_key)], capture_output=True, text=True, check=True
    ).stdout.split()[:2]
    imported = (private_key.parent / "id_ed25519.pub").read_text().split()[:2]
    assert derived == imported and derived[0] == "ssh-ed25519"
    assert "PRIVATE KEY" not in provisioned["run"].stdout

    s3 = aws.client("s3")
    bucket = f"sparklab-{CLUSTER}-123456789012-{REGION}"
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(pab.values()) and len(pab) == 4
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}[
        "sparklab:cluster"
    ] == CLUSTER

    instances = _instances(aws, CLUSTER)
    names = sorted(_tags(i)["Name"] for i in instances)
    assert names == [f"{CLUSTER}-control-plane-1", f"{CLUSTER}-worker-1", f"{CLUSTER}-worker-2"]
    ami = aws.emulator.current_ami(REGION)
    for inst in instances:
        tags = _tags(inst)
        assert tags["sparklab:role"] == ("control-plane" if "control-plane" in tags["Name"] else "worker")
        assert tags["sparklab:owner"] == owner
        assert inst["ImageId"] == ami and inst["SubnetId"] == subnets[0]["SubnetId"]
        assert inst["MetadataOptions"]["HttpTokens"] == "required"
        assert inst["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
        assert "IamInstanceProfile" not in inst
        assert [g["GroupId"] for g in inst["SecurityGroups"]] == [group["GroupId"]]
        assert inst.get("PublicIpAddress")
        attr = ec2.describe_instance_attribute(
            InstanceId=inst["InstanceId"], Attribute="instanceInitiatedShutdownBehavior"
        )
        assert attr["InstanceInitiatedShutdownBehavior"]["Value"] == "terminate"
        user_data = ec2.describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="userData")
        script = base64.b64decode(user_data["UserData"]["Value"]).decode()
        assert "Persistent=true" in script and "systemctl enable --now sparklab-expire.timer" in script
        assert f"OnCalendar={tags['sparklab:expires-at'].replace('T', ' ').replace('Z', '')} UTC" in script
        root = inst["BlockDeviceMappings"][0]
        volume = ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
        assert root["Ebs"]["DeleteOnTermination"] and volume["Encrypted"] and volume["VolumeType"] == "gp3"
        assert volume["Size"] == 30

    # Batched launch: one RunInstances per role, whatever the worker count.
    assert provisioned["calls"].get("ec2:RunInstances") == 2


def test_second_provision_changes_nothing_even_after_a_newer_ami(
    aws: AwsLab, provisioned: dict[str, Any]
) -> None:
    before = sorted(i["InstanceId"] for i in _instances(aws, CLUSTER))
    aws.emulator.publish_newer_ubuntu_ami(REGION)
    aws.proxy.reset_counts()
    run = aws.playbook("provision", CLUSTER, workers=2)
    assert run.rc == 0, run.stdout[-4000:]
    assert run.changed == 0
    assert sum(aws.proxy.mutating.values()) == 0, dict(aws.proxy.mutating)
    assert sorted(i["InstanceId"] for i in _instances(aws, CLUSTER)) == before


def test_inventory_lists_exactly_this_clusters_nodes(aws: AwsLab, provisioned: dict[str, Any]) -> None:
    run = aws.inventory(CLUSTER)
    assert run.rc == 0, run.stderr[-3000:]
    data = json.loads(run.stdout)
    assert data["control_plane"]["hosts"] == [f"{CLUSTER}-control-plane-1"]
    assert sorted(data["workers"]["hosts"]) == [f"{CLUSTER}-worker-1", f"{CLUSTER}-worker-2"]
    assert sorted(data["cluster"]["children"]) == ["control_plane", "workers"]
    hostvars = data["_meta"]["hostvars"]
    assert set(hostvars) == {f"{CLUSTER}-control-plane-1", f"{CLUSTER}-worker-1", f"{CLUSTER}-worker-2"}
    ips = {_tags(i)["Name"]: i["PublicIpAddress"] for i in _instances(aws, CLUSTER)}
    for host, hv in hostvars.items():
        value = hv["ansible_host"]
        assert (value.get("__ansible_unsafe") if isinstance(value, dict) else value) == ips[host]


def test_teardown_leaves_no_tagged_resource_and_spares_the_neighbour(
    aws: AwsLab, provisioned: dict[str, Any]
) -> None:
    aws.proxy.reset_counts()
    run = aws.playbook("teardown", CLUSTER)
    assert run.rc == 0, run.stdout[-4000:]
    assert "0 resources left" in run.stdout
    assert aws.tagged(CLUSTER) == []
    assert _snapshot(aws, NEIGHBOUR) == provisioned["neighbour"]
    again = aws.playbook("teardown", CLUSTER)
    assert again.rc == 0 and again.changed == 0, again.stdout[-3000:]
    assert "0 resources left" in again.stdout
