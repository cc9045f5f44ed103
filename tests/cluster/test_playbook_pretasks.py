"""Every playbook's pre-tasks run with the roles the playbook imports, and accept a valid config.

Roles brought in with ``import_role`` are public: their defaults are play variables from the start
of the play, so the ``sparklab.cluster.cluster_config`` pre-task, which reads every ``cluster_*``
variable, sees them too. A role default whose name starts with ``cluster_`` is then reported as an
unknown configuration key and every run stops at that pre-task.

Proves about our code: with a valid configuration, the always-tagged tasks of every playbook (the
configuration check and the fact gathering) succeed next to the defaults of every imported role, on
a static inventory with the groups control_plane, workers and cluster (all hosts local), and that
no role default anywhere uses the reserved ``cluster_`` prefix. Nothing here needs a cluster.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml
from playbook_run import REPO, cluster_config, run_playbook

# site.yml imports provision, nodes, cluster and add-ons; the other three run on their own.
PLAYBOOKS = ("site.yml", "wordcount.yml", "submit.yml", "teardown.yml")
END_PLAY = {"name": "Stop after the pre-tasks", "ansible.builtin.meta": "end_play", "tags": ["always"]}


def pre_tasks_only(playbook: Path) -> list[dict]:
    """The plays of ``playbook`` (imports inlined), each ending right after its pre-tasks.

    The plays keep their vars, vars_files and tasks, so every ``import_role`` is still loaded and
    its defaults are play variables, exactly as in a full run; the role tasks just never start.
    """
    plays = []
    for play in yaml.safe_load(playbook.read_text()):
        if "ansible.builtin.import_playbook" in play:
            plays += pre_tasks_only(playbook.parent / play["ansible.builtin.import_playbook"])
            continue
        play = dict(play)
        play["vars_files"] = [str(playbook.parent / f) for f in play.get("vars_files", [])]
        play["pre_tasks"] = [*play.get("pre_tasks", []), END_PLAY]
        plays.append(play)
    return plays


def local_inventory(path: Path) -> Path:
    """control_plane (1) and workers (2) under cluster, all local, with the aws_ec2 host variables."""
    hosts = {}
    for index, name in enumerate(("cp-1", "worker-1", "worker-2")):
        hosts[name] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "private_ip_address": f"10.42.0.{10 + index}",
            "private_dns_name": f"ip-10-42-0-{10 + index}.eu-west-1.compute.internal",
            "public_ip_address": f"198.51.100.{10 + index}",
        }
    path.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "cluster": {
                            "children": {
                                "control_plane": {"hosts": {"cp-1": hosts["cp-1"]}},
                                "workers": {
                                    "hosts": {"worker-1": hosts["worker-1"], "worker-2": hosts["worker-2"]}
                                },
                            }
                        }
                    }
                }
            }
        )
    )
    return path


def test_pre_tasks_accept_a_valid_config_next_to_imported_role_defaults(tmp_path):
    inventory = local_inventory(tmp_path / "hosts.yml")
    plays = [play for name in PLAYBOOKS for play in pre_tasks_only(REPO / "playbooks" / name)]
    derived = tmp_path / "pre_tasks.yml"
    derived.write_text(yaml.safe_dump(plays, sort_keys=False))
    result = run_playbook(
        derived,
        inventory,
        cluster_config(),
        env={"SPARKLAB_HOME": str(tmp_path / "home")},
        workdir=tmp_path,
    )
    assert result.returncode == 0, result.tail()
    assert "unknown configuration key" not in result.stdout
    # Every play ran its configuration check, once per host it targets.
    assert result.stdout.count("TASK [Validate the cluster configuration]") == len(plays)
    assert result.recap and all(host["failed"] == 0 for host in result.recap.values())


def test_no_role_default_uses_the_reserved_cluster_prefix():
    """``cluster_*`` names are the user's configuration keys; role variables must not look like them."""
    offenders = []
    files = sorted(REPO.glob("roles/*/defaults/main.yml")) + sorted(REPO.glob("roles/*/vars/main.yml"))
    for defaults in files:
        for name in yaml.safe_load(defaults.read_text()) or {}:
            if re.match(r"^cluster_", name):
                offenders.append(f"{defaults.relative_to(REPO)}: {name}")
    assert offenders == []
