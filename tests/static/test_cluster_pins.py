"""Pinned versions, release values and role interfaces of the cluster phase are consistent."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from reference_data import CHARTS, REFERENCE_DIR

REPO = Path(__file__).resolve().parents[2]


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _release(name: str) -> dict[str, Any]:
    data = _load(REPO / f"playbooks/vars/releases/{name}.yml")
    assert list(data) == [f"sparklab_release_{name}"]
    return data[f"sparklab_release_{name}"]


def _leaf_paths(values: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            paths.extend(_leaf_paths(value, path))
        else:
            paths.append(path)
    return paths


def _has_path(values: dict[str, Any], path: str) -> bool:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.mark.parametrize("release", ["flannel", "metrics_server", "local_path_provisioner"])
def test_release_files_define_every_key_of_the_data_interface(release: str) -> None:
    data = _release(release)
    for key in ("name", "namespace", "chart", "values"):
        assert key in data, key
    chart = data["chart"]
    assert bool(chart.get("archive_url")) != bool(chart.get("git_url")), "exactly one chart source"
    assert chart["version"], "chart version must be pinned"
    # Pinned bytes: an archive by its SHA-256, a git chart by a commit: the one whose chart tree the
    # tests' reference copy is (tests/helpers/reference_data.py pins the same repository and tag).
    if "archive_url" in chart:
        assert re.fullmatch(r"[0-9a-f]{64}", chart["sha256"])
    else:
        repository = chart["git_url"].removeprefix("https://github.com/").removesuffix(".git")
        (tree,) = [c for c in CHARTS if c.repo == repository and c.tag == chart["git_tag"]]
        assert (chart["git_commit"], chart["path"]) == (tree.commit, tree.path)


def test_metrics_server_values_exist_in_the_reference_chart() -> None:
    reference = _load(REFERENCE_DIR / "metrics-server-chart-3.13.1" / "values.yaml")
    values = _release("metrics_server")["values"]
    missing = [p for p in _leaf_paths(values) if not _has_path(reference, p)]
    assert missing == []
    assert _release("metrics_server")["chart"]["version"] == "3.13.1"


def test_metrics_server_verifies_kubelet_certificates() -> None:
    values = _release("metrics_server")["values"]
    arguments = values.get("defaultArgs", []) + values.get("args", [])
    assert not any(a.startswith("--kubelet-insecure-tls") for a in arguments)
    assert "--kubelet-preferred-address-types=InternalIP" in arguments


def test_local_path_provisioner_becomes_the_default_storage_class() -> None:
    data = _release("local_path_provisioner")
    assert data["values"]["storageClass"]["defaultClass"] is True
    assert data["chart"]["git_tag"] == "v" + data["chart"]["version"]
    assert data["values"]["helperImage"]["tag"] != "latest"


def test_helm_binary_is_helm_4_and_its_download_is_checked_against_a_sha256_per_platform() -> None:
    """The form of the pins and that the download task checks them. The values themselves are
    get.helm.sh's published ``.sha256sum`` files, read when the version was pinned: no test here
    can compare them with the tarballs (the tests' Helm comes from PyPI, without the tarball)."""
    defaults = _load(REPO / "roles/helm/defaults/main.yml")
    # kubernetes.core 6.6 (bundled in the pinned ansible) drives Helm 4.
    assert re.fullmatch(r"v4\.\d+\.\d+", defaults["helm_version"])
    assert set(defaults["helm_checksums"]) >= {"linux-amd64"}
    for checksum in defaults["helm_checksums"].values():
        assert re.fullmatch(r"[0-9a-f]{64}", checksum)
    install = (REPO / "roles/helm/tasks/install.yml").read_text()
    assert 'checksum: "sha256:{{ helm_checksums[__helm_platform] }}"' in install


def _tasks_by_name(tasks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every task by name, blocks and their rescue sections included."""
    found: dict[str, dict[str, Any]] = {}
    for task in tasks:
        found[task.get("name", "")] = task
        for section in ("block", "rescue", "always"):
            found.update(_tasks_by_name(task.get(section, [])))
    return found


def test_join_and_token_output_are_never_logged() -> None:
    by_name = _tasks_by_name(_load(REPO / "roles/kubeadm_join/tasks/join.yml"))
    token = by_name["join | Create a short-lived join token on the control plane"]
    assert token["no_log"] is True and "--ttl" in token["ansible.builtin.command"]["argv"]
    assert by_name["join | Run kubeadm join"]["no_log"] is True
    # The failure message is built from kubeadm's stderr with tokens masked, never from the command.
    message = by_name["join | Stop with the cause of the failed kubeadm join"]["ansible.builtin.fail"]["msg"]
    assert "__kubeadm_join_command" not in message and "<token>" in message


def test_fetched_kubeconfig_is_private_and_not_logged() -> None:
    tasks = {t["name"]: t for t in _load(REPO / "roles/kubeconfig_fetch/tasks/fetch.yml")}
    write = tasks["fetch | Write the kubeconfig with the public API server address"]
    assert write["ansible.builtin.copy"]["mode"] == "0600" and write["no_log"] is True
    assert tasks["fetch | Read the admin kubeconfig"]["no_log"] is True
