"""Sample CPU and memory of the nodes and of a Spark job's pods from the metrics API.

The metrics API (``metrics.k8s.io/v1beta1``, served by metrics-server) is read with the
Kubernetes Python client and the cluster's kubeconfig every ``interval`` seconds in a background
thread. Each sample appends rows to ``metrics.csv``:

    time,kind,name,role,cpu_cores,memory_bytes

``kind`` is ``node`` or ``pod``; ``role`` is the pod's ``spark-role`` label (driver, executor).
Pods are selected by the Spark operator's label ``sparkoperator.k8s.io/app-name=<app>``.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METRICS_GROUP = "metrics.k8s.io"
METRICS_VERSION = "v1beta1"
APP_LABEL = "sparkoperator.k8s.io/app-name"
ROLE_LABEL = "spark-role"
CSV_FIELDS = ("time", "kind", "name", "role", "cpu_cores", "memory_bytes")
DEFAULT_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True)
class MetricRow:
    time: float
    kind: str
    name: str
    role: str
    cpu_cores: float
    memory_bytes: int

    def as_csv(self) -> list[str]:
        return [f"{self.time:.3f}", self.kind, self.name, self.role, f"{self.cpu_cores:.6f}",
                str(self.memory_bytes)]


def parse_cpu(quantity: str) -> float:
    """Cores from a Kubernetes CPU quantity (``250m``, ``1``, ``123456789n``)."""
    from kubernetes.utils import parse_quantity

    return float(parse_quantity(quantity))


def parse_memory(quantity: str) -> int:
    """Bytes from a Kubernetes memory quantity (``512Mi``, ``1048576Ki``, ``1G``)."""
    from kubernetes.utils import parse_quantity

    return int(parse_quantity(quantity))


def node_rows(items: list[dict[str, Any]], now: float) -> list[MetricRow]:
    rows = []
    for item in items:
        usage = item.get("usage", {})
        rows.append(MetricRow(now, "node", item["metadata"]["name"], "",
                              parse_cpu(usage.get("cpu", "0")), parse_memory(usage.get("memory", "0"))))
    return rows


def pod_rows(items: list[dict[str, Any]], app_name: str, now: float) -> list[MetricRow]:
    rows = []
    for item in items:
        labels = item.get("metadata", {}).get("labels") or {}
        if labels.get(APP_LABEL) != app_name:
            continue
        containers = item.get("containers", [])
        cpu = sum(parse_cpu(c.get("usage", {}).get("cpu", "0")) for c in containers)
        memory = sum(parse_memory(c.get("usage", {}).get("memory", "0")) for c in containers)
        rows.append(MetricRow(now, "pod", item["metadata"]["name"], labels.get(ROLE_LABEL, "other"),
                              cpu, memory))
    return rows


def read_metrics_csv(path: Path) -> list[MetricRow]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [MetricRow(float(r["time"]), r["kind"], r["name"], r["role"], float(r["cpu_cores"]),
                          int(r["memory_bytes"])) for r in csv.DictReader(handle)]


@dataclass
class SamplerStats:
    samples: int = 0
    rows: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Sampler:
    """Background sampler: ``Sampler(kubeconfig, namespace, app_name).start()`` ... ``.stop()``."""

    kubeconfig: str | Path
    namespace: str
    app_name: str
    interval: float = DEFAULT_INTERVAL_SECONDS
    output: Path | None = None
    clock: Callable[[], float] = time.time
    stats: SamplerStats = field(default_factory=SamplerStats)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _api: Any = field(default=None, repr=False)

    def _custom_api(self) -> Any:
        if self._api is None:
            from kubernetes import client, config

            api_client = config.new_client_from_config(config_file=str(self.kubeconfig))
            self._api = client.CustomObjectsApi(api_client)
        return self._api

    def sample_once(self) -> list[MetricRow]:
        """Read node and pod metrics once; raises on API errors."""
        api = self._custom_api()
        now = self.clock()
        nodes = api.list_cluster_custom_object(METRICS_GROUP, METRICS_VERSION, "nodes", _request_timeout=10)
        pods = api.list_namespaced_custom_object(METRICS_GROUP, METRICS_VERSION, self.namespace, "pods",
                                                 label_selector=f"{APP_LABEL}={self.app_name}",
                                                 _request_timeout=10)
        return node_rows(nodes.get("items", []), now) + pod_rows(pods.get("items", []), self.app_name, now)

    def _write(self, rows: list[MetricRow]) -> None:
        if self.output is None:
            return
        new = not self.output.exists()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        with self.output.open("a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            if new:
                writer.writerow(CSV_FIELDS)
            writer.writerows(row.as_csv() for row in rows)

    def _tick(self) -> None:
        try:
            rows = self.sample_once()
        except Exception as err:  # the metrics API may be briefly unavailable: keep sampling
            self.stats.errors.append(f"{time.strftime('%H:%M:%S')} {type(err).__name__}: {err}"[:300])
            return
        self._write(rows)
        self.stats.samples += 1
        self.stats.rows += len(rows)

    def _loop(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            self._tick()
            next_tick += self.interval
            self._stop.wait(max(0.0, next_tick - time.monotonic()))

    def start(self) -> Sampler:
        if self._thread is not None:
            raise RuntimeError("sampler already started")
        if self.output is not None and not self.output.exists():
            self._write([])
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sparklab-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> SamplerStats:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 15)
            self._thread = None
        return self.stats
