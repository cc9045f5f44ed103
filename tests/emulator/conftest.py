"""Fixtures: one moto server per test session, the strict proxy in front of it, and a playbook runner.

Everything listens on 127.0.0.1; the admin-address detection is pointed at a local stub.
"""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from strict_proxy import StrictProxy  # noqa: E402

from sparklab.emulator import Emulator  # noqa: E402

REGION = "eu-west-1"
DETECTED_IP = "198.51.100.7"
VENV_BIN = Path(sys.executable).parent
RECAP_RE = re.compile(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str

    @property
    def changed(self) -> int:
        match = RECAP_RE.search(self.stdout)
        assert match, self.stdout[-3000:]
        return int(match.group(2))


@dataclass
class AwsLab:
    emulator: Emulator
    proxy: StrictProxy
    env: dict[str, str]
    home: Path

    def client(self, service: str) -> Any:
        """A boto3 client talking to moto directly (not counted by the proxy)."""
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.emulator.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def playbook(
        self, name: str, cluster: str, *extra: str, workers: int = 1, env: dict[str, str] | None = None
    ) -> Run:
        args = [
            str(VENV_BIN / "ansible-playbook"),
            f"playbooks/{name}.yml",
            "-e",
            f"cluster_name={cluster}",
            "-e",
            f"cluster_worker_count={workers}",
            "-e",
            "aws_instances_wait_for_ssh=false",
            "-e",
            "aws_teardown_delay=1",
            *extra,
        ]
        run_env = dict(self.env, SPARKLAB_CLUSTER_NAME=cluster, **(env or {}))
        proc = subprocess.run(args, cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=900)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def inventory(self, cluster: str) -> Run:
        args = [str(VENV_BIN / "ansible-inventory"), "--list", "-i", "inventory"]
        proc = subprocess.run(
            args,
            cwd=ROOT,
            env=dict(self.env, SPARKLAB_CLUSTER_NAME=cluster),
            capture_output=True,
            text=True,
            timeout=300,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def tagged(self, cluster: str) -> list[dict[str, str]]:
        """Every resource tagged with the cluster, seen directly in moto."""
        ec2 = self.client("ec2")
        flt = [{"Name": "tag:sparklab:cluster", "Values": [cluster]}]
        found = []
        for r in ec2.describe_instances(Filters=flt)["Reservations"]:
            found += [
                {"type": "instance", "id": i["InstanceId"]}
                for i in r["Instances"]
                if i["State"]["Name"] != "terminated"
            ]
        for call, key, ident in (
            ("describe_vpcs", "Vpcs", "VpcId"),
            ("describe_subnets", "Subnets", "SubnetId"),
            ("describe_security_groups", "SecurityGroups", "GroupId"),
            ("describe_internet_gateways", "InternetGateways", "InternetGatewayId"),
            ("describe_route_tables", "RouteTables", "RouteTableId"),
            ("describe_key_pairs", "KeyPairs", "KeyName"),
            ("describe_volumes", "Volumes", "VolumeId"),
        ):
            found += [{"type": key, "id": x[ident]} for x in getattr(ec2, call)(Filters=flt)[key]]
        s3 = self.client("s3")
        found += [
            {"type": "bucket", "id": b["Name"]}
            for b in s3.list_buckets()["Buckets"]
            if b["Name"].startswith(f"sparklab-{cluster}-")
        ]
        return found


class _CheckIp(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.send_response(200)
        self.end_headers()
        self.wfile.write(f"{DETECTED_IP}\n".encode())

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture(scope="session")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsLab]:
    emulator = Emulator(regions=(REGION,))
    emulator.start()
    proxy = StrictProxy(upstream=emulator.endpoint_url, region=REGION)
    proxy.start()
    checkip = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CheckIp)
    threading.Thread(target=checkip.serve_forever, daemon=True).start()
    home = tmp_path_factory.mktemp("sparklab-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_", "SPARKLAB_"))}
    env.update(emulator.client_env())
    env.update(
        {
            "AWS_ENDPOINT_URL": proxy.url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_RETRY_MODE": "standard",
            "AWS_MAX_ATTEMPTS": "10",
            "SPARKLAB_HOME": str(home),
            "SPARKLAB_CHECKIP_URL": f"http://127.0.0.1:{checkip.server_address[1]}/",
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    yield AwsLab(emulator, proxy, env, home)
    checkip.shutdown()
    proxy.stop()
    emulator.stop()
