"""Fixtures for the runner.py tests: a moto emulator, a fake what-is-my-IP service, and a helper
that runs runner.py as a user would (a subprocess of the virtualenv's Python).

Every network endpoint the tests use listens on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # the sparklab package lives at the repository root
    sys.path.insert(0, str(REPO))

from sparklab.emulator import Emulator  # noqa: E402

RUNNER = REPO / "runner.py"
REGION = "eu-west-1"
# Recognisable fake credentials: the secret scan looks for these exact strings.
FAKE_ACCESS_KEY = "AKIASPARKLABFAKE7Q2Z"
FAKE_SECRET = "sparklabFAKEsecret/k3Y+DoNotLeak0123456789"
CALLER_ADDRESS = "198.51.100.7"
# Variables that would let a test reach a real AWS account or change the identity used.
_USER_AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                  "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                  "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                  "AWS_CONTAINER_CREDENTIALS_FULL_URI")


class _CheckIp(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = f"{CALLER_ADDRESS}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator(regions=(REGION,)) as emu:
        yield emu


@pytest.fixture(scope="session")
def checkip_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CheckIp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@dataclass
class Sandbox:
    """A user's machine in miniature: its own HOME and SPARKLAB_HOME under tmp_path."""

    root: Path
    env: dict[str, str]

    @property
    def home(self) -> Path:
        return Path(self.env["HOME"])

    @property
    def sparklab_home(self) -> Path:
        return Path(self.env["SPARKLAB_HOME"])

    def run(self, *args: str, timeout: float = 240,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(RUNNER), *args], env=self.env, cwd=self.root,
                              capture_output=True, text=True, timeout=timeout, input=stdin, check=False)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, str(RUNNER), *args], env=self.env, cwd=self.root,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)


def _base_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in _USER_AWS_VARS and not k.startswith("AWS_ENDPOINT_URL")}
    (root / "home").mkdir()
    env.update({
        "HOME": str(root / "home"),
        "SPARKLAB_HOME": str(root / "sparklab-home"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


@pytest.fixture
def offline(tmp_path: Path) -> Sandbox:
    """No credentials and no endpoint at all: like a fresh laptop without an AWS account."""
    return Sandbox(tmp_path, _base_env(tmp_path))


@pytest.fixture
def with_aws(tmp_path: Path, emulator: Emulator, checkip_url: str) -> Sandbox:
    """Fake credentials in the environment, botocore pointed at the emulator."""
    env = _base_env(tmp_path)
    env.update({
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
        "SPARKLAB_CHECKIP_URL": checkip_url,
    })
    return Sandbox(tmp_path, env)


def tagged_resources(emulator: Emulator, cluster: str) -> list[str]:
    """Every resource of ``cluster`` in the emulator, scanned independently of sparklab's code."""
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name=REGION)
    ec2 = session.client("ec2", endpoint_url=emulator.endpoint_url)
    flt = [{"Name": "tag:sparklab:cluster", "Values": [cluster]}]
    found = [f"instance {i['InstanceId']}" for r in ec2.describe_instances(Filters=flt)["Reservations"]
             for i in r["Instances"] if i["State"]["Name"] != "terminated"]
    for call, key, id_key in (("describe_vpcs", "Vpcs", "VpcId"), ("describe_subnets", "Subnets", "SubnetId"),
                              ("describe_security_groups", "SecurityGroups", "GroupId"),
                              ("describe_internet_gateways", "InternetGateways", "InternetGatewayId"),
                              ("describe_route_tables", "RouteTables", "RouteTableId"),
                              ("describe_key_pairs", "KeyPairs", "KeyName"),
                              ("describe_volumes", "Volumes", "VolumeId")):
        found += [f"{key} {item[id_key]}" for item in getattr(ec2, call)(Filters=flt)[key]]
    s3 = session.client("s3", endpoint_url=emulator.endpoint_url)
    found += [f"bucket {b['Name']}" for b in s3.list_buckets().get("Buckets", [])
              if b["Name"].startswith(f"sparklab-{cluster}-")]
    return found
