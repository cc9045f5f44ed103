"""A real OCI distribution registry on 127.0.0.1 for the tests: Debian's ``docker-registry`` package
(distribution 2.8), run as a child process with a throw-away configuration and storage folder, plus
a small client that pushes multi-platform images through the registry's own HTTP API and a bearer
token gate that can stand in front of it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import secrets
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ACCEPT_ALL = ", ".join((OCI_INDEX, "application/vnd.docker.distribution.manifest.list.v2+json", OCI_MANIFEST))


def registry_binary() -> str:
    found = shutil.which("docker-registry")
    if not found:
        raise RuntimeError("docker-registry is not installed (fix: apt-get install -y docker-registry)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_registry(workdir: Path) -> Iterator[str]:
    """Run docker-registry on 127.0.0.1 with storage under workdir; yield its base URL."""
    port = _free_port()
    storage = workdir / "storage"
    storage.mkdir(parents=True)
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = (workdir / "registry.log").open("wb")
    proc = subprocess.Popen([registry_binary(), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/v2/", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"docker-registry did not start: {(workdir / 'registry.log').read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _request(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, data=body or None, method=method, headers=headers or {})
    return urllib.request.urlopen(request, timeout=30)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(text: str) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("etc/image-id")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


class Pusher:
    """Pushes images through the distribution API: blobs, one manifest per platform, an index."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def blob(self, name: str, data: bytes) -> dict:
        with _request("POST", f"{self.base}/v2/{name}/blobs/uploads/") as answer:
            location = urllib.parse.urljoin(self.base, answer.headers["Location"])
        sep = "&" if "?" in location else "?"
        put = f"{location}{sep}digest={urllib.parse.quote(_digest(data))}"
        with _request("PUT", put, data, {"Content-Type": "application/octet-stream"}):
            pass
        return {"digest": _digest(data), "size": len(data)}

    def manifest(self, name: str, reference: str, document: dict, media_type: str) -> str:
        data = json.dumps(document, separators=(",", ":")).encode()
        url = f"{self.base}/v2/{name}/manifests/{reference}"
        with _request("PUT", url, data, {"Content-Type": media_type}) as answer:
            stated = answer.headers["Docker-Content-Digest"]
        assert stated == _digest(data), (stated, _digest(data))
        return stated

    def push_index(self, name: str, tag: str, content: str) -> str:
        """A two-platform image (linux/amd64, linux/arm64) whose layer holds ``content``; returns the
        digest of its index as the registry stated it on upload."""
        entries = []
        for arch in ("amd64", "arm64"):
            layer = _layer(f"{content} {arch}\n")
            config = json.dumps(
                {
                    "architecture": arch,
                    "os": "linux",
                    "rootfs": {"type": "layers", "diff_ids": [_digest(gzip.decompress(layer))]},
                    "config": {},
                },
                separators=(",", ":"),
            ).encode()
            manifest = {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, **self.blob(name, config)},
                "layers": [{"mediaType": OCI_LAYER, **self.blob(name, layer)}],
            }
            digest = self.manifest(
                name, _digest(json.dumps(manifest, separators=(",", ":")).encode()), manifest, OCI_MANIFEST
            )
            size = len(json.dumps(manifest, separators=(",", ":")).encode())
            entries.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest,
                    "size": size,
                    "platform": {"architecture": arch, "os": "linux"},
                }
            )
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        return self.manifest(name, tag, index, OCI_INDEX)

    def head_digest(self, name: str, tag: str) -> str:
        """Docker-Content-Digest the registry answers for name:tag (HEAD, index accepted)."""
        url = f"{self.base}/v2/{name}/manifests/{tag}"
        with _request("HEAD", url, headers={"Accept": ACCEPT_ALL}) as answer:
            return answer.headers["Docker-Content-Digest"]


@contextmanager
def bearer_gate(upstream: str, lie_about_digest: bool = False) -> Iterator[dict]:
    """An HTTP front for the registry that answers 401 with a Bearer challenge until the client
    presents a token from its /token endpoint (issued only for service "sparklab-test" and a pull
    scope), then forwards the request. ``lie_about_digest`` replaces Docker-Content-Digest with a
    wrong value. Yields its URL and the list of token requests it served."""
    token = secrets.token_hex(16)
    state: dict = {"token_requests": []}

    class Handler(BaseHTTPRequestHandler):
        def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(code)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            parts = urllib.parse.urlsplit(self.path)
            if parts.path == "/token":
                query = dict(urllib.parse.parse_qsl(parts.query))
                state["token_requests"].append(query)
                ok = query.get("service") == "sparklab-test" and query.get("scope", "").endswith(":pull")
                body = json.dumps({"token": token} if ok else {"errors": ["denied"]}).encode()
                self._send(200 if ok else 403, body, {"Content-Type": "application/json"})
                return
            if self.headers.get("Authorization") != f"Bearer {token}":
                challenge = f'Bearer realm="{state["url"]}/token",service="sparklab-test"'
                self._send(401, b"{}", {"WWW-Authenticate": challenge, "Content-Type": "application/json"})
                return
            request = urllib.request.Request(upstream + self.path, headers={"Accept": self.headers["Accept"]})
            with urllib.request.urlopen(request, timeout=30) as answer:
                body = answer.read()
                headers = {k: answer.headers[k] for k in ("Content-Type", "Docker-Content-Digest")}
            if lie_about_digest:
                headers["Docker-Content-Digest"] = "sha256:" + "0" * 64
            self._send(200, body, headers)

        do_HEAD = do_GET  # noqa: N815 - http.server API

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
