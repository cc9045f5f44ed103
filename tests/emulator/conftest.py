"""Fixtures: one moto server per test session, the strict proxy in front of it, and a playbook runner.

Everything listens on 127.0.0.1; the admin-address detection is pointed at a local stub.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from awslab import AwsLab, aws_lab


@pytest.fixture(scope="session")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsLab]:
    with aws_lab(tmp_path_factory.mktemp("sparklab-home")) as lab:
        yield lab
