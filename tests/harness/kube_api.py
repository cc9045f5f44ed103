"""A stand-in Kubernetes API server: in memory, HTTPS with client certificates, for the harness.

It serves what sparklab's roles, ``kubernetes.core`` (k8s, k8s_info, k8s_log), the real Helm 4.1.4
and kubectl on the nodes and the runner's metrics sampler touch, with the upstream wire format of
``k8s.io/apiserver`` and ``k8s.io/apimachinery`` (discovery documents, ``/openapi/v3`` as
kube_schema.py describes, ``metav1.Status`` errors with the upstream reasons and codes, list
envelopes, watches with the watch-list bookmark, protobuf bodies of the kinds kube_protobuf.py
decodes, ``resourceVersion`` that moves only on a real change and 409 when a write names a stale
one, merge and JSON patches, server-side apply as a whole-object merge for one field manager). What
is written over HTTP is validated (kube_schema.py) before it is stored.

Resources: namespaces, configmaps, secrets, services, serviceaccounts, pods (+ ``log``), nodes,
events, endpoints, persistent volumes and claims, limit ranges, quotas, deployments, replicasets,
statefulsets, daemonsets, jobs, cronjobs, pod disruption budgets, ingresses, network policies,
leases, RBAC roles and bindings, webhook configurations, storageclasses, certificatesigningrequests
(+ ``approval`` and ``status``), apiservices, customresourcedefinitions; ``sparkoperator.k8s.io``
only once its CRDs exist (as upstream, a custom resource is served only after its CRD is Established) and
``metrics.k8s.io`` only once the APIService ``v1beta1.metrics.k8s.io`` exists.

What it models in place of the real components (each a small rule, documented where it acts):
- kube-controller-manager and the kubelets: workloads are available as soon as they are written
  (each generation observed: Helm's ``--wait`` finds them ready);
- the CSR signer: an approved ``kubernetes.io/kubelet-serving`` or
  ``kubernetes.io/kube-apiserver-client-kubelet`` request is signed with the cluster CA;
- bootstrap tokens (``kubeadm token create``): a Secret ``bootstrap-token-<id>`` in kube-system
  authenticates ``Bearer <id>.<secret>`` (``kubeadm join``), as in the upstream token authenticator;
- metrics-server: ``metrics.k8s.io`` returns non-zero CPU and memory for every Node and running Pod;
- the Spark operator: see ``spark_operator_model.py``.
What only a real cluster proves: scheduling, images, networking, real controllers and their timing.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import kube_protobuf
import kube_schema
import yaml


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Kind:
    """One resource type as discovery lists it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("create", "delete", "get", "list", "patch", "update", "watch")

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


