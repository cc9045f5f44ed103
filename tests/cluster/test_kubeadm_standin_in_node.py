"""The stand-in kubeadm, as the harness installs it, reads the product's kubeadm configuration in a
node image with Debian's python3.

The library files come from ``nodes._standin_files`` (what the harness copies into every node,
the shared splitter ``kube_yaml.py`` and the field table included); the configuration is rendered
by Ansible (tests/static/cluster_render.py). A plain container of the node base image (no systemd,
no containerd) is enough for reading and preflight: the missing CRI socket shows that the preflight
runs there, on the container's own /proc. The full init in a running harness cluster is covered by
test_cluster_playbooks.py.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import nodes
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "static"))
import cluster_render  # noqa: E402

LIB = "/usr/local/lib/sparklab-harness"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("kubeadm-node")
    good = cluster_render.render(work / "render").kubeadm_config.read_text()
    assert "  podSubnet: " in good
    bad = good.replace("  podSubnet: ", "  clusterCIDR: 10.244.0.0/16\n  podSubnet: ", 1)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entries = {
            **nodes._standin_files(),
            "/tmp/good.yaml": (good.encode(), 0o644),
            "/tmp/bad.yaml": (bad.encode(), 0o644),
        }
        for name, (data, mode) in entries.items():
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    name = f"sparklab-kubeadm-read-{uuid.uuid4().hex[:8]}"
    nodes.docker("run", "-d", "--name", name, nodes.base_image(), "sleep", "900")
    try:
        nodes.docker("cp", "-", f"{name}:/", stdin=buffer.getvalue())
        yield name
    finally:
        nodes.docker("rm", "-f", name, check=False)


def kubeadm(node: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "exec", node, "python3", f"{LIB}/kubeadm", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_product_configuration_validates_in_the_node(node: str) -> None:
    done = kubeadm(node, "config", "validate", "--config", "/tmp/good.yaml")
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


def test_an_unknown_field_stops_init_in_the_node_naming_it(node: str) -> None:
    done = kubeadm(node, "init", "--config", "/tmp/bad.yaml")
    assert done.returncode == 1
    assert 'strict decoding error: unknown field "networking.clusterCIDR"' in done.stderr
    assert "[preflight]" not in done.stdout


def test_preflight_runs_in_the_node_and_names_the_missing_runtime(node: str) -> None:
    done = kubeadm(node, "init", "--config", "/tmp/good.yaml")
    assert done.returncode == 1
    assert "error execution phase preflight: [preflight] Some fatal errors occurred:" in done.stderr
    assert (
        "\t[ERROR CRI]: container runtime is not running: validate service connection: "
        'validate CRI v1 runtime API for endpoint "unix:///run/containerd/containerd.sock"' in done.stderr
    )
