"""A stand-in for what the live view reads on a cluster, on 127.0.0.1 only.

It models three HTTP APIs, each from its upstream shape:

* the metrics API of metrics-server (``/apis/metrics.k8s.io/v1beta1/nodes`` and
  ``.../namespaces/<ns>/pods?labelSelector=...``: NodeMetricsList and PodMetricsList);
* two core and custom objects of the API server: ``/api/v1/nodes`` (NodeList with
  ``status.allocatable``) and the SparkApplication
  ``/apis/sparkoperator.k8s.io/v1beta2/namespaces/<ns>/sparkapplications/<name>`` (404 before it
  exists, then ``status.applicationState.state``);
* Spark's monitoring REST API behind the driver's UI (``/api/v1/applications`` and
  ``/api/v1/applications/<id>/executors`` with ``totalInputBytes``, ``completedTasks``,
  ``activeTasks``).

What it serves moves with a clock of "ticks" (one tick per pod-metrics request): the job's pods
appear, change and disappear, and the application goes SUBMITTED, RUNNING, then COMPLETED (or
FAILED with a reason). The metrics API answers 503 once, as it does while metrics-server restarts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

APP_LABEL = "sparkoperator.k8s.io/app-name"
ROLE_LABEL = "spark-role"
NAMESPACE = "spark-jobs"
APP = "wordcount-20261127-090000-ab12"
TOKEN = "fake-token"
# name, CPU millicores in use, memory KiB in use, allocatable CPU, allocatable memory
NODES = (("ip-10-42-0-10", 400, 3_000_000, "1930m", "7805068Ki"),
         ("ip-10-42-0-11", 1700, 5_000_000, "2", "8Gi"))
METRICS = "metrics.k8s.io/v1beta1"


def pod(name: str, role: str, cpu: str, memory: str, app: str = APP) -> dict:
    return {
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {APP_LABEL: app, ROLE_LABEL: role}},
        "timestamp": "2026-11-27T09:00:00Z",
        "window": "15s",
        "containers": [
            {"name": "spark", "usage": {"cpu": cpu, "memory": memory}},
            {"name": "sidecar", "usage": {"cpu": "1000000n", "memory": "1Mi"}},
        ],
    }


def timeline(tick: int) -> list[dict]:
    """Pods of the job at the n-th pod request: exec-1 leaves after tick 3, exec-2 comes at tick 2."""
    pods = [pod(f"{APP}-driver", "driver", f"{200 + tick}m", "700Mi")]
    if tick <= 3:
        pods.append(pod(f"{APP}-exec-1", "executor", f"{1000 + 100 * tick}m", f"{1024 + tick}Mi"))
    if tick >= 2:
        pods.append(pod(f"{APP}-exec-2", "executor", "1500m", "2Gi"))
    pods.append(pod("other-app-driver", "driver", "3", "3Gi", app="someone-else"))
    return pods


@dataclass
class Script:
    """What the stand-in serves at each tick; the defaults are the sampler test's timeline."""

    pods: object = timeline
    state_at: dict[int, str] = field(default_factory=dict)  # first tick of each state
    error_message: str = ""
    fail_node_call: int = 3  # the n-th node-metrics request answers 503 (0: never)
    stop_pods_at: int | None = None  # from this tick on, the job has no pod

    def state(self, tick: int) -> str | None:
        current = None
        for start, name in sorted(self.state_at.items()):
            if tick >= start:
                current = name
        return current


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        state = self.server.state  # type: ignore[attr-defined]
        script: Script = self.server.script  # type: ignore[attr-defined]
        url = urlparse(self.path)
        state["auth"].add(self.headers.get("Authorization"))
        tick = state["pod_calls"]
        if url.path == "/apis/metrics.k8s.io/v1beta1/nodes":
            state["node_calls"] += 1
            if state["node_calls"] == script.fail_node_call:
                self._send(503, {"kind": "Status", "status": "Failure", "code": 503})
                return
            calls = state["node_calls"]
            items = [{"metadata": {"name": name}, "timestamp": "2026-11-27T09:00:00Z", "window": "20s",
                      "usage": {"cpu": f"{cpu + 10 * calls}m", "memory": f"{mem}Ki"}}
                     for name, cpu, mem, _, _ in NODES]
            self._send(200, {"kind": "NodeMetricsList", "apiVersion": METRICS, "items": items})
        elif url.path == f"/apis/metrics.k8s.io/v1beta1/namespaces/{NAMESPACE}/pods":
            selector = parse_qs(url.query).get("labelSelector", [""])[0]
            state["selectors"].add(selector)
            key, _, value = selector.partition("=")
            gone = script.stop_pods_at is not None and tick >= script.stop_pods_at
            pods = [] if gone else script.pods(tick)
            items = [p for p in pods if p["metadata"]["labels"].get(key) == value]
            state["served"].append(sorted(p["metadata"]["name"] for p in items))
            state["pod_calls"] += 1
            self._send(200, {"kind": "PodMetricsList", "apiVersion": METRICS, "items": items})
        elif url.path == "/api/v1/nodes":
            items = [{"metadata": {"name": name}, "status": {"allocatable": {"cpu": cpu, "memory": mem},
                                                             "capacity": {"cpu": "2", "memory": mem}}}
                     for name, _, _, cpu, mem in NODES]
            self._send(200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": items})
        elif url.path == f"/apis/sparkoperator.k8s.io/v1beta2/namespaces/{NAMESPACE}/sparkapplications/{APP}":
            current = script.state(tick)
            if current is None:
                self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                 "reason": "NotFound", "code": 404})
                return
            status = {"applicationState": {"state": current, "errorMessage": script.error_message}}
            self._send(200, {"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
                             "metadata": {"name": APP, "namespace": NAMESPACE}, "status": status})
        elif url.path == "/api/v1/applications":
            self._send(200, [{"id": "spark-0123", "name": "sparklab-wordcount"}])
        elif url.path == "/api/v1/applications/spark-0123/executors":
            done = 4 * tick
            self._send(200, [
                {"id": "driver", "totalInputBytes": 0, "completedTasks": 0, "activeTasks": 0},
                {"id": "1", "totalInputBytes": 64_000_000 * tick, "completedTasks": done, "activeTasks": 2},
            ])
        else:
            self._send(404, {"kind": "Status", "code": 404})


@contextmanager
def metrics_api(folder: Path,
                script: Script | None = None) -> Iterator[tuple[ThreadingHTTPServer, Path, str]]:
    """Start the stand-in; yields (server, kubeconfig path, base URL). Also serves the Spark UI."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.state = {"node_calls": 0, "pod_calls": 0, "served": [], "selectors": set(), "auth": set()}  # type: ignore[attr-defined]
    server.script = script or Script()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "lab", "cluster": {"server": base}}],
        "users": [{"name": "admin", "user": {"token": TOKEN}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "admin"}}],
    }))
    try:
        yield server, kubeconfig, base
    finally:
        server.shutdown()
        server.server_close()
