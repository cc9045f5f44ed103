"""runner.py as a user runs it: a sandboxed HOME and SPARKLAB_HOME, and fake, recognisable credentials."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "runner.py"
REGION = "eu-west-1"
# Recognisable fake credentials: the secret scan looks for these exact strings.
FAKE_ACCESS_KEY = "FAKEIDSPARKLAB7Q2Z00"
FAKE_SECRET = "sparklabFAKEsecret/k3Y+DoNotLeak0123456789"
CALLER_ADDRESS = "198.51.100.7"
# Variables that would let a test reach a real AWS account or change the identity used.
_USER_AWS_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


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

    def run(
        self, *args: str, timeout: float = 240, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(RUNNER), *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(RUNNER), *args],
            env=self.env,
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )


def base_env(root: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _USER_AWS_VARS and not k.startswith("AWS_ENDPOINT_URL")
    }
    (root / "home").mkdir()
    env.update(
        {
            "HOME": str(root / "home"),
            "SPARKLAB_HOME": str(root / "sparklab-home"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env
