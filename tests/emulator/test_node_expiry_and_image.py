"""Every node's expiry timer and root disk, against moto behind the strict proxy: a node tagged with an
expiry arms the timer for it (also a worker added by a run with cluster_ttl_hours 0), `status` says per
node what its timer is armed for (from the user data: the emulator's nodes are never contacted), and
the encrypted volume replaces the image's own root device."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from awslab import REGION, ROOT, AwsLab

pytestmark = pytest.mark.xdist_group("emulator-expiry")


def _instances(aws: AwsLab, cluster: str) -> list[dict[str, Any]]:
    flt = [
        {"Name": "tag:sparklab:cluster", "Values": [cluster]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]},
    ]
    return [
        i for r in aws.client("ec2").describe_instances(Filters=flt)["Reservations"] for i in r["Instances"]
    ]


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags") or []}


def _user_data(aws: AwsLab, instance_id: str) -> str:
    attr = aws.client("ec2").describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
    return base64.b64decode(attr["UserData"]["Value"]).decode()


def test_a_worker_added_with_ttl_zero_arms_the_clusters_timer_and_status_shows_each_node(
    aws: AwsLab, tmp_path: Path
) -> None:
    cluster = "ttlhole"
    first = aws.playbook("provision", cluster, "-e", "cluster_ttl_hours=8", workers=1)
    assert first.rc == 0, first.stdout[-3000:]
    grown = aws.playbook("provision", cluster, "-e", "cluster_ttl_hours=0", workers=2)
    assert grown.rc == 0, grown.stdout[-3000:]
    nodes = _instances(aws, cluster)
    assert len(nodes) == 3
    for node in nodes:
        expires = _tags(node)["sparklab:expires-at"]
        assert expires != "never"
        calendar = f"OnCalendar={expires.replace('T', ' ').replace('Z', '')} UTC"
        assert calendar in _user_data(aws, node["InstanceId"]), _tags(node)["Name"]

    status = subprocess.run(
        [sys.executable, str(ROOT / "runner.py"), "status", "--name", cluster, "--aws-region", REGION],
        cwd=tmp_path,
        env=aws.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert status.returncode == 0, status.stdout + status.stderr
    for node in nodes:
        tags = _tags(node)
        line = (f"  {tags['Name']}: timer armed for {tags['sparklab:expires-at']} (from its user data; "
                "the node was not read: nodes are not contacted under an AWS emulator)")
        assert line in status.stdout.splitlines(), status.stdout
    as_json = subprocess.run(
        [sys.executable, str(ROOT / "runner.py"), "status", "--name", cluster, "--aws-region", REGION,
         "-o", "json"],
        cwd=tmp_path, env=aws.env, capture_output=True, text=True, timeout=300,
    )
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    shown = json.loads(as_json.stdout)["nodes"]
    armed = {n["instance_id"]: (n["timer_armed_for"], n["timer_source"]) for n in shown}
    assert armed == {n["InstanceId"]: (_tags(n)["sparklab:expires-at"], "user data") for n in nodes}
    down = aws.playbook("teardown", cluster)
    assert down.rc == 0 and aws.tagged(cluster) == [], down.stdout[-3000:]


def _seed_image(aws: AwsLab, ami_id: str, root_device: str, owner: str) -> str:
    """A Debian-style image (root device /dev/xvda) of a private publisher, straight into moto's
    backend: moto's RegisterImage keeps neither the root device name nor the owner."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.amis import Ami

    from sparklab.cluster.emulator import ACCOUNT_ID

    backend = ec2_backends[ACCOUNT_ID][REGION]
    backend.amis[ami_id] = Ami(
        backend,
        ami_id=ami_id,
        name="debian-13-amd64-20261201-0001",
        description="Debian 13 (20261201-0001)",
        owner_id=owner,
        public=True,
        virtualization_type="hvm",
        architecture="x86_64",
        root_device_type="ebs",
        root_device_name=root_device,
        region_name=REGION,
    )
    assert aws.emulator.endpoint_url  # the server of this process holds the backend
    return ami_id


def test_the_encrypted_volume_replaces_the_root_device_of_a_debian_style_image(aws: AwsLab) -> None:
    cluster = "xvda"
    ec2 = aws.client("ec2")
    image = _seed_image(aws, "ami-0de6b1a9e13c0ffee", "/dev/xvda", "111122223333")
    try:
        assert ec2.describe_images(ImageIds=[image])["Images"][0]["RootDeviceName"] == "/dev/xvda"
        up = aws.playbook("provision", cluster, "-e", f"cluster_ami_id={image}", workers=0)
        assert up.rc == 0, up.stdout[-3000:]
        # Not one of the publishers known to ship cloud-init: said in one line.
        warned = [ln for ln in up.stdout.splitlines() if f"cluster_ami_id: {image} is published by" in ln]
        assert len(warned) == 1, up.stdout[-3000:]
        [node] = _instances(aws, cluster)
        mapped = {m["DeviceName"]: m["Ebs"]["VolumeId"] for m in node["BlockDeviceMappings"]}
        assert "/dev/sda1" not in mapped and "/dev/xvda" in mapped, mapped
        [root] = ec2.describe_volumes(VolumeIds=[mapped["/dev/xvda"]])["Volumes"]
        assert (root["Size"], root["VolumeType"], root["Encrypted"]) == (30, "gp3", True)
        down = aws.playbook("teardown", cluster)
        assert down.rc == 0 and aws.tagged(cluster) == [], down.stdout[-3000:]
    finally:
        ec2.deregister_image(ImageId=image)
