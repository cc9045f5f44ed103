"""A cluster's local state is kept per name and region, and a region where nothing is found names the
region(s) where this machine's state says the cluster lives.

A cluster "demo" provisioned in eu-west-1 from this machine, then `down` or `status` with
`--aws-region us-east-1`: the scan there finds nothing, which used to print "0 resources left",
exit 0, and nothing else, while the cluster kept running in eu-west-1. The state folder was one per
name, so a second region of the same name was refused. Now `<name>/` belongs to the region its
`region` file records (state written before that file existed takes it from its newest provisioning
run, and gets the file), another region of the same name has `<name>@<region>/` beside it, and a
scan that finds nothing names the other regions this machine keeps state for.
"""

from __future__ import annotations

import json

import pytest
from runner_sandbox import REGION, Sandbox

from sparklab.cluster.emulator import SSM_UBUNTU_PARAMETERS

NO_SSH = ("-e", "aws_instances_wait_for_ssh=false")
ELSEWHERE = ("this machine's state has cluster demo in eu-west-1, not in us-east-1 "
             "(fix: --aws-region eu-west-1 to reach it there)")


def _recorded(sandbox: Sandbox) -> None:
    state = sandbox.sparklab_home / "demo"
    state.mkdir(parents=True, mode=0o700)
    (state / "region").write_text("eu-west-1\n")


def _legacy(sandbox: Sandbox) -> None:
    run = sandbox.sparklab_home / "demo" / "runs" / "20261201-101500-ab12-up"
    run.mkdir(parents=True, mode=0o700)
    given = {"cluster_name": "demo", "cluster_aws_region": "eu-west-1"}
    (run / "cluster-vars.json").write_text(json.dumps(given))


@pytest.mark.parametrize("verb", [["status"], ["down", "--yes"]])
@pytest.mark.parametrize("state", [_recorded, _legacy], ids=["recorded", "before-the-region-was-recorded"])
def test_a_region_where_nothing_is_found_names_where_this_machines_state_says_it_lives(
        with_aws: Sandbox, verb, state) -> None:
    state(with_aws)
    result = with_aws.run(*verb, "--name", "demo", "--aws-region", "us-east-1", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ELSEWHERE in result.stdout.splitlines(), result.stdout
    if verb[0] == "down":
        assert result.stdout.rstrip().endswith(f"0 resources left\n{ELSEWHERE}"), result.stdout
    # The eu-west-1 folder is untouched (an older one now records its region); us-east-1 has its own.
    first = with_aws.sparklab_home / "demo"
    assert (first / "region").read_text() == "eu-west-1\n"
    assert not (first / "audit.log").exists() and not (first / "lock").exists()
    if verb[0] == "down":
        assert "region=us-east-1" in (with_aws.sparklab_home / "demo@us-east-1" / "audit.log").read_text()


def test_the_recorded_region_uses_its_folder_and_names_no_other(with_aws: Sandbox) -> None:
    _recorded(with_aws)
    result = with_aws.run("status", "--name", "demo", "--aws-region", "eu-west-1", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cluster demo in eu-west-1: 0 resources" in result.stdout
    assert "this machine's state has" not in result.stdout


@pytest.mark.slow
@pytest.mark.xdist_group("runner-provision")
def test_one_name_in_two_regions_keeps_two_state_folders_side_by_side(with_aws: Sandbox, emulator) -> None:
    """`provision` of one name in two regions: each region's key pair, known_hosts and runs in its own
    folder, each AWS key pair made from its own folder's key; `down` of one leaves the other's state."""
    import boto3

    for release in SSM_UBUNTU_PARAMETERS:
        emulator.publish_newer_ubuntu_ami("us-east-1", release)
    home = with_aws.sparklab_home
    folders = {REGION: home / "twin", "us-east-1": home / "twin@us-east-1"}
    for region in folders:
        up = with_aws.run("provision", "--name", "twin", "--worker-count", "0", "--aws-region", region,
                          *NO_SSH)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr
    for region, folder in folders.items():
        assert (folder / "region").read_text() == f"{region}\n"
        assert [r.name.split("-")[-1] for r in (folder / "runs").iterdir()] == ["provision"]
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=emulator.endpoint_url,
                           aws_access_key_id="x", aws_secret_access_key="x")
        pairs = ec2.describe_key_pairs(Filters=[{"Name": "tag:sparklab:cluster", "Values": ["twin"]}])
        public = (folder / "id_ed25519.pub").read_text().split()[1]
        # By name: moto's DescribeKeyPairs ignores KeyPairIds and would answer with every key pair in
        # the region, including other tests' on the emulator this worker shares.
        made = ec2.describe_key_pairs(KeyNames=[pairs["KeyPairs"][0]["KeyName"]], IncludePublicKey=True)
        assert len(pairs["KeyPairs"]) == len(made["KeyPairs"]) == 1, (pairs, made)
        assert public in made["KeyPairs"][0]["PublicKey"], region
    assert (folders[REGION] / "id_ed25519").read_bytes() != (folders["us-east-1"] / "id_ed25519").read_bytes()
    for region in folders:
        down = with_aws.run("down", "--yes", "--name", "twin", "--aws-region", region)
        assert down.returncode == 0, down.stdout[-3000:] + down.stderr
        assert "this machine's state has" not in down.stdout  # there was something to delete
    assert "region=us-east-1" not in (folders[REGION] / "audit.log").read_text()
