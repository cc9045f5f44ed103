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
  validate`` returns it. Component configs are then decoded by componentconfigs/configset.go
  ``configBase.Unmarshal`` with the non-strict UniversalDecoder: for them too the warning is all.
  A document of a group neither kubeadm nor a component config registers is ignored with
  ``[config] WARNING: Ignored configuration document with GroupVersionKind ...``;
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
import stat

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


# --- Preflight (cmd/kubeadm/app/preflight/checks.go) -------------------------------------------------
# What the node containers give: /proc/sys is mounted read-only, so net.ipv4.ip_forward and
# net.bridge.bridge-nf-call-iptables are read as the container's network namespace shows them (the
# host's br_netfilter state) and no play can change them there; /proc/swaps lists the host's swap.
# The checks read those files as kubeadm does, so a node that lacks them fails here as it would on
# EC2, but a play that forgets to set them is not caught in a container (they already read 1).
# The checks and their order are addCommonChecks' in the checks.go the reference index holds (its
# commit is older than v1.37.1; the swap wording is the newer one, a warning since kubelet swap support).
DEFAULT_CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"


def preflight(registration: dict, root: str = "/") -> tuple[list[str], list[str]]:
    """(warnings, errors) as ``[WARNING Name]: ...`` / ``[ERROR Name]: ...`` lines, minus the names in
    ``nodeRegistration.ignorePreflightErrors`` (``all`` ignores every error; ignored errors become
    warnings, as upstream's ``RunChecks`` does)."""
    warnings: list[str] = []
    errors: list[tuple[str, str]] = []

    def at(path: str) -> str:
        return os.path.join(root, path.lstrip("/"))

    # In addCommonChecks' order: ContainerRuntimeCheck, bridge-nf-call-iptables, ip_forward, Swap.
    socket = registration.get("criSocket") or DEFAULT_CRI_SOCKET
    socket_path = socket[len("unix://") :] if socket.startswith("unix://") else socket

    try:
        is_socket = stat.S_ISSOCK(os.stat(at(socket_path)).st_mode)
    except OSError:
        is_socket = False
    if not is_socket:
        # Upstream asks the runtime over CRI; the stand-in only looks for the socket.
        errors.append(
            (
                "CRI",
                f"container runtime is not running: validate service connection: validate CRI v1 "
                f'runtime API for endpoint "{socket}": no socket at {socket_path}',
            )
        )
    for path in ("/proc/sys/net/bridge/bridge-nf-call-iptables", "/proc/sys/net/ipv4/ip_forward"):
        name = "FileContent-" + path.replace("/", "-")
        try:
            with open(at(path), "rb") as handle:
                content = handle.read(1)
        except OSError:
            errors.append((name, f"{path} does not exist"))
            continue
        if content != b"1":
            errors.append((name, f"{path} contents are not set to 1"))
    try:
        with open(at("/proc/swaps")) as handle:
            swaps = handle.read().splitlines()
    except OSError:
        swaps = []
    if len(swaps) > 1:
        warnings.append(
            "[WARNING Swap]: swap is enabled; production deployments should disable swap unless "
            "testing the NodeSwap feature gate of the kubelet"
        )
    ignored = {name.lower() for name in registration.get("ignorePreflightErrors") or []}
    error_lines = []
    for name, message in errors:
        if "all" in ignored or name.lower() in ignored:
            warnings.append(f"[WARNING {name}]: {message}")
        else:
            error_lines.append(f"[ERROR {name}]: {message}")
    return warnings, error_lines


def swap_refused_by_kubelet(kubelet: dict, root: str = "/") -> bool:
    """The kubelet (not kubeadm) refuses to start with swap on while ``failSwapOn`` is true (default)."""
    try:
        with open(os.path.join(root, "proc/swaps")) as handle:
            swap_on = len(handle.read().splitlines()) > 1
    except OSError:
        swap_on = False
    return swap_on and kubelet.get("failSwapOn", True) is not False