BUILTIN = [
    Kind("", "v1", "namespaces", "Namespace", False, ("ns",), ("status",)),
    Kind("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    Kind("", "v1", "secrets", "Secret", True),
    Kind("", "v1", "services", "Service", True, ("svc",), ("status",)),
    Kind("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    Kind("", "v1", "pods", "Pod", True, ("po",), ("log", "status")),
    Kind("", "v1", "nodes", "Node", False, ("no",), ("status",)),
    Kind("", "v1", "events", "Event", True, ("ev",)),
    Kind("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    Kind("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), ("status",)),
    Kind("", "v1", "persistentvolumes", "PersistentVolume", False, ("pv",), ("status",)),
    Kind("", "v1", "limitranges", "LimitRange", True, ("limits",)),
    Kind("", "v1", "resourcequotas", "ResourceQuota", True, ("quota",), ("status",)),
    Kind("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), ("status",)),
    Kind("batch", "v1", "jobs", "Job", True, (), ("status",)),
    Kind("batch", "v1", "cronjobs", "CronJob", True, ("cj",), ("status",)),
    Kind("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",), ("status",)),
    Kind("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",), ("status",)),
    Kind("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
    Kind("coordination.k8s.io", "v1", "leases", "Lease", True),
    Kind("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    Kind("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    Kind("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    Kind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    Kind(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        False,
    ),
    Kind(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        False,
    ),
    Kind("apps", "v1", "deployments", "Deployment", True, ("deploy",), ("status",)),
    Kind("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",), ("status",)),
    Kind("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), ("status",)),
    Kind("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",)),
    Kind(
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        "CertificateSigningRequest",
        False,
        ("csr",),
        ("approval", "status"),
    ),
    Kind("apiregistration.k8s.io", "v1", "apiservices", "APIService", False, (), ("status",)),
    Kind(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        ("crd",),
        ("status",),
    ),
]
METRICS = [
    Kind("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", False, (), (), ("get", "list")),
    Kind("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True, (), (), ("get", "list")),
]
METRICS_APISERVICE = "v1beta1.metrics.k8s.io"
# Signers whose approved requests the model signs (kube-controller-manager's csrsigning controller).
SIGNED = ("kubernetes.io/kubelet-serving", "kubernetes.io/kube-apiserver-client-kubelet")


class ApiError(Exception):
    """An error answered as a ``metav1.Status`` (reason and code as in apimachinery's errors.go)."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self) -> dict:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (also used for strategic merge: our objects need no list merges)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def json_patch(target: dict, operations: list[dict]) -> dict:
    """RFC 6902 add / replace / remove, enough for kubectl and kubernetes.core."""
    out = copy.deepcopy(target)
    for op in operations:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent = out
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1]
        if op["op"] in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                elif op["op"] == "add":
                    parent.insert(int(last), op["value"])
                else:
                    parent[int(last)] = op["value"]
            else:
                parent[last] = op["value"]
        elif op["op"] == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            else:
                parent.pop(last, None)
        else:
            raise ApiError(422, "Invalid", f"unsupported JSON patch operation {op['op']!r}")
    return out


def label_match(labels: dict, selector: str) -> bool:
    """``labels.Parse`` of apimachinery for =, ==, !=, in, notin, exists and !exists."""
    for term in filter(None, (t.strip() for t in re.split(r",(?![^(]*\))", selector))):
        if m := re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", term):
            values = {v.strip() for v in m.group(3).split(",")}
            if (labels.get(m.group(1)) in values) != (m.group(2) == "in"):
                return False
        elif "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = re.split(r"==?", term, maxsplit=1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def field_match(obj: dict, selector: str) -> bool:
    """Field selectors on metadata.name, metadata.namespace, spec.nodeName and status.phase."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        negate = "!=" in term
        key, value = re.split(r"!=|==?", term, maxsplit=1)
        current: Any = obj
        for part in key.strip().split("."):
            current = current.get(part, "") if isinstance(current, dict) else ""
        if (str(current) == value.strip()) == negate:
            return False
    return True


def _apply_body(body: bytes) -> dict:
    """A server-side apply body: YAML, which clients send as JSON (parsed as such: PyYAML takes
    seconds on a CRD)."""
    try:
        return json.loads(body)
    except ValueError:
        return yaml.safe_load(body)


def _fold_string_data(kind: Kind, body: dict) -> None:
    """Secrets: ``stringData`` is write-only, merged into ``data`` as base64 (core/v1 conversion)."""
    if kind.plural == "secrets" and body.get("stringData"):
        data = body.setdefault("data", {})
        for key, value in body.pop("stringData").items():
            data[key] = base64.b64encode(str(value).encode()).decode()


@dataclass
class Cluster:
    """The objects and the rules that stand in for the controllers."""

    ca_cert_pem: bytes
    ca_key_pem: bytes
    objects: dict[tuple, dict] = field(default_factory=dict)
    pod_logs: dict[tuple[str, str], str] = field(default_factory=dict)
    revision: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)
    on_create: list[Callable[[Cluster, Kind, dict], None]] = field(default_factory=list)
    # Rules run on an object about to replace a stored one (they may change it, as a controller would).
    on_update: list[Callable[[Cluster, Kind, dict], None]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Every change as a watch event: (resourceVersion, type, (group, plural), object).
    events: list[tuple[int, str, tuple[str, str], dict]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    closed: bool = False
    # Failure injection for tests: the next write to (plural, name) is answered with a 500 once.
    fail_once: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.create(self.kind("namespaces"), None, {"metadata": {"name": name}})

    # --- resource types -------------------------------------------------------------------------
    def kinds(self) -> list[Kind]:
        """Served types: built-in, custom resources of Established CRDs, metrics once registered."""
        out = list(BUILTIN)
        with self.lock:  # read in place: a copy of every CRD's schema on each request is slow
            specs = [o["spec"] for key, o in self.objects.items() if key[1] == "customresourcedefinitions"]
        for spec in specs:
            for version in spec.get("versions", []):
                if version.get("served", True):
                    out.append(
                        Kind(
                            spec["group"],
                            version["name"],
                            spec["names"]["plural"],
                            spec["names"]["kind"],
                            spec.get("scope") == "Namespaced",
                            tuple(spec["names"].get("shortNames", [])),
                            ("status",),
                        )
                    )
        if self.get_or_none(self.kind("apiservices"), None, METRICS_APISERVICE):
            out += METRICS
        return out

    def kind(self, plural: str, group: str | None = None) -> Kind:
        for kind in BUILTIN if group is None else self.kinds():
            if kind.plural == plural and (group is None or kind.group == group):
                return kind
        raise ApiError(404, "NotFound", f"the server could not find the requested resource ({plural})")

    # --- storage --------------------------------------------------------------------------------
    def _key(self, kind: Kind, namespace: str | None, name: str) -> tuple:
        return (kind.group, kind.plural, namespace if kind.namespaced else None, name)

    def _bump(self) -> str:
        self.revision += 1
        return str(self.revision)

    def _event(self, kind: Kind, kind_of_event: str, obj: dict) -> None:
        self.events.append((self.revision, kind_of_event, (kind.group, kind.plural), copy.deepcopy(obj)))
        with self.changed:
            self.changed.notify_all()

    def watch_events(self, kind: Kind, namespace: str | None, since: int) -> list[tuple[int, str, dict]]:
        """The events of ``kind`` (in ``namespace``) after resourceVersion ``since``."""
        with self.lock:
            return [
                (rv, kind_of_event, copy.deepcopy(obj))
                for rv, kind_of_event, key, obj in self.events
                if rv > since
                and key == (kind.group, kind.plural)
                and (namespace is None or obj["metadata"].get("namespace") == namespace)
            ]

    @staticmethod
    def _check_fresh(kind: Kind, current: dict, sent: dict | None) -> None:
        """Optimistic concurrency: a write naming another resourceVersion is refused with 409."""
        sent_version = ((sent or {}).get("metadata") or {}).get("resourceVersion")
        if sent_version and sent_version != current["metadata"]["resourceVersion"]:
            group = f".{kind.group}" if kind.group else ""
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {kind.plural}{group} "{current["metadata"]["name"]}": '
                "the object has been modified; please apply your changes to the latest version and try again",
            )

    def get_or_none(self, kind: Kind, namespace: str | None, name: str) -> dict | None:
        with self.lock:
            obj = self.objects.get(self._key(kind, namespace, name))
            return copy.deepcopy(obj) if obj else None

    def get(self, kind: Kind, namespace: str | None, name: str) -> dict:
        obj = self.get_or_none(kind, namespace, name)
        if obj is None:
            group = f".{kind.group}" if kind.group else ""
            raise ApiError(404, "NotFound", f'{kind.plural}{group} "{name}" not found')
        return obj

    def list(self, kind: Kind, namespace: str | None, labels: str = "", fields: str = "") -> list[dict]:
        with self.lock:
            items = [
                copy.deepcopy(o)
                for (g, p, ns, _), o in sorted(self.objects.items(), key=str)
                if g == kind.group and p == kind.plural and (namespace is None or ns == namespace)
            ]
        return [
            o
            for o in items
            if label_match(o["metadata"].get("labels") or {}, labels) and field_match(o, fields)
        ]

    def create(
        self, kind: Kind, namespace: str | None, body: dict, check: Callable[[dict], None] | None = None
    ) -> dict:
        with self.lock:
            meta = body.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            name = meta.get("name")
            if not name:
                raise ApiError(422, "Invalid", f"{kind.kind} is invalid: metadata.name: Required value")
            if kind.namespaced:
                namespace = namespace or meta.get("namespace") or "default"
                if not self.get_or_none(self.kind("namespaces"), None, namespace):
                    raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found')
                meta["namespace"] = namespace
            key = self._key(kind, namespace, name)
            if key in self.objects:
                group = f".{kind.group}" if kind.group else ""
                raise ApiError(409, "AlreadyExists", f'{kind.plural}{group} "{name}" already exists')
            body["apiVersion"], body["kind"] = kind.group_version, kind.kind
            if check:
                check(body)
            _fold_string_data(kind, body)
            meta.update(
                uid=str(uuid.uuid4()), creationTimestamp=now(), resourceVersion=self._bump(), generation=1
            )
            if kind.plural == "namespaces":
                body["status"] = {"phase": "Active"}
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            self.objects[key] = body
            for rule in self.on_create:
                rule(self, kind, body)
            self._event(kind, "ADDED", body)
            self._after_update(kind, body)
            return copy.deepcopy(self.objects[key])

    def replace(
        self,
        kind: Kind,
        namespace: str | None,
        name: str,
        body: dict,
        subresource: str = "",
        check: Callable[[dict], None] | None = None,
    ) -> dict:
        with self.lock:
            current = self.get(kind, namespace, name)
            self._check_fresh(kind, current, body)
            new = copy.deepcopy(body)
            new["apiVersion"], new["kind"] = kind.group_version, kind.kind
            if subresource in ("status", "approval"):
                merged = copy.deepcopy(current)
                merged["status"] = new.get("status", {})
                new = merged
            elif "status" in current and "status" not in new:
                new["status"] = current["status"]
            if check and not subresource:
                check(new)
            _fold_string_data(kind, new)
            for keep in ("uid", "creationTimestamp", "namespace", "name", "generation"):
                if keep in current["metadata"]:
                    new.setdefault("metadata", {})[keep] = current["metadata"][keep]
            return self._store(kind, current, new)

    def patch(
        self,
        kind: Kind,
        namespace: str | None,
        name: str,
        content_type: str,
        body: bytes,
        subresource: str = "",
        check: Callable[[dict], None] | None = None,
    ) -> dict:
        with self.lock:
            current = self.get_or_none(kind, namespace, name)
            if current is None and "apply-patch" in content_type:
                return self.create(kind, namespace, _apply_body(body), check)
            if current is None:
                self.get(kind, namespace, name)
            if "json-patch" in content_type:
                new = json_patch(current, json.loads(body))
            elif "apply-patch" in content_type:
                applied = _apply_body(body)
                self._check_fresh(kind, current, applied)
                new = merge_patch(current, applied)
            else:
                self._check_fresh(kind, current, json.loads(body))
                new = merge_patch(current, json.loads(body))
            if subresource in ("status", "approval"):
                merged = copy.deepcopy(current)
                merged["status"] = new.get("status", {})
                new = merged
            elif check:
                check(new)
            return self._store(kind, current, new)

    def _store(self, kind: Kind, current: dict, new: dict) -> dict:
        """Keep the object; resourceVersion (and generation, on a spec change) move only on a change."""
        compare = [copy.deepcopy(current), copy.deepcopy(new)]
        for obj in compare:
            obj["metadata"].pop("resourceVersion", None)
            obj["metadata"].pop("managedFields", None)
        if compare[0] == compare[1]:
            return current
        if current.get("spec") != new.get("spec"):
            new["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        for rule in self.on_update:
            rule(self, kind, new)
        new["metadata"]["resourceVersion"] = self._bump()
        self.objects[self._key(kind, current["metadata"].get("namespace"), current["metadata"]["name"])] = new
        self._event(kind, "MODIFIED", new)
        self._after_update(kind, new)
        return copy.deepcopy(new)

    def delete(self, kind: Kind, namespace: str | None, name: str) -> dict:
        with self.lock:
            obj = self.get(kind, namespace, name)
            del self.objects[self._key(kind, namespace, name)]
            self._bump()
            self._event(kind, "DELETED", obj)
            if kind.plural == "namespaces":
                for key in [k for k in self.objects if k[2] == name]:
                    del self.objects[key]
            return obj

    def put_object(self, plural: str, body: dict, group: str | None = None) -> dict:
        """Create or replace from the test or a model (no admission, like a controller's write)."""
        kind = self.kind(plural, group)
        meta = body["metadata"]
        if self.get_or_none(kind, meta.get("namespace"), meta["name"]):
            return self.replace(kind, meta.get("namespace"), meta["name"], body)
        return self.create(kind, meta.get("namespace"), body)

    # --- the rules that stand in for controllers ------------------------------------------------
    def _after_update(self, kind: Kind, obj: dict) -> None:
        if kind.plural == "certificatesigningrequests":
            self._approve_bootstrap(obj)
            self._sign_if_approved(obj)

    def _approve_bootstrap(self, csr: dict) -> None:
        """csrapproving controller: a node client request sent under a bootstrap token is approved."""
        spec = csr["spec"]
        if spec.get("signerName") == "kubernetes.io/kube-apiserver-client-kubelet" and spec.get(
            "username", ""
        ).startswith("system:bootstrap:"):
            conditions = csr.setdefault("status", {}).setdefault("conditions", [])
            if not conditions:
                conditions.append(
                    {
                        "type": "Approved",
                        "status": "True",
                        "reason": "AutoApproved",
                        "message": "Auto approving kubelet client certificate after SubjectAccessReview.",
                    }
                )

    def _sign_if_approved(self, csr: dict) -> None:
        """csrsigning controller: sign approved requests of the kubelet signers with the cluster CA."""
        conditions = (csr.get("status") or {}).get("conditions") or []
        if csr["spec"].get("signerName") not in SIGNED or (csr.get("status") or {}).get("certificate"):
            return
        if not any(c.get("type") == "Approved" and c.get("status", "True") == "True" for c in conditions):
            return
        from pki import sign_csr

        pem = sign_csr(
            self.ca_cert_pem,
            self.ca_key_pem,
            base64.b64decode(csr["spec"]["request"]),
            server=csr["spec"]["signerName"].endswith("kubelet-serving"),
        )
        csr["status"]["certificate"] = base64.b64encode(pem).decode()
        csr["metadata"]["resourceVersion"] = self._bump()
        self.objects[self._key(self.kind("certificatesigningrequests"), None, csr["metadata"]["name"])] = csr

    def bootstrap_token_valid(self, token: str) -> bool:
        """The bootstrap token authenticator: ``<id>.<secret>`` against Secret bootstrap-token-<id>."""
        if not re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token):
            return False
        token_id, secret = token.split(".")
        stored = self.get_or_none(self.kind("secrets"), "kube-system", f"bootstrap-token-{token_id}")
        data = (stored or {}).get("stringData") or {
            k: base64.b64decode(v).decode() for k, v in ((stored or {}).get("data") or {}).items()
        }
        return bool(stored) and data.get("token-secret") == secret

    def node_metrics(self) -> list[dict]:
        """metrics-server's NodeMetrics: every Node reports CPU and memory in use (never zero)."""
        items = []
        for index, node in enumerate(self.list(self.kind("nodes"), None)):
            items.append(
                {
                    "metadata": {
                        "name": node["metadata"]["name"],
                        "creationTimestamp": now(),
                        "labels": node["metadata"].get("labels", {}),
                    },
                    "timestamp": now(),
                    "window": "15s",
                    "usage": {"cpu": f"{180 + 40 * index}m", "memory": f"{900 + 100 * index}Mi"},
                }
            )
        return items

    def pod_metrics(self, namespace: str | None, labels: str) -> list[dict]:
        """PodMetrics for running pods, per container, non-zero."""
        items = []
        for pod in self.list(self.kind("pods"), namespace, labels):
            if (pod.get("status") or {}).get("phase") != "Running":
                continue
            containers = [
                {"name": c["name"], "usage": {"cpu": "350m", "memory": "600Mi"}}
                for c in pod["spec"].get("containers", [])
            ]
            items.append(
                {
                    "metadata": {
                        "name": pod["metadata"]["name"],
                        "namespace": pod["metadata"]["namespace"],
                        "labels": pod["metadata"].get("labels", {}),
                        "creationTimestamp": now(),
                    },
                    "timestamp": now(),
                    "window": "15s",
                    "containers": containers,
                }
            )
        return items


# --- HTTP -----------------------------------------------------------------------------------------
_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+)(?=/))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?$"
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cluster: Cluster

    def log_message(self, *args: object) -> None:
        return

    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _user(self) -> tuple[str, list[str]] | None:
        """(user, groups) from a client certificate signed by the cluster CA or a bootstrap token
        (x509 and bootstrap-token authenticators of k8s.io/apiserver); None when unauthenticated."""
        peer = self.connection.getpeercert()
        if peer:
            subject = dict(item for rdn in peer["subject"] for item in rdn)
            groups = [v for rdn in peer["subject"] for k, v in rdn if k == "organizationName"]
            return subject.get("commonName", ""), groups + ["system:authenticated"]
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and self.cluster.bootstrap_token_valid(auth[7:].strip()):
            token_id = auth[7:].strip().split(".")[0]
            return f"system:bootstrap:{token_id}", ["system:bootstrappers", "system:authenticated"]
        return None

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        body = self._body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
        self.cluster.requests.append((method, url.path))
        try:
            self.user = self._user()
            if self.user is None:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            answer = self._route(method, url.path, query, body)
            if answer[0] == "watch":
                self._watch(*answer[1:])
            else:
                self._send(*answer)
        except ApiError as exc:
            self._send(exc.code, exc.status())

    def _decode(self, body: bytes) -> dict:
        """A JSON body, or a protobuf one (client-go typed clients: kube_protobuf)."""
        if self.headers.get("Content-Type", "").startswith("application/vnd.kubernetes.protobuf"):
            try:
                return kube_protobuf.decode(body)
            except kube_protobuf.Unsupported as exc:
                raise ApiError(415, "UnsupportedMediaType", str(exc)) from None
        return json.loads(body)

    def _checker(self, kind: Kind, query: dict, content_type: str) -> Callable[[dict], None]:
        """Validate a written object (kube_schema): built-in schema or the stored CRD's."""
        crd = None
        if kind.group and kind.group not in {k.group for k in BUILTIN + METRICS}:
            crd = self.cluster.get_or_none(
                self.cluster.kind("customresourcedefinitions"), None, f"{kind.plural}.{kind.group}"
            )
        strict = query.get("fieldValidation") == "Strict"

        def check(obj: dict) -> None:
            try:
                kube_schema.check(obj, crd, strict, "apply-patch" in content_type)
            except kube_schema.Invalid as exc:
                raise ApiError(exc.code, exc.reason, exc.message) from None

        return check

    def _watch(self, kind: Kind, namespace: str | None, query: dict) -> None:
        """A watch as client-go's informers open it: the current objects as ADDED when no
        resourceVersion (or "0") is given, then every change after it, one JSON event per chunk,
        until ``timeoutSeconds``, the client leaves, or the server stops."""
        cluster = self.cluster
        labels, fields = query.get("labelSelector", ""), query.get("fieldSelector", "")
        since = int(query.get("resourceVersion") or 0)
        deadline = time.monotonic() + min(float(query.get("timeoutSeconds") or 600), 600)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def matches(obj: dict) -> bool:
            return label_match(obj["metadata"].get("labels") or {}, labels) and field_match(obj, fields)

        try:
            initial = query.get("sendInitialEvents") == "true"
            if since == 0 or initial:
                with cluster.lock:
                    since = cluster.revision
                    current = cluster.list(kind, namespace, labels, fields)
                for obj in current:
                    chunk(json.dumps({"type": "ADDED", "object": obj}).encode() + b"\n")
            if initial:
                # The watch-list protocol (KEP-3157): a bookmark marks the end of the initial events.
                mark = {
                    "kind": kind.kind,
                    "apiVersion": kind.group_version,
                    "metadata": {
                        "resourceVersion": str(since),
                        "annotations": {"k8s.io/initial-events-end": "true"},
                    },
                }
                chunk(json.dumps({"type": "BOOKMARK", "object": mark}).encode() + b"\n")
            while not cluster.closed and time.monotonic() < deadline:
                for revision, kind_of_event, obj in cluster.watch_events(kind, namespace, since):
                    since = revision
                    if matches(obj):
                        chunk(json.dumps({"type": kind_of_event, "object": obj}).encode() + b"\n")
                with cluster.changed:
                    cluster.changed.wait(0.5)
            chunk(b"")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def _route(self, method: str, path: str, query: dict, body: bytes) -> tuple:
        cluster = self.cluster
        if path in ("/readyz", "/livez", "/healthz"):
            return 200, b"ok", "text/plain"
        if path == "/version":
            return 200, {"major": "1", "minor": "37", "gitVersion": "v1.37.1", "platform": "linux/amd64"}
        if path == "/openapi/v3":
            versions = sorted({k.group_version for k in cluster.kinds()})
            return 200, kube_schema.openapi_root(versions)
        if m := re.fullmatch(r"/openapi/v3/(?:api/(v1)|apis/([^/]+)/([^/]+))", path):
            group, version = (m.group(2) or "", m.group(3) or "v1")
            kinds = [k for k in cluster.kinds() if k.group == group and k.version == version]
            if not kinds:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return 200, kube_schema.openapi_group_version(kinds)
        if path == "/api":
            return 200, {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
            }
        if path == "/apis":
            groups: dict[str, list[str]] = {}
            for kind in cluster.kinds():
                if kind.group and kind.version not in groups.setdefault(kind.group, []):
                    groups[kind.group].append(kind.version)
            return 200, {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [
                    {
                        "name": g,
                        "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                        "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]},
                    }
                    for g, vs in groups.items()
                ],
            }
        if m := re.fullmatch(r"/api/(v1)|/apis/([^/]+)/([^/]+)", path):
            group, version = (m.group(2) or "", m.group(3) or "v1")
            kinds = [k for k in cluster.kinds() if k.group == group and k.version == version]
            if not kinds:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            resources = []
            for k in kinds:
                resources.append(
                    {
                        "name": k.plural,
                        "singularName": k.kind.lower(),
                        "namespaced": k.namespaced,
                        "kind": k.kind,
                        "verbs": list(k.verbs),
                        "shortNames": list(k.short),
                    }
                )
                resources += [
                    {
                        "name": f"{k.plural}/{s}",
                        "singularName": "",
                        "namespaced": k.namespaced,
                        "kind": k.kind,
                        "verbs": ["get", "patch", "update"] if s != "log" else ["get"],
                    }
                    for s in k.subresources
                ]
            return 200, {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version,
                "resources": resources,
            }
        if path.startswith("/apis/metrics.k8s.io/v1beta1/"):
            return self._metrics(path, query)
        m = _PATH.match(path)
        if not m:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        group = m.group("group") or ""
        kinds = [
            k
            for k in cluster.kinds()
            if k.group == group
            and k.plural == m.group("plural")
            and k.version == (m.group("version") or "v1")
        ]
        if not kinds:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        kind, ns, name, sub = kinds[0], m.group("ns"), m.group("name"), m.group("sub") or ""
        if sub and sub not in kind.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if method == "GET" and name and sub == "log":
            return 200, self._log(ns, name, query).encode(), "text/plain"
        if method == "GET" and name:
            return 200, cluster.get(kind, ns, name)
        if method == "GET" and query.get("watch") in ("true", "1"):
            return "watch", kind, ns, query
        if method == "GET":
            items = cluster.list(kind, ns, query.get("labelSelector", ""), query.get("fieldSelector", ""))
            return 200, {
                "kind": f"{kind.kind}List",
                "apiVersion": kind.group_version,
                "metadata": {"resourceVersion": str(cluster.revision)},
                "items": items,
            }
        dry_run = query.get("dryRun") == "All"
        target = name or (
            json.loads(body).get("metadata", {}).get("name", "")
            if method == "POST" and body.startswith(b"{")
            else ""
        )
        if method != "GET" and (kind.plural, target) in cluster.fail_once:
            cluster.fail_once.discard((kind.plural, target))
            raise ApiError(500, "InternalError", "Internal error occurred: injected by the test harness")
        check = self._checker(kind, query, self.headers.get("Content-Type", ""))
        if method == "POST":
            created = self._decode(body)
            if kind.plural == "certificatesigningrequests":
                # The API server sets the requester from the authenticated user (CSR registry strategy).
                created["spec"]["username"], created["spec"]["groups"] = self.user
            if dry_run:
                return 201, created
            return 201, cluster.create(kind, ns, created, check)
        if method == "PUT":
            return 200, cluster.replace(kind, ns, name, self._decode(body), sub, check)
        if method == "PATCH":
            content_type = self.headers.get("Content-Type", "")
            return 200, cluster.patch(kind, ns, name, content_type, body, sub, check)
        if method == "DELETE":
            return 200, cluster.delete(kind, ns, name)
        raise ApiError(405, "MethodNotAllowed", f"method {method} not allowed")

    def _log(self, namespace: str, name: str, query: dict) -> str:
        """pods/log with the upstream 400 answers for a pod that has not started.

        Unscheduled: ``pod %s does not have a host assigned`` (pkg/registry/core/pod/strategy.go,
        LogLocation). Waiting container: ``container %q in pod %q is waiting to start: ...`` with the
        kubelet's wording for image pull failures (pkg/kubelet/kubelet_pods.go, validateContainerLogStatus).
        """
        pod = self.cluster.get(self.cluster.kind("pods"), namespace, name)
        if not pod["spec"].get("nodeName"):
            raise ApiError(400, "BadRequest", f"pod {name} does not have a host assigned")
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        container = query.get("container") or pod["spec"]["containers"][0]["name"]
        state = next((s.get("state", {}) for s in statuses if s["name"] == container), {})
        if "running" not in state and "terminated" not in state:
            reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
            wording = {
                "ErrImagePull": "image can't be pulled",
                "ImagePullBackOff": "trying and failing to pull image",
            }.get(reason, reason)
            raise ApiError(
                400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start: {wording}'
            )
        text = self.cluster.pod_logs.get((namespace, name), "")
        if query.get("tailLines"):
            text = "".join(text.splitlines(keepends=True)[-int(query["tailLines"]) :])
        return text

    def _metrics(self, path: str, query: dict) -> tuple:
        if not self.cluster.get_or_none(self.cluster.kind("apiservices"), None, METRICS_APISERVICE):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if path.endswith("/nodes"):
            items = self.cluster.node_metrics()
            return 200, {
                "kind": "NodeMetricsList",
                "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": {},
                "items": items,
            }
        if m := re.fullmatch(r"/apis/metrics\.k8s\.io/v1beta1/(?:namespaces/([^/]+)/)?pods", path):
            items = self.cluster.pod_metrics(m.group(1), query.get("labelSelector", ""))
            return 200, {
                "kind": "PodMetricsList",
                "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": {},
                "items": items,
            }
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")


class ApiServer:
    """The stand-in API server on ``host``:random port, TLS with the harness PKI."""

    def __init__(self, cluster: Cluster, host: str, cert_file: str, key_file: str, ca_file: str) -> None:
        handler = type("BoundHandler", (Handler,), {"cluster": cluster})
        self.cluster = cluster
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca_file)
        context.load_cert_chain(cert_file, key_file)
        context.verify_mode = ssl.CERT_OPTIONAL
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.host, self.port = host, self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def __enter__(self) -> ApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cluster.closed = True
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_for(predicate: Callable[[], Any], timeout: float = 30, every: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy (test helper; no timing assert)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(every)
    raise TimeoutError("condition not met")
