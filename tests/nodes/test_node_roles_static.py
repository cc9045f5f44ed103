"""Static checks of the node roles: anatomy, argument specs in step with defaults, pins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
NODE_ROLES = ["node_prep", "containerd", "kubernetes_packages"]


def load(path: Path):
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("role", NODE_ROLES)
def test_node_role_argument_specs_list_every_default(role: str) -> None:
    defaults = load(REPO / "roles" / role / "defaults" / "main.yml")
    options = load(REPO / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    assert all(name.startswith(f"{role}_") for name in defaults)
    for name, value in defaults.items():
        assert options[name]["default"] == value, name


@pytest.mark.parametrize("role", NODE_ROLES)
def test_node_role_readme_documents_every_variable(role: str) -> None:
    readme = (REPO / "roles" / role / "README.md").read_text()
    for name in load(REPO / "roles" / role / "defaults" / "main.yml"):
        assert f"`{name}`" in readme, name
    assert "## What only a real host exercises" in readme
    assert "## Supported systems" in readme


@pytest.mark.parametrize("role", NODE_ROLES)
def test_node_role_main_tasks_only_dispatch_and_no_meta_dependencies(role: str) -> None:
    for task in load(REPO / "roles" / role / "tasks" / "main.yml"):
        assert set(task) & {"ansible.builtin.import_tasks", "ansible.builtin.include_tasks"}, task
    assert load(REPO / "roles" / role / "meta" / "main.yml")["dependencies"] == []


def test_pause_image_is_known_for_the_default_kubernetes_minor() -> None:
    source = (REPO / "plugins" / "module_utils" / "cluster_config.py").read_text()
    default = re.search(r'"cluster_kubernetes_version",\s*"str",\s*"(\d+\.\d+)\.\d+"', source)
    assert default, "cluster_kubernetes_version default not found in the schema"
    pauses = load(REPO / "roles" / "containerd" / "vars" / "main.yml")["__containerd_pause_versions"]
    assert default.group(1) in pauses


def test_molecule_tests_the_default_kubernetes_minor_with_kubeadm_pause_image() -> None:
    test_vars = load(REPO / "molecule" / "_shared" / "vars" / "nodes_test.yml")
    pauses = load(REPO / "roles" / "containerd" / "vars" / "main.yml")["__containerd_pause_versions"]
    minor = ".".join(test_vars["cluster_kubernetes_version"].split(".")[:2])
    assert test_vars["nodes_test_sandbox_image"] == f"registry.k8s.io/pause:{pauses[minor]}"
    assert test_vars["nodes_test_deb_version"] == f"{test_vars['cluster_kubernetes_version']}-1.1"
    assert test_vars["nodes_test_cri_tools_version"] == f"{minor}.0-1.1"


def test_every_kubernetes_package_is_installed_with_an_exact_version() -> None:
    install = load(REPO / "roles" / "kubernetes_packages" / "tasks" / "install.yml")
    apt = next(task for task in install if "ansible.builtin.apt" in task)["ansible.builtin.apt"]
    assert apt["name"] == "{{ __kubernetes_packages_pinned }}"
    role_vars = load(REPO / "roles" / "kubernetes_packages" / "vars" / "main.yml")
    pinned = role_vars["__kubernetes_packages_pinned"]
    assert "'=' ~ __kubernetes_packages_deb_version" in pinned
    assert "'cri-tools=' ~ __kubernetes_packages_cri_tools_version" in pinned
