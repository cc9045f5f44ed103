"""The stand-in API server (tests/harness/kube_api.py) under the real Helm 4.1.4 and kubectl.

The cluster tests run the same binaries on the node containers; these tests run them on the host
against a fresh API server, to prove in seconds what the server refuses as a real one would: an
unknown field of a built-in kind (kubernetes-validate's schemas), a custom resource that breaks its
CRD's schema, and a write naming a stale resourceVersion (409). Each also runs the valid case, so
a refusal is the object's fault and not a gap of the stand-in.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from cluster_fixtures import api_server, write_kubeconfig
from helm_binary import helm_binary, kubectl_binary
from reference_data import REFERENCE_DIR

CHART = REFERENCE_DIR / "charts" / "local-path-provisioner-0.0.37"
SPARK_CHART = REFERENCE_DIR / "charts" / "spark-operator-2.5.2"


@pytest.fixture
def api(tmp_path):
    with api_server(tmp_path) as server:
        yield server, write_kubeconfig(server, tmp_path / "kubeconfig")


def run(program: Path, kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(program), "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True, timeout=120
    )


def helm_install(kubeconfig: Path, chart: Path, release: str) -> subprocess.CompletedProcess[str]:
    """The argv kubernetes.core.helm 6.6 builds for the helm_release role with Helm 4 (wait, rollback)."""
    return run(
        helm_binary(),
        kubeconfig,
        "upgrade", "-i", "--reset-values", "--wait", "--timeout", "60s", "--rollback-on-failure",
        "--create-namespace", "-n", release, release, str(chart),
    )  # fmt: skip


def test_helm_install_with_an_unknown_deployment_field_is_refused_by_strict_validation(api, tmp_path):
    server, kubeconfig = api
    good = helm_install(kubeconfig, CHART, "local-path-provisioner")
    assert good.returncode == 0, good.stderr
    deployment = server.cluster.get(
        server.cluster.kind("deployments"), "local-path-provisioner", "local-path-provisioner"
    )
    assert deployment["status"]["observedGeneration"] == deployment["metadata"]["generation"]

    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    template = chart / "templates" / "deployment.yaml"
    text = template.read_text()
    assert "\nspec:\n" in text
    template.write_text(text.replace("\nspec:\n", "\nspec:\n  replicaCount: 1\n", 1))
    bad = helm_install(kubeconfig, chart, "local-path-provisioner")  # an upgrade of the release
    assert bad.returncode == 1, bad.stdout
    assert ".spec.replicaCount: field not declared in schema" in bad.stderr, bad.stderr
    kept = server.cluster.get(
        server.cluster.kind("deployments"), "local-path-provisioner", "local-path-provisioner"
    )
    assert "replicaCount" not in kept["spec"]


def test_a_custom_resource_is_checked_against_its_stored_crd_schema(api, tmp_path):
    server, kubeconfig = api
    crd = SPARK_CHART / "crds" / "sparkoperator.k8s.io_sparkapplications.yaml"
    created = run(kubectl_binary(), kubeconfig, "apply", "--server-side", "-f", str(crd))
    assert created.returncode == 0, created.stderr
    app = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": "wordcount", "namespace": "default"},
        "spec": {
            "type": "Python",
            "mode": "cluster",
            "sparkVersion": "4.0.1",
            "mainApplicationFile": "local:///opt/app.py",
            "driver": {"cores": 1},
            "executor": {"instances": 1},
        },
    }
    manifest = tmp_path / "app.yaml"
    manifest.write_text(yaml.safe_dump(app))
    good = run(kubectl_binary(), kubeconfig, "apply", "--server-side", "-f", str(manifest))
    assert good.returncode == 0, good.stderr

    app["metadata"]["name"] = "broken"
    app["spec"]["executor"]["instances"] = "two"
    manifest.write_text(yaml.safe_dump(app))
    bad = run(kubectl_binary(), kubeconfig, "apply", "--server-side", "-f", str(manifest))
    assert bad.returncode == 1, bad.stdout
    assert "spec.executor.instances: Invalid value" in bad.stderr, bad.stderr
    assert server.cluster.get_or_none(server.cluster.kind("sparkapplications", "sparkoperator.k8s.io"),
                                      "default", "broken") is None  # fmt: skip


def test_a_write_naming_a_stale_resource_version_gets_409(api, tmp_path):
    server, kubeconfig = api
    kubectl = kubectl_binary()
    assert run(kubectl, kubeconfig, "create", "configmap", "settings", "--from-literal=a=1").returncode == 0
    fetched = run(kubectl, kubeconfig, "get", "configmap", "settings", "-o", "yaml")
    stale = tmp_path / "stale.yaml"
    stale.write_text(fetched.stdout)
    first = run(kubectl, kubeconfig, "replace", "-f", str(stale))
    assert first.returncode == 0, first.stderr  # same resourceVersion: accepted (nothing changed)
    changed = run(kubectl, kubeconfig, "patch", "configmap", "settings", "-p", '{"data":{"a":"2"}}')
    assert changed.returncode == 0, changed.stderr

    second = run(kubectl, kubeconfig, "replace", "-f", str(stale))
    assert second.returncode == 1, second.stdout
    assert "Error from server (Conflict)" in second.stderr, second.stderr
    assert "the object has been modified" in second.stderr, second.stderr
    stored = server.cluster.get(server.cluster.kind("configmaps"), "default", "settings")
    assert stored["data"] == {"a": "2"}
