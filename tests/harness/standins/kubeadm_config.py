"""How the stand-in kubeadm reads ``--config``: upstream's splitter, a strict decode of every
document against the generated field table (kube_fields.json), and the network checks of kubeadm's
validation. Shared by the stand-in (inside the node containers) and the tests (on the host).

Upstream behaviour mirrored (kubernetes/kubernetes, cmd/kubeadm/app):
- util/marshal.go ``SplitConfigDocuments`` through ``kube_yaml.kubeadm_split_config_documents``;
- util/config/initconfiguration.go ``documentMapToInitConfiguration``: every document goes through
  util/config/strict/strict.go ``VerifyUnmarshalStrict`` with the kubeadm and component-config
  schemes (KubeletConfiguration and KubeProxyConfiguration included); its error reads
  ``error unmarshaling configuration schema.GroupVersionKind{...}: strict decoding error: unknown
  field "a.b"``. ``kubeadm init`` and ``join`` call it with strictErrors=false and only log the
  error as a klog warning (the field is then dropped by the non-strict decode); ``kubeadm config
  validate`` returns it. A document of a group neither kubeadm nor a component config registers is
  ignored with ``[config] WARNING: Ignored configuration document with GroupVersionKind ...``;
- apis/kubeadm/validation/validation.go: ``serviceSubnet`` / ``podSubnet`` must parse as CIDRs
  (``couldn't parse subnet``), each ``certSANs`` entry must be an IP address, a DNS-1123
  subdomain or a wildcard DNS-1123 subdomain.
What it does not model: YAML duplicate keys (PyYAML keeps the last, upstream's YAMLToJSONStrict
refuses), value types (a string where a number belongs), the insides of types from packages the
table does not read (``opaque``: corev1.Taint, logsapi.LoggingConfiguration, ...), subnet sizes and
node CIDR masks, dual-stack rules, and any other kubeadm version than v1beta4.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re

import yaml
from kube_yaml import KubeYAMLError, TypeMeta, kubeadm_split_config_documents

TABLE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kube_fields.json")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class ConfigError(ValueError):
    """A config kubeadm refuses, with kubeadm's wording."""


def load_table(path: str = TABLE_PATH) -> dict:
    with open(path) as handle:
        return json.load(handle)


def gvk_repr(meta: TypeMeta) -> str:
    """Go's %#v of a schema.GroupVersionKind."""
    return f'schema.GroupVersionKind{{Group:"{meta.group}", Version:"{meta.version}", Kind:"{meta.kind}"}}'


def unknown_fields(value, spec: dict, table: dict, path: str = "") -> list[str]:
    """Paths of the fields sigs.k8s.io/json's strict decoding reports as unknown, in document order."""
    kind = spec["kind"]
    found: list[str] = []
    if kind == "object" and isinstance(value, dict):
        fields = table["types"][spec["type"]]
        opaque_inline = "*" in fields
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if key in fields:
                found += unknown_fields(item, fields[key], table, child)
            elif not opaque_inline:
                found.append(child)
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            found += unknown_fields(item, spec["item"], table, f"{path}[{index}]")
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            found += unknown_fields(item, spec["item"], table, f"{path}.{key}" if path else str(key))
    return found


def verify_unmarshal_strict(meta: TypeMeta, chunk: bytes, table: dict) -> str | None:
    """strict.VerifyUnmarshalStrict: None when the document decodes strictly, else upstream's error text."""
    type_name = table["kinds"].get(f"{meta.group}/{meta.version}", {}).get(meta.kind)
    if type_name is None:
        return f"unknown configuration {gvk_repr(meta)}"
    document = yaml.safe_load(chunk) or {}
    unknown = unknown_fields(document, {"kind": "object", "type": type_name}, table)
    if not unknown:
        return None
    listed = ", ".join(f'unknown field "{name}"' for name in unknown)
    return f"error unmarshaling configuration {gvk_repr(meta)}: strict decoding error: {listed}"


def valid_san(san: str) -> bool:
    try:
        ipaddress.ip_address(san)
        return True
    except ValueError:
        pass
    name = san[2:] if san.startswith("*.") else san
    return len(name) <= 253 and bool(DNS1123_SUBDOMAIN.match(name))


def validate_cluster(cluster: dict) -> list[str]:
    """The parts of ValidateClusterConfiguration modelled here, as field.Error strings."""
    errors = []
    networking = cluster.get("networking") or {}
    for key in ("serviceSubnet", "podSubnet"):
        value = networking.get(key)
        if value:
            for subnet in str(value).split(","):
                try:
                    ipaddress.ip_network(subnet, strict=False)
                    if "/" not in subnet:
                        raise ValueError(subnet)
                except ValueError:
                    errors.append(f'networking.{key}: Invalid value: "{value}": couldn\'t parse subnet')
    for san in (cluster.get("apiServer") or {}).get("certSANs") or []:
        if not valid_san(str(san)):
            errors.append(
                f'apiServer.certSANs: Invalid value: "{san}": altname is not a valid IP address, '
                "DNS label or a DNS label with subdomain wildcards"
            )
    return errors


def read_config(data: bytes | str, table: dict | None = None) -> tuple[dict[str, dict], list[str], list[str]]:
    """The documents by kind, the strict-decoding errors (warnings in ``kubeadm init``/``join``) and
    the ``[config] WARNING`` lines; ConfigError for what kubeadm refuses outright."""
    table = table or load_table()
    try:
        split = kubeadm_split_config_documents(data)
    except KubeYAMLError as error:
        raise ConfigError(str(error)) from error
    docs: dict[str, dict] = {}
    strict_errors: list[str] = []
    ignored: list[str] = []
    known_groups = {gv.split("/")[0] for gv in table["kinds"]}
    for meta, chunk in sorted(split.items(), key=lambda item: gvk_repr(item[0])):
        if meta.group not in known_groups:
            ignored.append(
                f"[config] WARNING: Ignored configuration document with GroupVersionKind "
                f"{meta.group}/{meta.version}, Kind={meta.kind}"
            )
            continue
        if meta.group == "kubeadm.k8s.io" and meta.version != "v1beta4":
            raise ConfigError(
                f"this stand-in models kubeadm.k8s.io/v1beta4 only, not {meta.group}/{meta.version}"
            )
        problem = verify_unmarshal_strict(meta, chunk, table)
        if problem:
            strict_errors.append(problem)
        docs[meta.kind] = yaml.safe_load(chunk) or {}
    if (
        "InitConfiguration" not in docs
        and "ClusterConfiguration" not in docs
        and "JoinConfiguration" not in docs
    ):
        raise ConfigError(
            "no InitConfiguration or ClusterConfiguration kind was found in the configuration file"
        )
    invalid = validate_cluster(docs.get("ClusterConfiguration", {}))
    if invalid:
        raise ConfigError("[" + ", ".join(invalid) + "]" if len(invalid) > 1 else invalid[0])
    return docs, strict_errors, ignored
