"""Render the cluster roles' templates and release data with Ansible itself, for the static tests.

One ``ansible-playbook`` run against a throw-away inventory (one control plane, two workers, all
``ansible_connection=local``) renders:

- the kubeadm configuration of ``roles/kubeadm_init`` with the role's own defaults,
- the Namespace manifest of ``roles/kube_namespace`` as ``playbooks/cluster.yml`` calls it for Flannel,
- every release data file under ``playbooks/vars/releases/`` owned by the cluster phase, as JSON,
- the node list the CSR approval and readiness roles derive from the inventory.

Nothing leaves the machine: no task talks to a host other than localhost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CLUSTER_RELEASES = ("flannel", "metrics_server", "local_path_provisioner")

# Inventory host variables as the amazon.aws.aws_ec2 plugin reports them.
SAMPLE_HOSTS = {
    "cp-1": {
        "private_ip_address": "10.42.0.10",
        "private_dns_name": "ip-10-42-0-10.eu-west-1.compute.internal",
        "public_ip_address": "203.0.113.10",
        "public_dns_name": "ec2-203-0-113-10.eu-west-1.compute.amazonaws.com",
    },
    "worker-1": {
        "private_ip_address": "10.42.0.11",
        "private_dns_name": "ip-10-42-0-11.eu-west-1.compute.internal",
        "public_ip_address": "203.0.113.11",
        "public_dns_name": "ec2-203-0-113-11.eu-west-1.compute.amazonaws.com",
    },
    "worker-2": {
        "private_ip_address": "10.42.0.12",
        "private_dns_name": "ip-10-42-0-12.eu-west-1.compute.internal",
        "public_ip_address": "203.0.113.12",
        "public_dns_name": "ec2-203-0-113-12.eu-west-1.compute.amazonaws.com",
    },
}

SAMPLE_CLUSTER_VARS = {
    "cluster_name": "render-test",
    "cluster_kubernetes_version": "1.37.1",
    "cluster_pod_cidr": "10.244.0.0/16",
    "cluster_service_cidr": "10.96.0.0/12",
}


@dataclass(frozen=True)
class Rendered:
    """Paths and parsed results of one render run."""

    kubeadm_config: Path
    kubeadm_config_overridden: Path
    flannel_namespace: Path
    releases: dict[str, dict]
    nodes: list[dict]
    cluster_vars: dict[str, str]

    def kubeadm_documents(self) -> list[dict]:
        return [d for d in yaml.safe_load_all(self.kubeadm_config.read_text()) if d]


def _inventory() -> dict:
    hosts = {
        name: {**hv, "ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        for name, hv in SAMPLE_HOSTS.items()
    }
    return {
        "all": {
            "children": {
                "cluster": {
                    "children": {
                        "control_plane": {"hosts": {"cp-1": hosts["cp-1"]}},
                        "workers": {"hosts": {"worker-1": hosts["worker-1"], "worker-2": hosts["worker-2"]}},
                    }
                }
            }
        }
    }


def _playbook(out: Path) -> str:
    release_files = "\n".join(f"    - {REPO}/playbooks/vars/releases/{r}.yml" for r in CLUSTER_RELEASES)
    release_dump = "{" + ", ".join(f"'{r}': sparklab_release_{r}" for r in CLUSTER_RELEASES) + "}"
    return textwrap.dedent(
        f"""\
        - name: Render the cluster templates
          hosts: cp-1
          gather_facts: false
          vars_files:
            - {REPO}/roles/kubeadm_init/defaults/main.yml
            - {REPO}/roles/kubeadm_init/vars/main.yml
            - {REPO}/roles/kube_namespace/defaults/main.yml
            - {REPO}/roles/kubelet_csr_approval/defaults/main.yml
        __RELEASE_FILES__
          tasks:
            - name: Render the kubeadm configuration
              ansible.builtin.template:
                src: {REPO}/roles/kubeadm_init/templates/kubeadm-config.yaml.j2
                dest: {out}/kubeadm-config.yaml
                mode: "0600"
            - name: Render the kubeadm configuration with overrides
              ansible.builtin.template:
                src: {REPO}/roles/kubeadm_init/templates/kubeadm-config.yaml.j2
                dest: {out}/kubeadm-config-overridden.yaml
                mode: "0600"
              vars:
                kubeadm_init_kubelet_configuration_overrides:
                  maxPods: 50
                  authentication:
                    webhook:
                      cacheTTL: 1m0s
                kubeadm_init_cluster_configuration_overrides:
                  networking:
                    dnsDomain: lab.internal
            - name: Render the Flannel namespace
              ansible.builtin.template:
                src: {REPO}/roles/kube_namespace/templates/namespace.yaml.j2
                dest: {out}/namespace-kube-flannel.yaml
                mode: "0600"
              vars:
                kube_namespace_name: kube-flannel
                kube_namespace_labels:
                  pod-security.kubernetes.io/enforce: privileged
            - name: Dump the release data
              ansible.builtin.copy:
                content: "{{{{ {release_dump} | to_json }}}}"
                dest: {out}/releases.json
                mode: "0600"
            - name: Dump the node list derived from the inventory
              ansible.builtin.copy:
                content: "{{{{ kubelet_csr_approval_nodes | to_json }}}}"
                dest: {out}/nodes.json
                mode: "0600"
        """
    ).replace("__RELEASE_FILES__\n", release_files + "\n")


def render(workdir: Path) -> Rendered:
    """Run ansible-playbook once and return what it rendered into ``workdir``."""
    out = workdir / "out"
    out.mkdir(parents=True, exist_ok=True)
    inventory = workdir / "inventory.yml"
    inventory.write_text(yaml.safe_dump(_inventory()))
    playbook = workdir / "render.yml"
    playbook.write_text(_playbook(out))
    extra = workdir / "cluster.json"
    extra.write_text(json.dumps(SAMPLE_CLUSTER_VARS))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
    }
    ansible_playbook = Path(sys.executable).with_name("ansible-playbook")
    proc = subprocess.run(
        [str(ansible_playbook), "-i", str(inventory), "-e", f"@{extra}", str(playbook)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"ansible-playbook failed:\n{proc.stdout}\n{proc.stderr}")
    return Rendered(
        kubeadm_config=out / "kubeadm-config.yaml",
        kubeadm_config_overridden=out / "kubeadm-config-overridden.yaml",
        flannel_namespace=out / "namespace-kube-flannel.yaml",
        releases=json.loads((out / "releases.json").read_text()),
        nodes=json.loads((out / "nodes.json").read_text()),
        cluster_vars=dict(SAMPLE_CLUSTER_VARS),
    )
