"""Objects the add-on roles create themselves, rendered with Ansible's templating and validated
against the Kubernetes 1.37 schemas; and the ties between roles, release data and the charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from addons_render import (
    cluster_variables,
    render,
    render_role_template,
    role_variables,
)
from reference_data import CHARTS, REFERENCE_DIR

K8S_VERSION = "1.37.0"  # kubernetes-validate 1.37.0 ships schemas up to this version.


def variables(role: str, tmp_path: Path, **cluster: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict(cluster_variables(tmp_path, **cluster))
    out.update(role_variables(role))
    return out


def validate(obj: dict) -> None:
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


@pytest.mark.parametrize("port", [30080, 31234])
def test_dashboard_service_is_a_valid_nodeport_service_on_the_configured_port(
    tmp_path: Path, port: int
) -> None:
    svc = render_role_template(
        "kube_opex_analytics",
        "dashboard-service.yml.j2",
        variables("kube_opex_analytics", tmp_path, cluster_dashboard_node_port=port),
    )
    validate(svc)
    assert svc["kind"] == "Service" and svc["spec"]["type"] == "NodePort"
    (svc_port,) = svc["spec"]["ports"]
    assert svc_port["nodePort"] == port
    assert svc_port["targetPort"] == "http"
    assert svc["metadata"]["namespace"] == "kube-opex-analytics"


def test_dashboard_service_selects_the_pods_of_the_kube_opex_release(tmp_path: Path) -> None:
    svc = render_role_template(
        "kube_opex_analytics", "dashboard-service.yml.j2", variables("kube_opex_analytics", tmp_path)
    )
    release = render(
        role_variables("kube_opex_analytics")["kube_opex_analytics_release"],
        variables("kube_opex_analytics", tmp_path),
    )
    # The chart's StatefulSet labels its pods app.kubernetes.io/name=<chart name> and
    # app.kubernetes.io/instance=<release name>; the chart name is kube-opex-analytics at both tags.
    assert svc["spec"]["selector"] == {
        "app.kubernetes.io/name": "kube-opex-analytics",
        "app.kubernetes.io/instance": release["name"],
    }
    assert svc["metadata"]["namespace"] == release["namespace"]
    assert svc["metadata"]["name"] != release["name"], "must not collide with the chart's own Service"


@pytest.mark.parametrize(
    ("role", "template", "expected"),
    [
        ("kube_opex_analytics", "namespace.yml.j2", "kube-opex-analytics"),
        ("spark_operator", "job-namespace.yml.j2", "spark-jobs"),
    ],
)
def test_namespaces_are_valid(tmp_path: Path, role: str, template: str, expected: str) -> None:
    ns = render_role_template(role, template, variables(role, tmp_path))
    validate(ns)
    assert ns["metadata"]["name"] == expected


def test_invalid_service_is_rejected_by_the_schema_check() -> None:
    bad = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"type": "NodePort", "ports": [{"port": "eighty", "nodePort": 30080}]},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(bad)


def test_spark_release_watches_the_job_namespace_the_role_creates(tmp_path: Path) -> None:
    cluster = cluster_variables(tmp_path, cluster_spark_namespace="etl-jobs")
    role = render(role_variables("spark_operator"), {**cluster, **role_variables("spark_operator")})
    release = role["spark_operator_release"]
    assert (
        release["values"]["spark"]["jobNamespaces"] == ["etl-jobs"] == [role["spark_operator_job_namespace"]]
    )
    assert release["name"] == role["spark_operator_release_name"]
    assert release["namespace"] == role["spark_operator_namespace"]
    assert role["spark_operator_deployments"] == ["spark-operator-controller", "spark-operator-webhook"]
    values = release["values"]
    assert values["webhook"]["enable"] is True
    assert values["spark"]["serviceAccount"] == {"create": True, "name": "spark-operator-spark"}
    assert values["spark"]["rbac"]["create"] is True
    chart = release["chart"]
    assert (chart["git_url"], chart["git_tag"], chart["path"]) == (
        "https://github.com/kubeflow/spark-operator.git", "v2.5.2", "charts/spark-operator-chart")
    # The commit whose chart tree the tests' reference copy is (tests/helpers/reference_data.py).
    (tree,) = [c for c in CHARTS if c.repo == "kubeflow/spark-operator" and c.tag == chart["git_tag"]]
    assert (chart["git_commit"], chart["path"]) == (tree.commit, tree.path)


def test_spark_controller_and_webhook_fit_the_default_instance_types(tmp_path: Path) -> None:
    values = render(role_variables("spark_operator"), variables("spark_operator", tmp_path))[
        "spark_operator_release"
    ]["values"]
    mib = {"Mi": 1, "Gi": 1024}
    total = 0
    for part in ("controller", "webhook"):
        res = values[part]["resources"]
        limit = res["limits"]["memory"]
        total += int(limit[:-2]) * mib[limit[-2:]]
        assert "cpu" not in res.get("limits", {}), "no CPU limit: a throttled controller submits slowly"
    # A t3.large worker has 8 GiB; the operator keeps well under a quarter of it.
    assert total <= 2048


def test_kube_opex_release_is_pinned_to_the_commit_of_its_reference_tree(tmp_path: Path) -> None:
    """The rendered release names the commit and chart folder of the reference copy of its tag
    (tests/helpers/reference_data.py), whose tree digest the tests verify. That this commit is the
    one behind the tag on GitHub was read when it was pinned and is not checked here."""
    role_vars = variables("kube_opex_analytics", tmp_path)
    release = render(role_vars["kube_opex_analytics_release"], role_vars)
    assert release["name"] == "kube-opex-analytics" == release["namespace"]
    chart = release["chart"]
    assert chart["git_tag"] == "v25.10.1", "default: the last Apache-2.0 release"
    (tree,) = [c for c in CHARTS if c.repo == "rchakode/kube-opex-analytics" and c.tag == chart["git_tag"]]
    assert (chart["git_commit"], chart["path"]) == (tree.commit, tree.path) == (tree.commit, "manifests/helm")
    values = release["values"]
    assert values["image"]["version"] == "25.10.0"
    assert values["envs"]["KOA_POLLING_INTERVAL_SEC"] == "300"
    assert values["dataVolume"]["persist"] is True
    assert values["service"]["type"] == "ClusterIP"


def test_every_known_kube_opex_tag_has_a_reference_and_a_licence() -> None:
    known = yaml.safe_load(
        (Path(__file__).parents[2] / "roles/kube_opex_analytics/vars/main.yml").read_text()
    )
    tags = known["__kube_opex_analytics_known_tags"]
    assert set(tags) == {"v25.10.1", "v26.01.1"}
    for tag, facts in tags.items():
        assert (REFERENCE_DIR / f"kube-opex-analytics-{tag[1:]}" / "values.yaml").is_file()
        assert facts["licence"] in {"Apache-2.0", "BUSL-1.1"}
        # The same commit the pinned reference tree of that tag comes from (tests/helpers/reference_data.py).
        (tree,) = [c for c in CHARTS if c.repo == "rchakode/kube-opex-analytics" and c.tag == tag]
        assert facts["commit"] == tree.commit and facts["chart_path"] == tree.path
    assert tags["v25.10.1"]["licence"] == "Apache-2.0"
    assert tags["v26.01.1"]["licence"] == "BUSL-1.1"
