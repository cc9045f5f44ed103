"""Static checks of the node roles: pins against independent sources, README sections.
(Role anatomy, argument specs included: tests/static/test_role_anatomy.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
NODE_ROLES = ["node_prep", "containerd", "kubernetes_packages"]


def load(path: Path):
    return yaml.safe_load(path.read_text())


# The pause image kubeadm pulls for each Kubernetes minor, from a source independent of our roles:
# kubernetes/minikube pkg/minikube/constants/constants_kubeadm_images.go (commit eb25dbc7, 2026-08-23),
# a table generated from `kubeadm config images list` of each kubeadm release, i.e. from kubeadm's
# own constants (cmd/kubeadm/app/constants/constants.go, PauseVersion): v1.36.0 -> 3.10.2 and
# v1.37.0-rc.0 (its newest 1.37 entry) -> 3.10.2. kubeadm's constants.go at v1.37.1 itself is not
# in the reference store; kubeadm changes PauseVersion only in a new minor.
KUBEADM_PAUSE_VERSION = {"1.36": "3.10.2", "1.37": "3.10.2"}


@pytest.mark.parametrize("role", NODE_ROLES)
def test_node_role_readme_says_what_only_a_real_host_exercises(role: str) -> None:
    readme = (REPO / "roles" / role / "README.md").read_text()
    assert "## What only a real host exercises" in readme
    assert "## Supported systems" in readme


def _schema_kubernetes_version() -> str:
    from sparklab.config.load import schema

    resolved, _ = schema().validate({"cluster_name": "pins"}, environ={"SPARKLAB_HOME": "/nonexistent"})
    return resolved["cluster_kubernetes_version"]


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def test_containerd_pause_image_for_the_default_minor_is_kubeadms() -> None:
    minor = _minor(_schema_kubernetes_version())
    assert minor in KUBEADM_PAUSE_VERSION, f"cite kubeadm's pause version for {minor} in this test"
    pauses = load(REPO / "roles" / "containerd" / "vars" / "main.yml")["__containerd_pause_versions"]
    assert pauses[minor] == KUBEADM_PAUSE_VERSION[minor]


def test_molecule_tests_the_default_kubernetes_version_with_kubeadms_pause_image() -> None:
    test_vars = load(REPO / "molecule" / "_shared" / "vars" / "nodes_test.yml")
    version = _schema_kubernetes_version()
    assert test_vars["cluster_kubernetes_version"] == version, (
        "molecule must test the schema's default version"
    )
    minor = _minor(version)
    assert test_vars["nodes_test_sandbox_image"] == f"registry.k8s.io/pause:{KUBEADM_PAUSE_VERSION[minor]}"
    assert test_vars["nodes_test_deb_version"] == f"{version}-1.1"
    assert test_vars["nodes_test_cri_tools_version"] == f"{minor}.0-1.1"


def test_every_kubernetes_package_is_installed_with_an_exact_version() -> None:
    install = load(REPO / "roles" / "kubernetes_packages" / "tasks" / "install.yml")
    apt = next(task for task in install if "ansible.builtin.apt" in task)["ansible.builtin.apt"]
    assert apt["name"] == "{{ __kubernetes_packages_pinned }}"
    role_vars = load(REPO / "roles" / "kubernetes_packages" / "vars" / "main.yml")
    pinned = role_vars["__kubernetes_packages_pinned"]
    assert "'=' ~ __kubernetes_packages_deb_version" in pinned
    assert "'cri-tools=' ~ __kubernetes_packages_cri_tools_version" in pinned
