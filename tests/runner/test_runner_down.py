"""``down`` shows what it will delete (by type, with counts and names or ids) before it asks, and with --yes.

The real runner.py against moto with a cluster seeded with the provision roles' tags
(tests/helpers/seeded_cluster.py). The prompt is answered in a real terminal (tmux).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_services import tagged_resources
from runner_sandbox import REGION, RUNNER, Sandbox
from seeded_cluster import CALLER_ARN, SeededCluster, seed_cluster

from sparklab.emulator import Emulator

TMUX = shutil.which("tmux")


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


def _screen(name: str) -> str:
    return subprocess.run([TMUX, "capture-pane", "-p", "-J", "-t", name], capture_output=True, text=True,
                          check=True).stdout


def _wait(name: str, text: str, timeout: float = 120) -> str:
    deadline = time.time() + timeout
    screen = _screen(name)
    while text not in screen and time.time() < deadline:
        time.sleep(0.3)
        screen = _screen(name)
    assert text in screen, screen
    return screen


def test_down_in_a_terminal_lists_what_it_will_delete_before_asking(with_aws: Sandbox, seeded,
                                                                    emulator, tmp_path: Path) -> None:
    assert TMUX, "tmux is needed for the terminal test (scripts/test.sh installs it)"
    before = tagged_resources(emulator.endpoint_url, REGION, seeded.name)
    session = f"sparklab-down-{tmp_path.name}"[:60]
    env = [arg for key, value in with_aws.env.items() if key.startswith(("AWS_", "SPARKLAB_", "HOME", "PATH"))
           for arg in ("-e", f"{key}={value}")]
    command = (f"cd {with_aws.root} && {sys.executable} {RUNNER} down --name {seeded.name}; "
               "echo down-exit=$?; sleep 600")
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", "250", "-y", "40", *env, command],
                   check=True)
    try:
        screen = _wait(session, "Type the cluster name to confirm:")
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
        subprocess.run([TMUX, "send-keys", "-t", session, "not-it", "Enter"], check=True)
        screen = _wait(session, "down-exit=")
        assert "not confirmed; nothing was deleted" in screen and "down-exit=2" in screen
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True, check=False)
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
