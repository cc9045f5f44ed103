"""kubeadm init and join run again after a failure, and only after a failure.

The roles kubeadm_init and kubeadm_join are executed by ansible-playbook against local hosts, with
the stand-in ``kubeadm`` and ``kubectl`` of tests/nodes/standin first on PATH. The stand-in keeps
kubeadm's file contract (what init and join write before they can fail, what reset removes, what
preflight refuses) and exit codes, from the upstream files named in it; ``/`` is a folder under
the test's tmp_path. What this proves: our guards, the reset on failure, the retry and the skip on
a completed node. What only a real node proves: that kubeadm itself behaves so (tests/e2e).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
STANDIN = Path(__file__).resolve().parent / "standin"
VENV_BIN = Path(sys.executable).parent


def _run(tmp_path: Path, name: str, play: str, inventory: dict) -> tuple[int, dict, str]:
    (tmp_path / f"{name}.yml").write_text(play)
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        "KUBEADM_STANDIN_ROOT": str(tmp_path / "root"),
        "PATH": f"{STANDIN}:{VENV_BIN}:{os.environ.get('PATH', '')}",
    }
    proc = subprocess.run(
        [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            str(tmp_path / "inventory.yml"),
            str(tmp_path / f"{name}.yml"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    start = proc.stdout.find("{")
    assert start >= 0, proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout[start:]), proc.stdout


def _calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "root" / "calls.log"
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return [" ".join(c.split()[:2]) for c in calls]


def _host_vars(tmp_path: Path, ip: str, name: str) -> dict:
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        # Connection variables outrank the roles' `become: true`: run as the test's own user.
        "ansible_become": False,
        "private_ip_address": ip,
        "private_dns_name": f"{name}.eu-west-1.compute.internal",
    }


def _inventory(tmp_path: Path) -> dict:
    return {
        "all": {
            "children": {
                "cluster": {
                    "children": {
                        "control_plane": {
                            "hosts": {"cp-1": _host_vars(tmp_path, "10.42.0.10", "ip-10-42-0-10")}
                        },
                        "workers": {
                            "hosts": {"worker-1": _host_vars(tmp_path, "10.42.0.11", "ip-10-42-0-11")}
                        },
                    }
                }
            }
        }
    }


def _init_play(tmp_path: Path) -> str:
    k8s = tmp_path / "root" / "etc" / "kubernetes"
    return textwrap.dedent(
        f"""\
        - name: Initialise the control plane
          hosts: control_plane
          gather_facts: false
          vars:
            cluster_name: guard-test
            cluster_kubernetes_version: 1.37.1
            cluster_pod_cidr: 10.244.0.0/16
            cluster_service_cidr: 10.96.0.0/12
            kubeadm_init_config_path: {tmp_path}/kubeadm-config.yaml
            kubeadm_init_admin_kubeconfig: {k8s}/admin.conf
            kubeadm_init_done_marker: {k8s}/sparklab-kubeadm-init.done
            kubeadm_init_remove_control_plane_taint: false
            kubeadm_init_api_ready_retries: 1
          roles:
            - role: {REPO}/roles/kubeadm_init
        """
    )


def _join_play(tmp_path: Path) -> str:
    k8s = tmp_path / "root" / "etc" / "kubernetes"
    return textwrap.dedent(
        f"""\
        - name: Join the workers
          hosts: workers
          gather_facts: false
          tasks:
            - name: Run the join tasks of the role
              ansible.builtin.include_role:
                name: {REPO}/roles/kubeadm_join
                tasks_from: join
              vars:
                kubeadm_join_admin_kubeconfig: {tmp_path}/admin.conf
                kubeadm_join_kubelet_kubeconfig: {k8s}/kubelet.conf
                kubeadm_join_done_marker: {k8s}/sparklab-kubeadm-join.done
                kubeadm_join_expected_nodes: [ip-10-42-0-10, ip-10-42-0-11]
        """
    )


def _fail_at(tmp_path: Path, phase: str | None) -> None:
    marker = tmp_path / "root" / "fail-at"
    marker.parent.mkdir(parents=True, exist_ok=True)
    if phase:
        marker.write_text(phase)
    else:
        marker.unlink(missing_ok=True)


def _failure_message(result: dict) -> str:
    return json.dumps(result["plays"][-1]["tasks"][-1]["hosts"])


@pytest.mark.slow
def test_failed_init_is_reset_and_retried_and_a_completed_init_is_not_repeated(tmp_path: Path) -> None:
    k8s = tmp_path / "root" / "etc" / "kubernetes"
    inventory = _inventory(tmp_path)

    _fail_at(tmp_path, "wait-control-plane")
    rc, result, _ = _run(tmp_path, "init", _init_play(tmp_path), inventory)
    assert rc != 0
    assert _calls(tmp_path) == ["kubeadm init", "kubeadm reset"]
    assert "error execution phase wait-control-plane" in _failure_message(result)
    assert "The node was reset" in _failure_message(result)
    # kubeadm wrote admin.conf before failing; the reset removed it; nothing claims success.
    assert not (k8s / "admin.conf").exists()
    assert not (k8s / "sparklab-kubeadm-init.done").exists()

    _fail_at(tmp_path, None)
    rc, result, out = _run(tmp_path, "init", _init_play(tmp_path), inventory)
    assert rc == 0, out
    assert _calls(tmp_path) == ["kubeadm init"]
    assert (k8s / "admin.conf").exists() and (k8s / "sparklab-kubeadm-init.done").exists()

    rc, result, out = _run(tmp_path, "init", _init_play(tmp_path), inventory)
    assert rc == 0, out
    assert _calls(tmp_path) == []
    assert result["stats"]["cp-1"]["changed"] == 0


@pytest.mark.slow
def test_an_interrupted_init_is_reset_before_init_runs_again(tmp_path: Path) -> None:
    """Killed during init (no rescue ran): admin.conf and the manifests are there, no record."""
    k8s = tmp_path / "root" / "etc" / "kubernetes"
    for name in ("admin.conf", "manifests/kube-apiserver.yaml"):
        (k8s / name).parent.mkdir(parents=True, exist_ok=True)
        (k8s / name).write_text("left by an interrupted init\n")
    rc, _, out = _run(tmp_path, "init", _init_play(tmp_path), _inventory(tmp_path))
    assert rc == 0, out
    # Without the reset, kubeadm's preflight refuses the existing kube-apiserver.yaml.
    assert _calls(tmp_path) == ["kubeadm reset", "kubeadm init"]
    assert (k8s / "sparklab-kubeadm-init.done").exists()


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["tls-bootstrap", "patch-node"])
def test_failed_join_is_reset_and_retried_and_a_completed_join_is_not_repeated(
    tmp_path: Path, phase: str
) -> None:
    k8s = tmp_path / "root" / "etc" / "kubernetes"
    (tmp_path / "admin.conf").write_text("control plane admin kubeconfig\n")
    inventory = _inventory(tmp_path)

    _fail_at(tmp_path, phase)
    rc, result, out = _run(tmp_path, "join", _join_play(tmp_path), inventory)
    assert rc != 0
    assert _calls(tmp_path) == ["kubeadm token", "kubeadm join", "kubeadm reset"]
    message = _failure_message(result)
    assert "error execution phase kubelet-start" in message and "The node was reset" in message
    assert "0123456789abcdef" not in out, "the join token reached the output"
    for left in ("pki/ca.crt", "bootstrap-kubelet.conf", "kubelet.conf", "sparklab-kubeadm-join.done"):
        assert not (k8s / left).exists(), left

    _fail_at(tmp_path, None)
    rc, result, out = _run(tmp_path, "join", _join_play(tmp_path), inventory)
    assert rc == 0, out
    assert _calls(tmp_path) == ["kubeadm token", "kubeadm join"]
    assert (k8s / "kubelet.conf").exists() and (k8s / "sparklab-kubeadm-join.done").exists()
    assert "0123456789abcdef" not in out, "the join token reached the output"

    rc, result, out = _run(tmp_path, "join", _join_play(tmp_path), inventory)
    assert rc == 0, out
    assert _calls(tmp_path) == [], "no token is created and no join runs on a joined node"
    assert result["stats"]["worker-1"]["changed"] == 0


@pytest.mark.slow
def test_join_files_left_by_a_killed_join_are_reset_before_joining(tmp_path: Path) -> None:
    k8s = tmp_path / "root" / "etc" / "kubernetes"
    (tmp_path / "admin.conf").write_text("control plane admin kubeconfig\n")
    for name in ("pki/ca.crt", "bootstrap-kubelet.conf"):
        (k8s / name).parent.mkdir(parents=True, exist_ok=True)
        (k8s / name).write_text("left by an interrupted join\n")
    rc, _, out = _run(tmp_path, "join", _join_play(tmp_path), _inventory(tmp_path))
    assert rc == 0, out
    assert _calls(tmp_path) == ["kubeadm token", "kubeadm reset", "kubeadm join"]
