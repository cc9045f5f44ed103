"""The one price table gives the same estimate through Ansible (the filter) and the front end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sparklab.cluster import costs
from sparklab.config.load import schema

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = Path(sys.executable).parent / "ansible"


def filter_through_ansible(expression: str) -> Any:
    """Evaluate ``expression`` (a Jinja expression) with the collection's filters in an ad-hoc run."""
    if not ANSIBLE.exists():
        pytest.fail(f"{ANSIBLE} not found: run the tests with the project's virtualenv")
    env = dict(
        os.environ,
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_NOCOLOR="1",
    )
    proc = subprocess.run(
        [
            str(ANSIBLE),
            "localhost",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-m",
            "ansible.builtin.debug",
            "-a",
            f"msg={{{{ {expression} | to_json }}}}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return json.loads(result["msg"])


def test_filter_and_front_end_give_the_same_hourly_cost_for_the_defaults() -> None:
    defaults = {name: key.default for name, key in schema().SCHEMA.items()}
    assert (defaults["cluster_control_plane_instance_type"], defaults["cluster_worker_instance_type"]) == (
        "t3.medium",
        "t3.large",
    )
    assert (defaults["cluster_worker_count"], defaults["cluster_root_volume_gib"]) == (2, 30)
    # As the provisioning summary calls it: one instance type per node.
    through_ansible = filter_through_ansible(
        "['t3.medium', 't3.large', 't3.large'] | sparklab.cluster.hourly_cost(30)"
    )
    front_end = costs.estimate_for_config(defaults)

    assert through_ansible["usd_per_hour"] == pytest.approx(front_end.usd_per_hour, abs=1e-12)
    assert through_ansible["usd_per_hour"] > 0
    assert through_ansible["unpriced"] == [] and front_end.unknown == ()
    assert through_ansible["nodes"] == 3
    # Independent arithmetic: instances + 3 gp3 volumes of 30 GiB + 3 public IPv4 addresses.
    by_hand = 0.0456 + 2 * 0.0912 + 3 * (30 * 0.088 / 730) + 3 * 0.005
    assert front_end.usd_per_hour == pytest.approx(by_hand)


def test_unknown_instance_type_is_reported_as_unpriced_by_both_paths() -> None:
    through_ansible = filter_through_ansible(
        "{'t3.medium': 1, 'x9.huge': 2} | sparklab.cluster.hourly_cost(30)"
    )
    front_end = costs.estimate({"t3.medium": 1, "x9.huge": 2}, 30)

    assert through_ansible["unpriced"] == ["x9.huge"]
    assert front_end.unknown == ("x9.huge instance",)
    assert through_ansible["usd_per_hour"] == pytest.approx(front_end.usd_per_hour, abs=1e-12)
    # The unknown type counts as 0; its volumes and addresses are still priced.
    assert front_end.usd_per_hour == pytest.approx(0.0456 + 3 * (30 * 0.088 / 730) + 3 * 0.005)
    assert any("not priced here: x9.huge" in row for row in front_end.table())
