"""The AWS lab of the emulator tests: moto, the strict proxy in front of it, and a playbook runner."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from local_services import tagged_resources
from strict_proxy import StrictProxy

from sparklab.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]

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

    def tagged(self, cluster: str) -> list[str]:
        """Every resource tagged with the cluster, seen directly in moto (``"<kind> <id>"``)."""
        return tagged_resources(self.emulator.endpoint_url, REGION, cluster)
