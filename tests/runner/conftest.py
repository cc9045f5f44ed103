"""Fixtures for the runner.py tests: a moto emulator, a fake what-is-my-IP service, and sandboxes
that run runner.py as a user would (a subprocess of the virtualenv's Python).

Every network endpoint the tests use listens on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_services import checkip_service
from runner_sandbox import CALLER_ADDRESS, FAKE_ACCESS_KEY, FAKE_SECRET, REGION, Sandbox, base_env

from sparklab.cluster.emulator import Emulator


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator(regions=(REGION,)) as emu:
        yield emu


@pytest.fixture(scope="session")
def checkip_url() -> Iterator[str]:
    with checkip_service(CALLER_ADDRESS) as url:
        yield url


@pytest.fixture
def offline(tmp_path: Path) -> Sandbox:
    """No credentials and no endpoint at all: like a fresh laptop without an AWS account."""
    return Sandbox(tmp_path, base_env(tmp_path))


@pytest.fixture
def with_aws(tmp_path: Path, emulator: Emulator, checkip_url: str) -> Sandbox:
    """Fake credentials in the environment, botocore pointed at the emulator."""
    env = base_env(tmp_path)
    env.update({
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
        "SPARKLAB_CHECKIP_URL": checkip_url,
    })
    # The emulator's site folder, as `plan` uses it: two amazon.aws modules' fixed consistency pauses
    # (5 s after a route table change, 3 s after a new security group) take 0.05 s; every API call
    # and retry stays (sparklab/cluster/emulator.py; SPARKLAB_EMULATOR_KEEP_PAUSES=1 keeps them).
    env.update({k: v for k, v in emulator.playbook_env().items() if k == "PYTHONPATH"})
    return Sandbox(tmp_path, env)
