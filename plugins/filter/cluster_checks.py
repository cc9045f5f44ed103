"""Filters that read kubectl JSON output for the cluster roles.

- ``ready_node_names``: names of the nodes whose Ready condition is True.
- ``metrics_node_names``: names of the nodes for which the metrics API reports CPU and memory.
- ``default_storage_classes``: names of the StorageClasses annotated as the cluster default.
- ``inventory_nodes``: the Kubernetes node name (short EC2 private DNS name) and the private DNS
  name and address of each inventory host.
- ``kubeconfig_with_server``: a kubeconfig whose every cluster entry points at the given URL.
- ``kubelet_serving_csr_review``: which pending kubelet-serving CSRs belong to our own nodes and
  ask only for that node's names and addresses (those may be approved), and why others may not.

The filters run on the controller; ``cryptography`` (a dependency of ansible-core) parses the
certificate requests.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from typing import Any

from ansible.errors import AnsibleFilterError

KUBELET_SERVING_SIGNER = "kubernetes.io/kubelet-serving"
FINAL_CONDITIONS = {"Approved", "Denied", "Failed"}


def _items(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise AnsibleFilterError(f"expected kubectl JSON output: {exc}") from exc
    if not isinstance(document, dict):
        raise AnsibleFilterError("expected a Kubernetes List object")
    return list(document.get("items") or [])


def ready_node_names(nodes: Any) -> list[str]:
    """Names of the nodes in a NodeList whose Ready condition has status True."""
    ready = []
    for node in _items(nodes):
        conditions = (node.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            ready.append(node["metadata"]["name"])
    return sorted(ready)


def metrics_node_names(node_metrics: Any) -> list[str]:
    """Names of the nodes in a NodeMetricsList that carry both a CPU and a memory usage."""
    names = []
    for item in _items(node_metrics):
        usage = item.get("usage") or {}
        if usage.get("cpu") and usage.get("memory"):
            names.append(item["metadata"]["name"])
    return sorted(names)


def default_storage_classes(storage_classes: Any) -> list[str]:
    """Names of the StorageClasses whose ``is-default-class`` annotation is ``"true"``."""
    names = []
    for item in _items(storage_classes):
        annotations = (item.get("metadata") or {}).get("annotations") or {}
        if str(annotations.get("storageclass.kubernetes.io/is-default-class", "")).lower() == "true":
            names.append(item["metadata"]["name"])
    return sorted(names)


def inventory_nodes(hosts: list[str], hostvars: Any) -> list[dict[str, Any]]:
    """One ``{"host", "name", "addresses"}`` entry per inventory host.

    The node name is the first label of the EC2 private DNS name (``ip-10-42-0-11``), which is
    the host name Ubuntu sets on EC2 and the name the kubelet registers; the addresses are the
    private DNS name and the private IPv4 address from the aws_ec2 inventory.
    """
    nodes = []
    for host in hosts:
        facts = hostvars[host]
        dns = str(facts.get("private_dns_name") or "")
        ip = str(facts.get("private_ip_address") or "")
        if not dns:
            raise AnsibleFilterError(f"host {host} has no private_dns_name in the inventory")
        name = dns.split(".", maxsplit=1)[0]
        nodes.append({"host": host, "name": name, "addresses": [a for a in (dns, ip) if a]})
    return nodes


def kubeconfig_with_server(kubeconfig: dict[str, Any], server: str) -> dict[str, Any]:
    """Copy of a kubeconfig document with ``clusters[*].cluster.server`` set to ``server``."""
    if not isinstance(kubeconfig, dict) or kubeconfig.get("kind") != "Config":
        raise AnsibleFilterError("expected a kubeconfig document (kind: Config)")
    result = dict(kubeconfig)
    clusters = []
    for entry in kubeconfig.get("clusters") or []:
        entry = dict(entry)
        entry["cluster"] = {**(entry.get("cluster") or {}), "server": server}
        clusters.append(entry)
    if not clusters:
        raise AnsibleFilterError("the kubeconfig has no cluster entry")
    result["clusters"] = clusters
    return result


def _is_pending(csr: dict[str, Any]) -> bool:
    conditions = (csr.get("status") or {}).get("conditions") or []
    return not any(c.get("type") in FINAL_CONDITIONS for c in conditions)


def _request_names(csr: dict[str, Any]) -> tuple[str, list[str], set[str], set[str]]:
    """Subject CN, subject O values, DNS SANs and IP SANs of the CSR's PKCS#10 request."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    pem = base64.b64decode(csr["spec"]["request"])
    request = x509.load_pem_x509_csr(pem)
    common_names = [a.value for a in request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    organisations = [a.value for a in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    dns: set[str] = set()
    ips: set[str] = set()
    try:
        sans = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        sans = None
    if sans is not None:
        dns = {str(n).lower() for n in sans.get_values_for_type(x509.DNSName)}
        ips = {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
        if len(list(sans)) != len(dns) + len(ips):
            dns.add("<unsupported SAN type>")
    return (common_names[0] if common_names else ""), organisations, dns, ips


def _split_addresses(addresses: list[str]) -> tuple[set[str], set[str]]:
    names: set[str] = set()
    ips: set[str] = set()
    for value in addresses:
        if not value:
            continue
        try:
            ips.add(str(ipaddress.ip_address(value)))
        except ValueError:
            names.add(str(value).lower())
    return names, ips


def kubelet_serving_csr_review(csrs: Any, nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Sort pending kubelet-serving CSRs into those of our nodes (approvable) and the rest.

    ``nodes`` is a list of ``{"name": <node name>, "addresses": [<DNS names and IPs>]}``; the
    node name itself is always an allowed DNS name. A CSR is approvable only if it is pending,
    uses the kubelet-serving signer, was sent by ``system:node:<name>`` for one of our nodes, its
    subject is ``CN=system:node:<name>, O=system:nodes`` and every SAN is one of that node's
    names or addresses.
    """
    allowed: dict[str, tuple[set[str], set[str]]] = {}
    for node in nodes:
        names, ips = _split_addresses(list(node.get("addresses") or []))
        names.add(str(node["name"]).lower())
        allowed[str(node["name"])] = (names, ips)

    approve: list[str] = []
    approved_nodes: set[str] = set()
    pending_nodes: set[str] = set()
    refused: dict[str, str] = {}
    for csr in _items(csrs):
        name = csr["metadata"]["name"]
        spec = csr.get("spec") or {}
        if spec.get("signerName") != KUBELET_SERVING_SIGNER:
            continue
        username = spec.get("username", "")
        node = username.removeprefix("system:node:") if username.startswith("system:node:") else ""
        if not _is_pending(csr):
            conditions = (csr.get("status") or {}).get("conditions") or []
            if node in allowed and any(c.get("type") == "Approved" for c in conditions):
                approved_nodes.add(node)
            continue
        if node not in allowed:
            refused[name] = f"requester {username!r} is not one of this cluster's nodes"
            continue
        common_name, organisations, dns, ips = _request_names(csr)
        names, addresses = allowed[node]
        if common_name != username or organisations != ["system:nodes"]:
            refused[name] = f"subject CN={common_name!r} O={organisations!r} does not match {username!r}"
        elif not dns <= names or not ips <= addresses:
            extra = sorted((dns - names) | (ips - addresses))
            refused[name] = f"names not belonging to node {node}: {', '.join(extra)}"
        else:
            approve.append(name)
            pending_nodes.add(node)
    return {
        "approve": sorted(approve),
        "nodes_with_approvable_csr": sorted(pending_nodes),
        "nodes_with_approved_csr": sorted(approved_nodes),
        "refused": refused,
    }


class FilterModule:
    """Cluster readiness and CSR filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "default_storage_classes": default_storage_classes,
            "inventory_nodes": inventory_nodes,
            "ready_node_names": ready_node_names,
            "metrics_node_names": metrics_node_names,
            "kubeconfig_with_server": kubeconfig_with_server,
            "kubelet_serving_csr_review": kubelet_serving_csr_review,
        }
