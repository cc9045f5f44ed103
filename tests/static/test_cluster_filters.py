"""The filters behind CSR approval, readiness and the kubeconfig decide correctly."""

from __future__ import annotations

import base64
import importlib.util
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("cluster_checks", REPO / "plugins/filter/cluster_checks.py")
assert _spec and _spec.loader
checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checks)

NODES = [
    {
        "host": "cp-1",
        "name": "ip-10-42-0-10",
        "addresses": ["ip-10-42-0-10.eu-west-1.compute.internal", "10.42.0.10"],
    },
    {
        "host": "worker-1",
        "name": "ip-10-42-0-11",
        "addresses": ["ip-10-42-0-11.eu-west-1.compute.internal", "10.42.0.11"],
    },
]
KEY = ec.generate_private_key(ec.SECP256R1())


def _csr(
    name: str,
    node: str,
    dns: list[str],
    ips: list[str],
    *,
    cn: str | None = None,
    org: str = "system:nodes",
    username: str | None = None,
    signer: str = "kubernetes.io/kubelet-serving",
    conditions: list[dict] | None = None,
) -> dict[str, Any]:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn or f"system:node:{node}"),
        ]
    )
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    # A request without names carries no SubjectAlternativeName at all: an empty one is invalid
    # (RFC 5280 4.2.1.6), and cryptography 51 refuses to build it.
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    request = builder.sign(KEY, hashes.SHA256())
    pem = request.public_bytes(serialization.Encoding.PEM)
    return {
        "metadata": {"name": name},
        "spec": {
            "signerName": signer,
            "username": username or f"system:node:{node}",
            "request": base64.b64encode(pem).decode(),
        },
        "status": {"conditions": conditions} if conditions else {},
    }


def _review(*csrs: dict[str, Any]) -> dict[str, Any]:
    return checks.kubelet_serving_csr_review(json.dumps({"kind": "List", "items": list(csrs)}), NODES)


def test_csr_of_our_node_with_its_own_names_is_approved() -> None:
    review = _review(_csr("csr-a", "ip-10-42-0-11", ["ip-10-42-0-11"], ["10.42.0.11"]))
    assert review["approve"] == ["csr-a"]
    assert review["nodes_with_approvable_csr"] == ["ip-10-42-0-11"]
    assert review["refused"] == {}


def test_csr_from_a_node_outside_the_inventory_is_refused() -> None:
    review = _review(_csr("csr-x", "ip-10-42-0-99", ["ip-10-42-0-99"], ["10.42.0.99"]))
    assert review["approve"] == []
    assert "not one of this cluster's nodes" in review["refused"]["csr-x"]


def test_csr_asking_for_another_nodes_address_is_refused() -> None:
    review = _review(_csr("csr-b", "ip-10-42-0-11", ["ip-10-42-0-11"], ["10.42.0.11", "10.42.0.10"]))
    assert review["approve"] == []
    assert "10.42.0.10" in review["refused"]["csr-b"]


def test_csr_asking_for_a_foreign_dns_name_is_refused() -> None:
    review = _review(_csr("csr-c", "ip-10-42-0-11", ["ip-10-42-0-11", "kubernetes.default"], ["10.42.0.11"]))
    assert review["approve"] == []
    assert "kubernetes.default" in review["refused"]["csr-c"]


def test_csr_whose_subject_names_another_node_is_refused() -> None:
    review = _review(
        _csr("csr-d", "ip-10-42-0-11", ["ip-10-42-0-11"], ["10.42.0.11"], cn="system:node:ip-10-42-0-10")
    )
    assert review["approve"] == []
    assert "subject" in review["refused"]["csr-d"]


def test_csr_without_the_nodes_group_is_refused() -> None:
    review = _review(_csr("csr-e", "ip-10-42-0-11", ["ip-10-42-0-11"], ["10.42.0.11"], org="system:masters"))
    assert review["approve"] == []


def test_other_signers_and_decided_requests_are_left_alone() -> None:
    review = _review(
        _csr("client", "ip-10-42-0-11", [], [], signer="kubernetes.io/kube-apiserver-client-kubelet"),
        _csr("done", "ip-10-42-0-10", ["ip-10-42-0-10"], ["10.42.0.10"], conditions=[{"type": "Approved"}]),
        _csr("denied", "ip-10-42-0-11", ["ip-10-42-0-11"], ["10.42.0.11"], conditions=[{"type": "Denied"}]),
    )
    assert review["approve"] == []
    assert review["nodes_with_approved_csr"] == ["ip-10-42-0-10"]
    assert review["refused"] == {}


def test_full_private_dns_name_is_an_allowed_san() -> None:
    review = _review(
        _csr(
            "csr-f",
            "ip-10-42-0-10",
            ["ip-10-42-0-10", "ip-10-42-0-10.eu-west-1.compute.internal"],
            ["10.42.0.10"],
        )
    )
    assert review["approve"] == ["csr-f"]


def _node(name: str, ready: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": ready}]
        },
    }


def test_ready_node_names_lists_only_ready_nodes() -> None:
    nodes = {"items": [_node("a", "True"), _node("b", "False"), _node("c", "Unknown")]}
    assert checks.ready_node_names(json.dumps(nodes)) == ["a"]


def test_metrics_node_names_needs_cpu_and_memory() -> None:
    metrics = {
        "items": [
            {"metadata": {"name": "a"}, "usage": {"cpu": "151m", "memory": "1200Mi"}},
            {"metadata": {"name": "b"}, "usage": {"cpu": "10m"}},
        ]
    }
    assert checks.metrics_node_names(json.dumps(metrics)) == ["a"]


def test_default_storage_classes_reads_the_annotation() -> None:
    classes = {
        "items": [
            {
                "metadata": {
                    "name": "local-path",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                }
            },
            {
                "metadata": {
                    "name": "other",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "false"},
                }
            },
            {"metadata": {"name": "plain"}},
        ]
    }
    assert checks.default_storage_classes(json.dumps(classes)) == ["local-path"]


def test_kubeconfig_with_server_points_every_cluster_at_the_public_address() -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "lab",
                "cluster": {"server": "https://10.42.0.10:6443", "certificate-authority-data": "Q0E="},
            }
        ],
        "users": [{"name": "admin", "user": {"client-key-data": "S0VZ"}}],
    }
    result = checks.kubeconfig_with_server(config, "https://203.0.113.10:6443")
    assert result["clusters"][0]["cluster"] == {
        "server": "https://203.0.113.10:6443",
        "certificate-authority-data": "Q0E=",
    }
    assert result["users"] == config["users"]
    assert config["clusters"][0]["cluster"]["server"] == "https://10.42.0.10:6443"


def test_kubeconfig_with_server_rejects_other_documents() -> None:
    with pytest.raises(AnsibleFilterError):
        checks.kubeconfig_with_server({"kind": "Pod"}, "https://203.0.113.10:6443")


def test_inventory_nodes_requires_a_private_dns_name() -> None:
    with pytest.raises(AnsibleFilterError):
        checks.inventory_nodes(["h"], {"h": {"private_ip_address": "10.42.0.5"}})
