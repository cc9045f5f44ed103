"""``runner.py list`` and ``status -o json``: the real runner.py against moto, two clusters in two regions.

The clusters are seeded straight into moto with the tags the provision roles set
(tests/helpers/seeded_cluster.py); ``list`` finds them by the ``sparklab:cluster`` tag, without a
``cluster.yml``. The terminal table is read from a real terminal (tmux).
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_sandbox import REGION, RUNNER, Sandbox
from seeded_cluster import SeededCluster, seed_cluster
from terminal import Terminal

from sparklab.cluster.emulator import Emulator

OTHER_REGION = "us-east-1"
SERIAL = itertools.count(1)
ALICE = "arn:aws:sts::123456789012:assumed-role/lab/alice@example.com"
BOB = "arn:aws:iam::123456789012:user/bob"
EXPIRES = "2099-01-01T00:00:00Z"


@pytest.fixture
def two_clusters(emulator: Emulator) -> Iterator[tuple[SeededCluster, SeededCluster]]:
    """``lst-here<n>`` (1 control plane + 2 workers) in eu-west-1, ``lst-there<n>`` (1 + 1) in us-east-1;
    new names for each test, since moto keeps the tags of terminated instances."""
    n = next(SERIAL)
    here = seed_cluster(emulator.endpoint_url, REGION, emulator.current_ami(REGION), f"lst-here{n}",
                        creator=ALICE, workers=2, expires_at=EXPIRES)
    image = emulator.publish_newer_ubuntu_ami(OTHER_REGION)
    there = seed_cluster(emulator.endpoint_url, OTHER_REGION, image, f"lst-there{n}", creator=BOB, workers=1,
                         expires_at="never")
    yield here, there
    here.remove()
    there.remove()


def _rows(stdout: str) -> dict[str, list[str]]:
    """The table's rows by cluster name, split on runs of two or more spaces."""
    return {cells[0]: cells for cells in (re.split(r"\s{2,}", line.strip()) for line in stdout.splitlines())
            if cells and cells[0] not in ("", "NAME")}


