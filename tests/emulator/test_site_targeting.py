"""`ansible-playbook site.yml -e @cluster.yml` with nothing exported targets exactly this cluster's
nodes in every play after provisioning (issue: the inventory was read before the nodes existed and
took the cluster name from SPARKLAB_CLUSTER_NAME only).

The real site.yml runs against moto with a second cluster in the same region. The node addresses
are invented, so no connection may be made: nodes.yml refuses an emulator in its first task, and
ANSIBLE_TRANSPORT selects a test connection plugin that would record any attempt and refuse it
without opening a socket. A test callback records, when the first play after provisioning starts, the hosts
that every later play targets, resolved by the run's own inventory manager.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from awslab import DETECTED_IP, REGION, ROOT, VENV_BIN, AwsLab

pytestmark = pytest.mark.xdist_group("emulator-site")

PLUGINS = Path(__file__).parent / "plugins"
CLUSTER = "siteone"
OTHER = "sitetwo"
FIRST_NODE_PLAY = "Prepare the nodes"


def _site(aws: AwsLab, tmp_path: Path, config: Path, extra_env: dict[str, str]) -> tuple[Any, list, list]:
    hosts_file = tmp_path / "play-hosts.jsonl"
    conn_file = tmp_path / "connections.txt"
    hosts_file.unlink(missing_ok=True)
    conn_file.unlink(missing_ok=True)
    # Only what points botocore at the emulator, the state folder and the test plugins: no
    # SPARKLAB_CLUSTER_NAME, no AWS_REGION (the region comes from the configuration).
    env = {
        k: v
        for k, v in aws.env.items()
        if k not in ("AWS_REGION", "AWS_DEFAULT_REGION", "SPARKLAB_CHECKIP_URL")
    }
    env.update(
        {
            "ANSIBLE_CALLBACK_PLUGINS": str(PLUGINS / "callback"),
            "ANSIBLE_CALLBACKS_ENABLED": "sparklab_play_hosts",
            "ANSIBLE_CONNECTION_PLUGINS": str(PLUGINS / "connection"),
            "ANSIBLE_TRANSPORT": "sparklab_no_network",
            "SPARKLAB_TEST_PLAY_HOSTS": str(hosts_file),
            "SPARKLAB_TEST_CONNECTIONS": str(conn_file),
            **extra_env,
        }
    )
    proc = subprocess.run(
        [
            str(VENV_BIN / "ansible-playbook"),
            "site.yml",
            "-e",
            f"@{config}",
            "-e",
            "aws_instances_wait_for_ssh=false",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    records = (
        [json.loads(line) for line in hosts_file.read_text().splitlines()] if hosts_file.exists() else []
    )
    attempts = conn_file.read_text().split() if conn_file.exists() else []
    return proc, records, attempts


def _running(aws: AwsLab, cluster: str) -> dict[str, str]:
    reservations = aws.client("ec2").describe_instances(
        Filters=[
            {"Name": "tag:sparklab:cluster", "Values": [cluster]},
            {"Name": "instance-state-name", "Values": ["running"]},
        ]
    )["Reservations"]
    out = {}
    for inst in (i for r in reservations for i in r["Instances"]):
        tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
        out[tags["Name"]] = inst["PublicIpAddress"]
    return out


def test_site_targets_exactly_this_clusters_nodes_in_every_play_after_provisioning(
    aws: AwsLab, tmp_path: Path
) -> None:
    other = aws.playbook("provision", OTHER, workers=1)
    assert other.rc == 0, other.stdout[-3000:]
    config = tmp_path / "cluster.yml"
    config.write_text(
        f"cluster_name: {CLUSTER}\ncluster_aws_region: {REGION}\ncluster_worker_count: 2\n"
        f"cluster_admin_cidrs: ['{DETECTED_IP}/32']\n"
    )
    try:
        # From a clean start with nothing exported, then again with a stale SPARKLAB_CLUSTER_NAME
        # naming the other cluster: the configuration decides.
        for extra_env in ({}, {"SPARKLAB_CLUSTER_NAME": OTHER}):
            proc, records, attempts = _site(aws, tmp_path, config, extra_env)
            ours, theirs = _running(aws, CLUSTER), _running(aws, OTHER)
            assert len(ours) == 3 and len(theirs) == 2, proc.stdout[-4000:]
            started = [r["started"] for r in records]
            assert FIRST_NODE_PLAY in started, (started, proc.stdout[-4000:])
            later = next(r for r in records if r["started"] == FIRST_NODE_PLAY)["plays"]
            assert len(later) >= 4, later
            control_plane = sorted(n for n in ours if "-control-plane-" in n)
            workers = sorted(n for n in ours if "-worker-" in n)
            expected = {"cluster": sorted(ours), "control_plane": control_plane, "workers": workers}
            for play in later:
                assert play["hosts"] == expected[play["pattern"]], (extra_env, play)
                assert play["addresses"] == sorted(ours[h] for h in play["hosts"]), play
                assert not set(play["hosts"]) & set(theirs)
            # The run stopped at the first node play, whose first task refuses an emulator's invented
            # addresses: not even the test's connection (which refuses without a socket) was tried.
            assert proc.returncode != 0
            assert "AWS_ENDPOINT_URL points at an emulator" in proc.stdout, proc.stdout[-3000:]
            assert attempts == [], attempts
    finally:
        for cluster in (CLUSTER, OTHER):
            down = aws.playbook("teardown", cluster)
            assert down.rc == 0, down.stdout[-3000:]
            assert aws.tagged(cluster) == []
