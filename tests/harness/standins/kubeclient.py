"""Shared by the stand-in kubeadm and kubelet inside the node containers (helm and kubectl are real).

Standard library plus PyYAML (copied next to this file by the harness). Reads a kubeconfig the
way client-go does for the fields kubeadm writes (server, certificate-authority-data,
client-certificate-data, client-key-data, token) and speaks HTTPS to the API server named there.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import shutil
import ssl
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yaml  # noqa: E402  (PyYAML, copied beside this file)

HARNESS_DIR = "/etc/sparklab-harness"

# kubectl resource names -> (API path prefix, plural, namespaced)
RESOURCES = {
    "namespace": ("/api/v1", "namespaces", False),
    "ns": ("/api/v1", "namespaces", False),
    "node": ("/api/v1", "nodes", False),
    "no": ("/api/v1", "nodes", False),
    "pod": ("/api/v1", "pods", True),
    "po": ("/api/v1", "pods", True),
    "secret": ("/api/v1", "secrets", True),
    "configmap": ("/api/v1", "configmaps", True),
    "cm": ("/api/v1", "configmaps", True),
    "service": ("/api/v1", "services", True),
    "svc": ("/api/v1", "services", True),
    "serviceaccount": ("/api/v1", "serviceaccounts", True),
    "daemonset": ("/apis/apps/v1", "daemonsets", True),
    "ds": ("/apis/apps/v1", "daemonsets", True),
    "deployment": ("/apis/apps/v1", "deployments", True),
    "statefulset": ("/apis/apps/v1", "statefulsets", True),
    "storageclass": ("/apis/storage.k8s.io/v1", "storageclasses", False),
    "sc": ("/apis/storage.k8s.io/v1", "storageclasses", False),
    "certificatesigningrequest": ("/apis/certificates.k8s.io/v1", "certificatesigningrequests", False),
    "csr": ("/apis/certificates.k8s.io/v1", "certificatesigningrequests", False),
    "apiservice": ("/apis/apiregistration.k8s.io/v1", "apiservices", False),
    "customresourcedefinition": ("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", False),
    "crd": ("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", False),
}
# apiVersion/kind of a manifest -> kubectl resource name
KINDS = {
    "Namespace": "namespace",
    "Node": "node",
    "Pod": "pod",
    "Secret": "secret",
    "ConfigMap": "configmap",
    "Service": "service",
    "ServiceAccount": "serviceaccount",
    "DaemonSet": "daemonset",
    "Deployment": "deployment",
    "StatefulSet": "statefulset",
    "StorageClass": "storageclass",
    "CertificateSigningRequest": "csr",
    "APIService": "apiservice",
    "CustomResourceDefinition": "crd",
}


def resource(name: str) -> tuple[str, str, bool]:
    key = name.lower()
    for candidate in (
        key,
        key.rstrip("s"),
        key[:-2] if key.endswith("es") else key,
        key.split(".")[0].rstrip("s"),
    ):
        if candidate in RESOURCES:
            return RESOURCES[candidate]
    raise SystemExit(f'error: the server doesn\'t have a resource type "{name}"')


def path_of(kind_name: str, name: str = "", namespace: str = "") -> str:
    prefix, plural, namespaced = resource(kind_name)
    path = prefix + (f"/namespaces/{namespace or 'default'}" if namespaced and (namespace or name) else "")
    return f"{path}/{plural}" + (f"/{name}" if name else "")


class ApiError(Exception):
    def __init__(self, code: int, status: dict) -> None:
        super().__init__(status.get("message", ""))
        self.code, self.status = code, status

    def kubectl_line(self) -> str:
        return f"Error from server ({self.status.get('reason', 'Unknown')}): {self.status.get('message', '')}"


class Client:
    """An API client from a kubeconfig file, or from a server URL, CA and bootstrap token."""

    def __init__(
        self, kubeconfig: str | None = None, *, server: str = "", ca_pem: bytes = b"", token: str = ""
    ) -> None:
        self.folder = tempfile.mkdtemp(prefix="kubeclient-")
        atexit.register(shutil.rmtree, self.folder, True)
        cert = key = None
        if kubeconfig:
            with open(kubeconfig) as handle:
                config = yaml.safe_load(handle)
            context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
            cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
            user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
            server = cluster["server"]
            ca_pem = base64.b64decode(cluster["certificate-authority-data"])
            token = user.get("token", "")
            if "client-certificate-data" in user:
                cert, key = (
                    self._write("c.crt", user["client-certificate-data"]),
                    self._write("c.key", user["client-key-data"]),
                )
            elif "client-certificate" in user:
                cert, key = user["client-certificate"], user["client-key"]
        self.server, self.token = server.rstrip("/"), token
        self.context = ssl.create_default_context(cadata=ca_pem.decode())
        if cert:
            self.context.load_cert_chain(cert, key)

    def _write(self, name: str, data_b64: str) -> str:
        path = os.path.join(self.folder, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as handle:
            handle.write(base64.b64decode(data_b64))
        return path

    def request(
        self, method: str, path: str, body: object = None, content_type: str = "application/json"
    ) -> object:
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
                text = response.read().decode()
                kind = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            text = exc.read().decode()
            try:
                status = json.loads(text)
            except ValueError:
                status = {"message": text, "reason": exc.reason}
            raise ApiError(exc.code, status) from None
        return json.loads(text) if "json" in kind else text

    def get(self, path: str) -> object:
        return self.request("GET", path)

    def get_or_none(self, path: str) -> dict | None:
        try:
            return self.get(path)  # type: ignore[return-value]
        except ApiError as exc:
            if exc.code == 404:
                return None
            raise

    def put_object(self, obj: dict, field_manager: str = "harness") -> dict:
        """Server-side apply of one object."""
        meta = obj["metadata"]
        path = path_of(KINDS.get(obj["kind"], obj["kind"]), meta["name"], meta.get("namespace", ""))
        return self.request(
            "PATCH",
            f"{path}?fieldManager={field_manager}&force=true",  # type: ignore[return-value]
            yaml.safe_dump(obj).encode(),
            "application/apply-patch+yaml",
        )


def harness_setting(name: str, default: str = "") -> str:
    """A value the test put in /etc/sparklab-harness (for example the API server URL)."""
    try:
        with open(os.path.join(HARNESS_DIR, name)) as handle:
            return handle.read().strip()
    except FileNotFoundError:
        return default
