"""The AWS lab of the emulator tests: moto, the strict proxy in front of it, and a playbook runner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from local_services import checkip_service, tagged_resources
from strict_proxy import StrictProxy

from sparklab.cluster.emulator import Emulator

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

    def client(self, service: str, via_proxy: bool = False) -> Any:
        """A boto3 client talking to moto directly (not counted by the proxy), or ``via_proxy``
        through the strict proxy, as Ansible and runner.py do."""
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.proxy.url if via_proxy else self.emulator.endpoint_url,
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


@contextmanager
def aws_lab(home: Path) -> Iterator[AwsLab]:
    """moto on 127.0.0.1, the strict proxy in front of it, a local what-is-my-IP stand-in, and the
    environment that points botocore and Ansible at them (nothing of the caller's AWS settings)."""
    with Emulator(regions=(REGION,)) as emulator, checkip_service(DETECTED_IP) as checkip_url:
        proxy = StrictProxy(upstream=emulator.endpoint_url, region=REGION)
        proxy.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_", "SPARKLAB_"))}
        env.update(emulator.client_env())
        # The folder that cuts two amazon.aws modules' fixed consistency pauses (5 s after a route
        # table change, 3 s after a new security group) to 0.05 s, as `runner.py plan` runs them
        # against the emulator; every API call, botocore's retries and Ansible's waits stay as they
        # are. SPARKLAB_EMULATOR_KEEP_PAUSES=1 keeps the pauses (sparklab/cluster/emulator.py).
        env.update({k: v for k, v in emulator.playbook_env().items() if k == "PYTHONPATH"})
        env.update(
            {
                "AWS_ENDPOINT_URL": proxy.url,
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_RETRY_MODE": "standard",
                "AWS_MAX_ATTEMPTS": "10",
                "SPARKLAB_HOME": str(home),
                "SPARKLAB_CHECKIP_URL": checkip_url,
                "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
                "ANSIBLE_DEPRECATION_WARNINGS": "0",
                "NO_PROXY": "127.0.0.1,localhost",
            }
        )
        try:
            yield AwsLab(emulator, proxy, env, home)
        finally:
            proxy.stop()
