"""Local AWS emulator for tests and `runner.py plan`.

Starts moto's server in a background thread on a free 127.0.0.1 port and seeds what sparklab
looks up on real AWS: Canonical's Ubuntu 24.04 and 22.04 amd64 images (owner 099720109477) and
the public SSM parameters that point at the current 24.04 and 22.04 images. Nothing here talks
to the internet.

Usage::

    with Emulator(regions=("eu-west-1",)) as emu:
        env = emu.client_env()          # AWS_ENDPOINT_URL and fake credentials
        emu.publish_newer_ubuntu_ami("eu-west-1")   # simulate a new Canonical release
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CANONICAL_OWNER_ID = "099720109477"
ACCOUNT_ID = "123456789012"
DEFAULT_REGIONS = ("eu-west-1", "us-east-1")
SSM_UBUNTU_PARAMETERS = {
    "24.04": "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
    "22.04": "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
}
_CODENAMES = {"24.04": "noble", "22.04": "jammy"}
_VOLUME_KIND = {"24.04": "hvm-ssd-gp3", "22.04": "hvm-ssd"}
# Folder whose sitecustomize.py shortens two amazon.aws modules' fixed pauses (see its docstring);
# SPARKLAB_EMULATOR_KEEP_PAUSES=1 keeps them (bench/bench_plan.py compares both).
SITE_DIR = Path(__file__).resolve().parent / "emulator_site"
KEEP_PAUSES_ENV = "SPARKLAB_EMULATOR_KEEP_PAUSES"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    """A moto server on 127.0.0.1 seeded with Ubuntu images and SSM parameters."""

    regions: Iterable[str] = DEFAULT_REGIONS
    host: str = "127.0.0.1"
    port: int = 0
    _server: Any = field(default=None, init=False, repr=False)
    _serial: int = field(default=0, init=False, repr=False)
    amis: dict[tuple[str, str], str] = field(default_factory=dict, init=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Start the server, seed it, and return its endpoint URL."""
        from moto.server import ThreadedMotoServer

        if self.host not in ("127.0.0.1", "localhost"):
            raise ValueError("the emulator listens on 127.0.0.1 only")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto would otherwise load thousands of Amazon's own images into each region; sparklab
        # looks up only the Canonical images seeded below.
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        self.port = self.port or free_port(self.host)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        self.regions = tuple(self.regions)
        for region in self.regions:
            for release in SSM_UBUNTU_PARAMETERS:
                self.publish_newer_ubuntu_ami(region, release)
        return self.endpoint_url

    def stop(self) -> None:
        """Stop the server; its state is discarded with the process-wide moto backends."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Forget every resource, then seed the images again."""
        import requests

        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10)
        self.amis.clear()
        for region in self.regions:
            for release in SSM_UBUNTU_PARAMETERS:
                self.publish_newer_ubuntu_ami(region, release)

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client_env(self) -> dict[str, str]:
        """Environment variables that point botocore (and Ansible's AWS modules) at the emulator."""
        env = dict(FAKE_CREDENTIALS)
        env["AWS_ENDPOINT_URL"] = self.endpoint_url
        return env

    def playbook_env(self) -> dict[str, str]:
        """Environment for a playbook run against the emulator (no credentials: they come apart).

        The AWS endpoint, with the user's per-service endpoint overrides pointed here too, and the
        folder that shortens the fixed consistency pauses of two AWS modules (``SITE_DIR``).
        """
        env = {"AWS_ENDPOINT_URL": self.endpoint_url}
        env.update({k: self.endpoint_url for k in os.environ if k.startswith("AWS_ENDPOINT_URL_")})
        if os.environ.get(KEEP_PAUSES_ENV) != "1":
            env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(SITE_DIR), os.environ.get("PYTHONPATH"))))
        return env

    def publish_newer_ubuntu_ami(self, region: str, release: str = "24.04") -> str:
        """Register a new Canonical image and point the release's SSM parameter at it."""
        self._serial += 1
        ami_id = self._register_ami(region, release, self._serial)
        self._put_reserved_parameter(region, SSM_UBUNTU_PARAMETERS[release], ami_id)
        self.amis[(region, release)] = ami_id
        return ami_id

    def current_ami(self, region: str, release: str = "24.04") -> str:
        return self.amis[(region, release)]

    def _register_ami(self, region: str, release: str, serial: int) -> str:
        from moto.ec2.models import ec2_backends
        from moto.ec2.models.amis import Ami

        backend = ec2_backends[ACCOUNT_ID][region]
        digest = hashlib.sha256(f"{region}/{release}/{serial}".encode()).hexdigest()
        ami_id = f"ami-{digest[:17]}"
        stamp = datetime.now(UTC).strftime("%Y%m%d") + f".{serial}"
        name = (
            f"ubuntu/images/{_VOLUME_KIND[release]}/"
            f"ubuntu-{_CODENAMES[release]}-{release}-amd64-server-{stamp}"
        )
        backend.amis[ami_id] = Ami(
            backend,
            ami_id=ami_id,
            name=name,
            description=f"Canonical, Ubuntu, {release} LTS, amd64 {_CODENAMES[release]} image",
            owner_id=CANONICAL_OWNER_ID,
            public=True,
            virtualization_type="hvm",
            architecture="x86_64",
            root_device_type="ebs",
            root_device_name="/dev/sda1",
            region_name=region,
            boot_mode="uefi-preferred",
        )
        return ami_id

    @staticmethod
    def _put_reserved_parameter(region: str, name: str, value: str) -> None:
        # Names under /aws/service/ are reserved: the PutParameter API refuses them, so the
        # parameter is written straight into the backend, as AWS itself would publish it.
        from moto.ssm.models import Parameter, ssm_backends

        params = ssm_backends[ACCOUNT_ID][region]._parameters
        versions = params[name]
        versions.append(
            Parameter(
                account_id=ACCOUNT_ID,
                name=name,
                value=value,
                parameter_type="String",
                description=None,
                allowed_pattern=None,
                keyid=None,
                last_modified_date=datetime.now(UTC).timestamp(),
                version=len(versions) + 1,
                data_type="aws:ec2:image",
            )
        )


def main() -> None:  # pragma: no cover - manual helper
    """Run the emulator in the foreground: `python -m sparklab.cluster.emulator`."""
    import time

    emu = Emulator(port=int(os.environ.get("SPARKLAB_EMULATOR_PORT", "0")))
    print(emu.start(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emu.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
