"""Fixtures shared by the cluster tests: the stand-in API server and the state the phases leave."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kube_api import ApiServer, Cluster
from models import SparkOperatorModel, statefulset_pods, workloads_available
from pki import Pki

SPARK_GROUP = "sparkoperator.k8s.io"


@contextmanager
def api_server(
    folder: Path,
    host: str = "127.0.0.1",
    operator: SparkOperatorModel | None = None,
    extra_sans: tuple[str, ...] = (),
) -> Iterator[ApiServer]:
    """The stand-in API server with a fresh PKI under ``folder``, listening on ``host``."""
    pki = Pki.create(folder / "pki", ["127.0.0.1", host, "localhost", *extra_sans])
    cluster = Cluster(pki.ca_cert.read_bytes(), pki.ca_key.read_bytes())
    cluster.on_create += [workloads_available, statefulset_pods, operator or SparkOperatorModel()]
    cluster.on_update += [workloads_available, statefulset_pods]
    with ApiServer(cluster, host, str(pki.server_cert), str(pki.server_key), str(pki.ca_cert)) as server:
        server.pki = pki  # type: ignore[attr-defined]
        yield server


def spark_crd(plural: str, kind: str) -> dict:
    """The CRDs the Spark operator chart 2.5.2 ships (crds/), reduced to what the API server serves."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{SPARK_GROUP}"},
        "spec": {
            "group": SPARK_GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"},
            "versions": [{"name": "v1beta2", "served": True, "storage": True}],
        },
    }


def seed_after_addons(cluster: Cluster, spark_namespace: str = "spark-jobs") -> None:
    """What addons.yml leaves that wordcount.yml needs: the job namespace and the operator's CRDs,
    the metrics API (metrics-server) and a Ready node. Used by tests that run wordcount.yml alone."""
    cluster.put_object("namespaces", {"metadata": {"name": spark_namespace}})
    cluster.put_object("customresourcedefinitions", spark_crd("sparkapplications", "SparkApplication"))
    cluster.put_object(
        "customresourcedefinitions", spark_crd("scheduledsparkapplications", "ScheduledSparkApplication")
    )
    cluster.put_object(
        "apiservices",
        {
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1"},
        },
    )
    # A t3.medium control plane and two t3.large workers, with the allocatable their kubelets report.
    for name, memory, role in (
        ("harness-cp-1", "3880596Ki", "control-plane"),
        ("harness-worker-1", "7922300Ki", ""),
        ("harness-worker-2", "7922300Ki", ""),
    ):
        labels = {"kubernetes.io/hostname": name} | ({f"node-role.kubernetes.io/{role}": ""} if role else {})
        cluster.put_object(
            "nodes",
            {
                "metadata": {"name": name, "labels": labels},
                "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}
                if role
                else {},
                "status": {
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "capacity": {"cpu": "2", "memory": memory, "pods": "110"},
                    "allocatable": {"cpu": "2", "memory": memory, "pods": "110"},
                },
            },
        )


def write_kubeconfig(server: ApiServer, path: Path) -> Path:
    """The admin kubeconfig as kubeconfig_fetch leaves it in the state folder (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(server.pki.kubeconfig(server.url))  # type: ignore[attr-defined]
    path.chmod(0o600)
    return path
