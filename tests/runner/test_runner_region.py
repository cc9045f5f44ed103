"""A cluster's local state names its region: down or status in another region says where it lives.

A cluster "demo" provisioned in eu-west-1 from this machine, then `down` or `status` with
`--aws-region us-east-1`: the scan there finds nothing, which used to print "0 resources left",
exit 0, while the cluster kept running in eu-west-1. Now one line names the region this machine's
state records and why a name serves one region (one state folder per name), exit 2, before any AWS
call. State written before the region was recorded
(no `region` file) is read from its newest provisioning run (`cluster-vars.json`).
"""

from __future__ import annotations

import json

import pytest
from runner_sandbox import Sandbox

EXPECTED = ("error: cluster demo: this machine's state ({state}) says it lives in eu-west-1, not us-east-1; "
            "that folder (key pair, known_hosts, kubeconfig, runs) is one per name, so from this machine a "
            "name is one cluster in one region "
            "(fix: --aws-region eu-west-1, or another --name for a cluster in us-east-1)")


def _recorded(sandbox: Sandbox) -> None:
    state = sandbox.sparklab_home / "demo"
    state.mkdir(parents=True, mode=0o700)
    (state / "region").write_text("eu-west-1\n")


def _legacy(sandbox: Sandbox) -> None:
    run = sandbox.sparklab_home / "demo" / "runs" / "20261201-101500-ab12-up"
    run.mkdir(parents=True, mode=0o700)
    given = {"cluster_name": "demo", "cluster_aws_region": "eu-west-1"}
    (run / "cluster-vars.json").write_text(json.dumps(given))


@pytest.mark.parametrize("verb", [["status"], ["down", "--yes"], ["up"], ["wordcount", "--generate", "1MB"]])
@pytest.mark.parametrize("state", [_recorded, _legacy], ids=["recorded", "before-the-region-was-recorded"])
def test_another_region_than_the_state_records_is_one_line_naming_it(with_aws: Sandbox, verb, state) -> None:
    state(with_aws)
    result = with_aws.run(*verb, "--name", "demo", "--aws-region", "us-east-1", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [EXPECTED.format(state=with_aws.sparklab_home / "demo")]
    assert "0 resources left" not in result.stdout


def test_the_recorded_region_is_accepted(with_aws: Sandbox) -> None:
    _recorded(with_aws)
    result = with_aws.run("status", "--name", "demo", "--aws-region", "eu-west-1", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cluster demo in eu-west-1: 0 resources" in result.stdout
