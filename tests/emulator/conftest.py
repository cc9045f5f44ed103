"""Fixtures: one moto server per test session, the strict proxy in front of it, and a playbook runner.

Everything listens on 127.0.0.1; the admin-address detection is pointed at a local stub.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from awslab import DETECTED_IP, REGION, ROOT, AwsLab
from local_services import checkip_service
from strict_proxy import StrictProxy

from sparklab.emulator import Emulator


@pytest.fixture(scope="session")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsLab]:
    home = tmp_path_factory.mktemp("sparklab-home")
    with Emulator(regions=(REGION,)) as emulator, checkip_service(DETECTED_IP) as checkip_url:
        proxy = StrictProxy(upstream=emulator.endpoint_url, region=REGION)
        proxy.start()
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