def test_list_finds_the_clusters_of_the_region_by_tag_without_cluster_yml(with_aws: Sandbox,
                                                                         two_clusters) -> None:
    HERE, THERE = (c.name for c in two_clusters)
    assert not (with_aws.root / "cluster.yml").exists()
    result = with_aws.run("list", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["NAME", "REGION", "NODES", "OWNER", "EXPIRES", "COST/HOUR"]
    readme = (Path(RUNNER).parent / "README.md").read_text()
    assert "a table `NAME  REGION  NODES  OWNER  EXPIRES  COST/HOUR`" in readme  # the README's command table
    rows = _rows(result.stdout)
    assert THERE not in rows, "a cluster of another region is listed without --all-regions"
    name, region, nodes, owner, expires, cost = rows[HERE]
    assert (name, region, nodes, owner) == (HERE, REGION, "3/3", ALICE)
    assert expires.startswith(f"{EXPIRES} (in ") and cost.startswith("$")
    # 1 t3.medium + 2 t3.large with 30 GiB gp3 and a public IPv4 each, at the eu-west-1 list prices.
    assert float(cost[1:]) > 0.2
    assert re.search(rf"^\d+ clusters? in {REGION}, about \$[\d.]+ per hour in all \(approximate ",
                     result.stdout, re.M)

    other = with_aws.run("list", "--aws-region", OTHER_REGION, timeout=120)
    assert other.returncode == 0, other.stdout + other.stderr
    assert HERE not in _rows(other.stdout)
    assert _rows(other.stdout)[THERE][1:4] == [OTHER_REGION, "2/2", BOB]
    assert _rows(other.stdout)[THERE][4] == "never"


@pytest.mark.slow  # moto sets up every region on its first call: about a minute here
def test_list_all_regions_json_has_the_documented_keys(with_aws: Sandbox, two_clusters) -> None:
    here, there = two_clusters
    HERE, THERE = here.name, there.name
    result = with_aws.run("list", "--all-regions", "-o", "json", timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"regions", "clusters", "errors"}
    assert {REGION, OTHER_REGION} <= set(data["regions"]) and len(data["regions"]) > 10
    assert data["errors"] == {}
    found = {c["name"]: c for c in data["clusters"] if c["name"] in (HERE, THERE)}
    assert set(found) == {HERE, THERE}, data["clusters"]
    keys = {"name", "region", "owner", "nodes", "nodes_running", "expires_at", "usd_per_hour", "resources"}
    assert all(set(c) == keys for c in data["clusters"])
    assert found[HERE] | {"usd_per_hour": 0} == {
        "name": HERE, "region": REGION, "owner": ALICE, "nodes": 3, "nodes_running": 3, "expires_at": EXPIRES,
        "usd_per_hour": 0, "resources": len(here.tagged_ids())}
    assert found[THERE]["region"] == OTHER_REGION and found[THERE]["owner"] == BOB
    assert found[THERE]["nodes"] == 2 and found[THERE]["expires_at"] == "never"
    assert 0 < found[THERE]["usd_per_hour"] < found[HERE]["usd_per_hour"]


def test_status_json_has_the_documented_keys_and_text_is_unchanged(with_aws: Sandbox, two_clusters) -> None:
    here, _ = two_clusters
    HERE = here.name
    result = with_aws.run("status", "--name", HERE, "-o", "json", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"cluster", "region", "resources", "expires_at", "owner", "usd_per_hour",
                         "usd_so_far", "readiness", "nodes", "other"}
    tagged = here.tagged_ids()
    assert (data["cluster"], data["region"], data["owner"]) == (HERE, REGION, ALICE)
    assert data["resources"] == len(tagged) == len(data["nodes"]) + len(data["other"])
    assert {n["instance_id"] for n in data["nodes"]} | {o["id"] for o in data["other"]} == tagged
    assert data["expires_at"] == EXPIRES and data["usd_per_hour"] > 0.2
    assert {n["name"]: n["instance_id"] for n in data["nodes"]} == here.nodes
    assert all(set(n) == {"name", "instance_id", "instance_type", "role", "state", "public_ip", "private_ip",
                          "launched", "expires_at", "timer_armed_for", "timer_source", "timer_note"}
               for n in data["nodes"])
    # with_aws is an emulator: no node address is contacted, every timer comes from the user data
    assert {(n["timer_source"], n["timer_note"]) for n in data["nodes"]} == {
        ("user data", "nodes are not contacted under an AWS emulator")}
    kinds = [o["type"] for o in data["other"]]
    assert kinds.count("volume") == 3 and {"vpc", "subnet", "security-group"} <= set(kinds)
    assert data["readiness"].startswith("readiness unknown: no kubeconfig")
    text = with_aws.run("status", "--name", HERE, timeout=120)
    assert text.returncode == 0 and not text.stdout.lstrip().startswith("{")
    assert text.stdout.startswith(f"cluster {HERE} in {REGION}: {len(tagged)} resources\n")
    assert f"expires at: {EXPIRES} (in " in text.stdout and "cost now: about $" in text.stdout


def test_list_table_in_a_terminal(with_aws: Sandbox, two_clusters, tmp_path: Path) -> None:
    """``list`` in a real terminal (tmux): the header, one aligned row per cluster, the total line."""
    HERE, THERE = (c.name for c in two_clusters)
    env = {key: value for key, value in with_aws.env.items()
           if key.startswith(("AWS_", "SPARKLAB_", "HOME", "PATH"))}
    with Terminal(f"sparklab-list-{tmp_path.name}", f"{sys.executable} {RUNNER} list", width=200, height=20,
                  cwd=with_aws.root, env=env) as term:
        code, screen = term.wait_exit()
        assert code == 0, screen
        lines = [line for line in screen.splitlines() if line.strip()]
        header = next(line for line in lines if line.startswith("NAME"))
        row = next(line for line in lines if line.startswith(HERE))
        # Columns aligned: each header word starts where its value starts in the row.
        for column, value in (("REGION", REGION), ("NODES", "3/3"), ("OWNER", ALICE), ("EXPIRES", EXPIRES)):
            assert header.index(column) == row.index(value), (header, row)
        assert THERE not in screen
        assert re.search(rf"^\d+ clusters? in {REGION}, about \$", screen, re.M), screen
