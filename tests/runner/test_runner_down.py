"""``down`` shows what it will delete (by type, with counts and names or ids) before it asks, and with --yes.

The real runner.py against moto with a cluster seeded with the provision roles' tags
(tests/helpers/seeded_cluster.py). The prompt is answered in a real terminal (tmux).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_services import tagged_resources
from runner_sandbox import REGION, RUNNER, Sandbox
from seeded_cluster import CALLER_ARN, SeededCluster, seed_cluster
from terminal import Terminal

from sparklab.cluster.emulator import Emulator


@pytest.fixture
def seeded(emulator: Emulator, request: pytest.FixtureRequest) -> Iterator[SeededCluster]:
    name = "dn-" + ("ask" if "terminal" in request.node.name else "yes")
    cluster = seed_cluster(emulator.endpoint_url, REGION, emulator.current_ami(REGION), name,
                           creator=CALLER_ARN, workers=2)
    yield cluster
    cluster.remove()


def _preview(cluster: SeededCluster, total: int) -> list[str]:
    """The lines ``down`` must print first: instances by name and id, then each type with its ids."""
    nodes = ", ".join(f"{name} ({iid})" for name, iid in sorted(
        cluster.nodes.items(), key=lambda kv: ("control-plane" not in kv[0], kv[0])))
    return [f"down will delete {total} resources of cluster {cluster.name} in {REGION}:",
            f"  3 instance: {nodes}",
            f"  1 vpc: {cluster.ids['vpc']}",
            f"  1 subnet: {cluster.ids['subnet']}",
            f"  1 security-group: {cluster.ids['security-group']}"]


def test_down_in_a_terminal_lists_what_it_will_delete_before_asking(with_aws: Sandbox, seeded,
                                                                    emulator, tmp_path: Path) -> None:
    before = tagged_resources(emulator.endpoint_url, REGION, seeded.name)
    env = {key: value for key, value in with_aws.env.items()
           if key.startswith(("AWS_", "SPARKLAB_", "HOME", "PATH"))}
    command = f"{sys.executable} {RUNNER} down --name {seeded.name}"
    with Terminal(f"sparklab-down-{tmp_path.name}", command, width=250, height=40, cwd=with_aws.root,
                  env=env, join=True) as term:
        screen = term.wait("Type the cluster name to confirm:")
        lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
        start = next(i for i, line in enumerate(lines) if line.startswith("down will delete "))
        total = int(lines[start].split()[3])
        expected = _preview(seeded, total)
        # The header, then one line per type, then the prompt (the last line on the screen).
        assert lines[start:start + 2] == expected[:2]
        by_type = lines[start + 1:-1]
        assert set(expected[2:]) <= set(by_type), by_type
        assert all(re.match(r"  \d+ [a-z0-9-]+: \S", line) for line in by_type), by_type
        assert sum(int(line.split()[0]) for line in by_type) == total  # every resource counted is named
        assert lines[-1].startswith(f"Delete every AWS resource tagged sparklab:cluster={seeded.name} ")
        term.send("not-it", "Enter")
        code, screen = term.wait_exit()
        assert "not confirmed; nothing was deleted" in screen and code == 2, screen
    assert tagged_resources(emulator.endpoint_url, REGION, seeded.name) == before


@pytest.mark.slow
def test_down_yes_prints_what_it_will_delete_then_deletes_it(with_aws: Sandbox, seeded, emulator) -> None:
    result = with_aws.run("down", "--yes", "--name", seeded.name, "-e", "aws_teardown_delay=1", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("down will delete "))
    total = int(lines[start].split()[3])
    expected = _preview(seeded, total)
    assert lines[start:start + 2] == expected[:2]
    assert all(line in lines for line in expected[2:])
    # The preview comes before the teardown starts.
    assert start < next(i for i, line in enumerate(lines) if line.startswith(f"down: cluster {seeded.name}"))
    assert lines[-1] == "0 resources left"
    assert tagged_resources(emulator.endpoint_url, REGION, seeded.name) == []
