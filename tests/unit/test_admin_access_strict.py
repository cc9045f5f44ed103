"""World access is read strictly, computed keys cannot be set, and a wide public admin range is warned
about: the filter the security-group role applies, the shared validator, and the playbooks' check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from collection_finder import ensure_checkout_collections

from sparklab.config.load import load, schema
from sparklab.core.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]


def _problem(cidrs: list[str], allow_world: object) -> str:
    ensure_checkout_collections()
    from ansible_collections.sparklab.cluster.plugins.filter.aws_cidrs import aws_admin_cidr_problem

    return aws_admin_cidr_problem(cidrs, allow_world)


@pytest.mark.parametrize("allow_world", [False, "false", "False", "no", "off", "0"])
def test_world_access_given_as_the_string_false_is_false(allow_world: object) -> None:
    assert "whole internet" in _problem(["0.0.0.0/0"], allow_world)


@pytest.mark.parametrize("allow_world", ["maybe", "", None, 2, ["true"]])
def test_world_access_that_is_not_a_boolean_is_a_problem(allow_world: object) -> None:
    assert "cluster_allow_world_admin_access is" in _problem(["0.0.0.0/0"], allow_world)


def test_world_access_true_still_opens_the_world() -> None:
    assert _problem(["0.0.0.0/0"], "true") == "" and _problem(["0.0.0.0/0"], True) == ""


@pytest.mark.parametrize("key", ["cluster_admin_cidrs_effective", "cluster_state_dir", "cluster_home"])
def test_a_computed_key_in_cluster_yml_is_refused_in_one_line(tmp_path: Path, key: str) -> None:
    config = tmp_path / "cluster.yml"
    config.write_text(f"cluster_name: demo\n{key}: ['0.0.0.0/0']\n", encoding="utf-8")
    with pytest.raises(BadInput) as err:
        load(str(config), environ={"SPARKLAB_HOME": str(tmp_path)})
    message = str(err.value)
    assert message.startswith(f"{key}: is computed by sparklab and cannot be set") and "\n" not in message


def test_a_computed_key_given_to_the_playbooks_is_refused(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,", "-c", "local",
         "-m", "sparklab.cluster.cluster_config", "-a", '{"detect_admin_cidr": false}',
         "-e", "cluster_name=demo",
         "-e", json.dumps({"cluster_admin_cidrs_effective": ["0.0.0.0/0"]})],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path), "SPARKLAB_HOME": str(tmp_path),
             "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
    )
    assert proc.returncode != 0
    assert "cluster_admin_cidrs_effective: is computed by sparklab and cannot be set" in proc.stdout


@pytest.mark.parametrize(
    ("cidrs", "warned"),
    [(["11.0.0.0/8"], True), (["198.18.0.0/15", "203.0.113.7/32"], False), (["52.0.0.0/14"], True),
     (["10.0.0.0/8"], False), (["81.2.0.0/16"], False), (["203.0.113.7/32"], False)],
)
def test_a_wide_public_admin_range_is_warned_about(cidrs: list[str], warned: bool) -> None:
    _, warnings = schema().validate({"cluster_name": "demo", "cluster_admin_cidrs": cidrs}, {})
    wide = [w for w in warnings if w.startswith("cluster_admin_cidrs: ") and "public range" in w]
    assert bool(wide) == warned, warnings
    if warned:
        assert cidrs[0] in wide[0]
