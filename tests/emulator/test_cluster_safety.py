"""Lifecycle safety against moto behind the strict proxy: the expiry timer is re-armed, a cluster is
one account and one region, an untagged bucket is adopted, a teammate's cluster needs an explicit
flag to be torn down, zero workers means zero, and both scanners see the same resources.

A playbook run is the cost here (about 30 s a provision, 25 s a teardown), so scenarios whose
set-ups do not interfere share one cluster lifecycle: the expiry-timer scenarios and the
zero-worker scaling run in sequence on one cluster, and the scanner parity, the bucket's region and
the adoption of an untagged bucket are checked on another. Each merged test says which assertions
prove which promise."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from awslab import REGION, ROOT, VENV_BIN, AwsLab
from local_services import ONE_OF_EACH_KIND, TAGGED_EC2, tagged_ec2_items

from sparklab.cluster import aws as front_end_scanner

pytestmark = pytest.mark.xdist_group("emulator-safety")

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_LabAdmin_0123456789abcdef"
PAST = "2020-01-01T00:00:00Z"


def _bucket(cluster: str, region: str = REGION) -> str:
    return f"sparklab-{cluster}-{ACCOUNT}-{region}"


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags") or []}


def _instances(aws: AwsLab, cluster: str, role: str | None = None) -> list[dict[str, Any]]:
    flt = [
        {"Name": "tag:sparklab:cluster", "Values": [cluster]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
    ]
    if role:
        flt.append({"Name": "tag:sparklab:role", "Values": [role]})
    return [
        i for r in aws.client("ec2").describe_instances(Filters=flt)["Reservations"] for i in r["Instances"]
    ]


def _ec2_ids(aws: AwsLab, cluster: str) -> list[str]:
    """Ids of every tagged EC2 resource of a cluster that takes tags by id (not the key pair)."""
    ids = [i["InstanceId"] for i in _instances(aws, cluster)]
    return ids + [item[TAGGED_EC2[key][1]] for key, item in tagged_ec2_items(aws.client("ec2"), cluster)]


def _expiries(aws: AwsLab, cluster: str) -> dict[str, str]:
    """expires-at tag of every tagged resource (EC2 by id, and the bucket)."""
    ec2 = aws.client("ec2")
    out = {}
    for desc in ec2.describe_tags(Filters=[{"Name": "key", "Values": ["sparklab:expires-at"]}])["Tags"]:
        if desc["ResourceId"] in set(_ec2_ids(aws, cluster)):
            out[desc["ResourceId"]] = desc["Value"]
    bucket = aws.client("s3").get_bucket_tagging(Bucket=_bucket(cluster))["TagSet"]
    out["bucket"] = _tags({"Tags": bucket})["sparklab:expires-at"]
    return out


def _user_data(aws: AwsLab, instance_id: str) -> str:
    attr = aws.client("ec2").describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
    return base64.b64decode(attr["UserData"]["Value"]).decode()


def _session(aws: AwsLab, name: str) -> dict[str, str]:
    """Credentials of an SSO-style session `name` of one shared role (moto's STS)."""
    creds = aws.client("sts").assume_role(RoleArn=ROLE, RoleSessionName=name)["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


def test_timerless_nodes_refused_then_expiry_rearmed_then_zero_workers_scaling(aws: AwsLab) -> None:
    """One cluster, three promises in sequence, one teardown at the end:

    1. Nodes without a timer or about to expire are refused before any change: made with
       cluster_ttl_hours 0, the node says "never" and arms no timer; a run with a TTL and a run past
       a near expiry are both refused with zero mutating calls.
    2. A recreated cluster gets a fresh expiry and every resource is re-tagged: once the timer
       "did its job" (nodes terminated, every expiry tag set to a past date, overwriting step 1's
       "never"), up again re-arms it on the new node and every resource, and duplicates nothing.
    3. Zero workers launches none and scaling to zero terminates them: the first launch (fresh
       cluster, TTL 0) and the relaunch of step 2 (default TTL) each made one control plane and no
       worker; 2 workers, then 0, keeps that control plane only, and a re-run changes nothing.

    The cluster ends as each of the three tests ended it: torn down, nothing tagged left.
    """
    cluster = "ttlzero"
    # -- 1. nodes without a timer or about to expire are refused before any change ----------------
    first = aws.playbook("provision", cluster, "-e", "cluster_ttl_hours=0", workers=0)
    assert first.rc == 0, first.stdout[-3000:]
    # (3. zero workers launches none, on the fresh cluster)
    assert len(_instances(aws, cluster, "control-plane")) == 1 and _instances(aws, cluster, "worker") == []
    [node] = _instances(aws, cluster)
    assert _tags(node)["sparklab:expires-at"] == "never"
    assert "no expiry timer armed" in _user_data(aws, node["InstanceId"])

    aws.proxy.reset_counts()
    with_ttl = aws.playbook("provision", cluster, "-e", "cluster_ttl_hours=8", workers=0)
    assert with_ttl.rc != 0
    assert "cluster_ttl_hours: the running nodes of cluster ttlzero have no expiry timer" in with_ttl.stdout
    assert sum(aws.proxy.mutating.values()) == 0, dict(aws.proxy.mutating)

    soon = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    aws.client("ec2").create_tags(
        Resources=[node["InstanceId"]], Tags=[{"Key": "sparklab:expires-at", "Value": soon}]
    )
    aws.proxy.reset_counts()
    near = aws.playbook("provision", cluster, workers=0)
    assert near.rc != 0
    assert f"cluster_ttl_hours: the running nodes of cluster ttlzero power off at {soon}" in near.stdout
    assert sum(aws.proxy.mutating.values()) == 0, dict(aws.proxy.mutating)

    # -- 2. a recreated cluster gets a fresh expiry and every resource is re-tagged ----------------
    # The timer did its job: the nodes are gone; the rest still carries the old, past date (it said
    # "never" after step 1: every expiry tag is overwritten here, as after a provision with a TTL).
    ec2 = aws.client("ec2")
    ec2.terminate_instances(InstanceIds=[i["InstanceId"] for i in _instances(aws, cluster)])
    ec2.create_tags(Resources=_ec2_ids(aws, cluster), Tags=[{"Key": "sparklab:expires-at", "Value": PAST}])
    s3 = aws.client("s3")
    bucket_tags = s3.get_bucket_tagging(Bucket=_bucket(cluster))["TagSet"]
    s3.put_bucket_tagging(
        Bucket=_bucket(cluster),
        Tagging={
            "TagSet": [t for t in bucket_tags if t["Key"] != "sparklab:expires-at"]
            + [{"Key": "sparklab:expires-at", "Value": PAST}]
        },
    )
    assert set(_expiries(aws, cluster).values()) == {PAST}

    again = aws.playbook("provision", cluster, workers=0)
    assert again.rc == 0, again.stdout[-3000:]
    now = datetime.now(UTC)
    [node] = _instances(aws, cluster)
    fresh = _tags(node)["sparklab:expires-at"]
    expires = datetime.strptime(fresh, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert now + timedelta(hours=7) < expires <= now + timedelta(hours=8, minutes=5)
    assert f"OnCalendar={fresh.replace('T', ' ').replace('Z', '')} UTC" in _user_data(aws, node["InstanceId"])
    retagged = _expiries(aws, cluster)
    assert set(retagged.values()) == {fresh}, retagged
    # Renewing the expiry duplicated nothing (the route table was once looked up by all its tags).
    assert sorted(r.split()[0] for r in aws.tagged(cluster)) == sorted(ONE_OF_EACH_KIND)

    # -- 3. zero workers launches none and scaling to zero terminates them -------------------------
    # (the relaunch with the default TTL launched none either)
    assert len(_instances(aws, cluster, "control-plane")) == 1 and _instances(aws, cluster, "worker") == []
    control_plane = _instances(aws, cluster, "control-plane")[0]["InstanceId"]
    two = aws.playbook("provision", cluster, workers=2)
    assert two.rc == 0 and len(_instances(aws, cluster, "worker")) == 2, two.stdout[-3000:]
    down_to_zero = aws.playbook("provision", cluster, workers=0)
    assert down_to_zero.rc == 0, down_to_zero.stdout[-3000:]
    assert _instances(aws, cluster, "worker") == []
    assert [i["InstanceId"] for i in _instances(aws, cluster)] == [control_plane]
    once_more = aws.playbook("provision", cluster, workers=0)
    assert once_more.rc == 0 and once_more.changed == 0, once_more.stdout[-3000:]

    # As in each of the three tests: torn down, nothing tagged left.
    down = aws.playbook("teardown", cluster)
    assert down.rc == 0 and aws.tagged(cluster) == [], down.stdout[-3000:]


def test_teardown_of_a_teammates_cluster_behind_the_same_role_needs_the_flag(aws: AwsLab) -> None:
    cluster = "shared"
    alice, bob = _session(aws, "alice@example.com"), _session(aws, "bob@example.com")
    up = aws.playbook("provision", cluster, workers=0, env=alice)
    assert up.rc == 0, up.stdout[-3000:]
    vpc = aws.client("ec2").describe_vpcs(Filters=[{"Name": "tag:sparklab:cluster", "Values": [cluster]}])[
        "Vpcs"
    ][0]
    role_owner = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_LabAdmin_0123456789abcdef"
    assert _tags(vpc)["sparklab:owner"] == role_owner
    assert _tags(vpc)["sparklab:creator"] == f"{role_owner}/alice@example.com"

    # Bob may re-run up (same role), but that never makes him the creator.
    again = aws.playbook("provision", cluster, workers=0, env=bob)
    assert again.rc == 0, again.stdout[-3000:]
    assert all(
        _tags(i)["sparklab:creator"] == f"{role_owner}/alice@example.com" for i in _instances(aws, cluster)
    )

    before = sorted(aws.tagged(cluster))
    aws.proxy.reset_counts()
    refused = aws.playbook("teardown", cluster, env=bob)
    assert refused.rc != 0
    assert f"were created by {role_owner}/alice@example.com" in refused.stdout
    assert "nothing was deleted" in refused.stdout and "--other-owner" in refused.stdout
    assert sum(aws.proxy.mutating.values()) == 0, dict(aws.proxy.mutating)
    assert sorted(aws.tagged(cluster)) == before

    allowed = aws.playbook("teardown", cluster, "-e", "aws_teardown_allow_other_owner=true", env=bob)
    assert allowed.rc == 0, allowed.stdout[-3000:]
    assert aws.tagged(cluster) == []


def _module_scan(aws: AwsLab, cluster: str) -> dict[str, Any]:
    env = dict(aws.env, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    proc = subprocess.run(
        [
            str(VENV_BIN / "ansible"),
            "localhost",
            "-m",
            "sparklab.cluster.aws_cluster_scan",
            "-a",
            f"cluster={cluster} region={REGION}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_scanners_agree_cluster_bucket_one_region_untagged_bucket_adopted_or_removed(aws: AwsLab) -> None:
    """One cluster, three promises checked on one provision and one teardown:

    - Both scanners see the same inventory, including addresses and interfaces: the module and the
      front end list the same resources of every kind, an elastic IP and an interface added by hand
      among them, and both see nothing once the teardown says "0 resources left".
    - A cluster is one account and one region for its bucket: a bucket of the same cluster name in
      another region and the untagged bucket of cluster "<name>-2" are neither adopted nor deleted,
      while the cluster's own bucket is gone after the teardown.
    - An untagged bucket with the exact name is adopted or removed: the cluster's own bucket exists,
      untagged, before the provision, which adopts it (tags it as this cluster's, with the caller as
      owner) and the teardown removes it; an "orphan" cluster of which only the untagged bucket
      exists is torn down to nothing.
    """
    cluster = "parity"
    s3 = aws.client("s3")
    # Region set-up: the same cluster name in another region, and an untagged bucket of cluster
    # "parity-2".
    elsewhere = _bucket(cluster, "us-east-1")
    boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=aws.emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=elsewhere)
    s3.put_bucket_tagging(
        Bucket=elsewhere,
        Tagging={
            "TagSet": [
                {"Key": "sparklab:cluster", "Value": cluster},
                {"Key": "sparklab:owner", "Value": f"arn:aws:iam::{ACCOUNT}:user/moto"},
            ]
        },
    )
    neighbour = _bucket(f"{cluster}-2")
    s3.create_bucket(Bucket=neighbour, CreateBucketConfiguration={"LocationConstraint": REGION})
    # Adoption set-up: the exact-name bucket, untagged, of this cluster and of cluster "orphan"
    # (a run that stopped right after CreateBucket).
    for name in (cluster, "orphan"):
        s3.create_bucket(Bucket=_bucket(name), CreateBucketConfiguration={"LocationConstraint": REGION})
    try:
        up = aws.playbook("provision", cluster, workers=1)
        assert up.rc == 0, up.stdout[-3000:]

        # -- an untagged bucket with the exact name is adopted ... ---------------------------------
        tags = _tags({"Tags": s3.get_bucket_tagging(Bucket=_bucket(cluster))["TagSet"]})
        assert tags["sparklab:cluster"] == cluster and tags["sparklab:owner"].endswith(":user/moto")
        # ... or removed: a cluster of which only the untagged bucket exists.
        orphan = aws.playbook("teardown", "orphan")
        assert orphan.rc == 0, orphan.stdout[-3000:]
        assert _bucket("orphan") not in {b["Name"] for b in s3.list_buckets()["Buckets"]}

        # -- both scanners see the same inventory, including addresses and interfaces -------------
        ec2 = aws.client("ec2")
        tags_of_cluster = [
            {"Key": "sparklab:cluster", "Value": cluster},
            {"Key": "sparklab:owner", "Value": f"arn:aws:sts::{ACCOUNT}:user/moto"},
            {"Key": "sparklab:creator", "Value": f"arn:aws:sts::{ACCOUNT}:user/moto"},
        ]
        subnet = ec2.describe_subnets(Filters=[{"Name": "tag:sparklab:cluster", "Values": [cluster]}])[
            "Subnets"
        ][0]
        eip = ec2.allocate_address(
            Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": tags_of_cluster}]
        )["AllocationId"]
        eni = ec2.create_network_interface(
            SubnetId=subnet["SubnetId"],
            TagSpecifications=[{"ResourceType": "network-interface", "Tags": tags_of_cluster}],
        )["NetworkInterface"]["NetworkInterfaceId"]

        module = _module_scan(aws, cluster)
        target = front_end_scanner.Target(
            region=REGION,
            endpoint_url=aws.proxy.url,
            access_key=aws.env["AWS_ACCESS_KEY_ID"],
            secret_key=aws.env["AWS_SECRET_ACCESS_KEY"],
        )
        inventory = front_end_scanner.scan(cluster, target)
        seen_by_module = sorted((r["type"], r["id"]) for r in module["resources"])
        seen_by_front_end = sorted(
            [("instance", n.instance_id) for n in inventory.nodes]
            + [(k, i) for k, i, _ in inventory.resources]
        )
        assert seen_by_module == seen_by_front_end
        kinds = {kind for kind, _ in seen_by_module}
        assert {
            "instance",
            "vpc",
            "subnet",
            "internet-gateway",
            "route-table",
            "security-group",
            "key-pair",
            "volume",
            "s3-bucket",
            "elastic-ip",
            "network-interface",
        } == kinds
        assert ("elastic-ip", eip) in seen_by_module and ("network-interface", eni) in seen_by_module
        assert module["bucket"] == _bucket(cluster)

        down = aws.playbook("teardown", cluster)
        assert down.rc == 0, down.stdout[-3000:]
        assert "0 resources left" in down.stdout
        assert (
            _module_scan(aws, cluster)["resources"] == []
            and front_end_scanner.scan(cluster, target).count == 0
        )
        # -- the adopted bucket is removed with the cluster, and a cluster is one account and one
        # region for its bucket: the other region's bucket and the neighbour's are left alone.
        assert aws.tagged(cluster) == []
        names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        assert {elsewhere, neighbour} <= names and _bucket(cluster) not in names
    finally:
        for name in (elsewhere, neighbour):
            s3.delete_bucket(Bucket=name)


def test_security_group_role_refuses_world_cidrs_given_straight_to_it(aws: AwsLab) -> None:
    cluster = "widecidr"
    for cidrs in (["0.0.0.0/0"], ["0.0.0.0/1", "128.0.0.0/1"]):
        run = aws.playbook(
            "provision", cluster, "-e", json.dumps({"aws_security_group_admin_cidrs": cidrs}), workers=0
        )
        assert run.rc != 0
        lines = [
            ln for ln in run.stdout.splitlines() if "cluster_admin_cidrs: " in ln and "whole internet" in ln
        ]
        assert lines, run.stdout[-3000:]
        groups = aws.client("ec2").describe_security_groups(
            Filters=[{"Name": "tag:sparklab:cluster", "Values": [cluster]}]
        )["SecurityGroups"]
        assert groups == []
    down = aws.playbook("teardown", cluster)
    assert down.rc == 0 and aws.tagged(cluster) == [], down.stdout[-3000:]
