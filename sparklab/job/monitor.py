"""Sample CPU and memory of the nodes and of a Spark job's pods from the metrics API.

The metrics API (``metrics.k8s.io/v1beta1``, served by metrics-server) is read with the
Kubernetes Python client and the cluster's kubeconfig every ``interval`` seconds in a background
thread. Each sample appends rows to ``metrics.csv``:

    time,kind,name,role,cpu_cores,memory_bytes

``kind`` is ``node`` or ``pod``; ``role`` is the pod's ``spark-role`` label (driver, executor).
Pods are selected by the Spark operator's label ``sparkoperator.k8s.io/app-name=<app>``.

Each sample is also handed, as a :class:`Snapshot`, to ``on_sample`` (the live view of
:mod:`sparklab.job.live.view`): the rows, each node's allocatable CPU and memory (core API, ``nodes``), the
SparkApplication's state and, once the driver's UI answers at ``spark_ui_url``, the bytes its
executors report as read (Spark's REST API, ``/api/v1/applications/<id>/executors``).
"""

from __future__ import annotations

import contextlib
import csv
import json
import threading
import time
import urllib.request
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
SPARK_GROUP = "sparkoperator.k8s.io"
SPARK_VERSION = "v1beta2"
SPARK_PLURAL = "sparkapplications"
# The operator's application states (v1beta2 ``.status.applicationState.state``), as the live
# view names them; no object yet is "starting", an unlisted state is shown as it is.
STATE_NAMES = {
    "": "submitted", "NEW": "submitted", "SUBMITTED": "submitted", "PENDING_RERUN": "submitted",
    "RUNNING": "running", "SUCCEEDING": "running", "FAILING": "failing",
    "COMPLETED": "completed", "FAILED": "failed", "SUBMISSION_FAILED": "failed", "INVALIDATING": "failed",
}


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


def node_capacity(items: list[dict[str, Any]]) -> dict[str, tuple[float, int]]:
    """Allocatable (else capacity) cores and memory bytes per node, from core/v1 Node objects."""
    found: dict[str, tuple[float, int]] = {}
    for item in items:
        status = item.get("status") or {}
        amounts = status.get("allocatable") or status.get("capacity") or {}
        if "cpu" in amounts and "memory" in amounts:
            found[item["metadata"]["name"]] = (parse_cpu(str(amounts["cpu"])),
                                               parse_memory(str(amounts["memory"])))
    return found


def app_state(obj: dict[str, Any] | None) -> str:
    """The live view's name for a SparkApplication's state; ``starting`` before it exists."""
    if obj is None:
        return "starting"
    raw = str(((obj.get("status") or {}).get("applicationState") or {}).get("state") or "")
    return STATE_NAMES.get(raw, raw.lower())


def spark_ui_progress(base_url: str, timeout: float = 3.0) -> tuple[int, int, int]:
    """Input bytes, completed and active tasks of the application behind a Spark UI, summed
    over its executors (Spark's monitoring REST API); raises when the UI does not answer."""
    def get(path: str) -> Any:
        with urllib.request.urlopen(base_url.rstrip("/") + path, timeout=timeout) as response:  # noqa: S310
            return json.load(response)

    apps = get("/api/v1/applications")
    if not apps:
        raise LookupError("the Spark UI lists no application yet")
    executors = get(f"/api/v1/applications/{apps[0]['id']}/executors")
    return (sum(int(e.get("totalInputBytes", 0)) for e in executors),
            sum(int(e.get("completedTasks", 0)) for e in executors),
            sum(int(e.get("activeTasks", 0)) for e in executors))


@dataclass
class Snapshot:
    """One sample as the live view shows it."""

    time: float
    rows: list[MetricRow]
    capacity: dict[str, tuple[float, int]] = field(default_factory=dict)
    state: str = ""
    bytes_read: int | None = None
    tasks_done: int | None = None
    tasks_active: int | None = None
    error: str = ""


def read_metrics_csv(path: Path) -> list[MetricRow]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [MetricRow(float(r["time"]), r["kind"], r["name"], r["role"], float(r["cpu_cores"]),
                          int(r["memory_bytes"])) for r in csv.DictReader(handle)]


def append_metrics(path: Path, rows: list[MetricRow]) -> None:
    """Append ``rows`` to ``metrics.csv`` at ``path``, with the header first when it is new."""
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if new:
            writer.writerow(CSV_FIELDS)
        writer.writerows(row.as_csv() for row in rows)


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
    on_sample: Callable[[Snapshot], None] | None = None
    spark_ui_url: str = ""
    stats: SamplerStats = field(default_factory=SamplerStats)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _api: Any = field(default=None, repr=False)

    _core: Any = field(default=None, repr=False)
    _capacity: dict[str, tuple[float, int]] = field(default_factory=dict, repr=False)

    def _custom_api(self) -> Any:
        if self._api is None:
            from kubernetes import client, config

            api_client = config.new_client_from_config(config_file=str(self.kubeconfig))
            self._api = client.CustomObjectsApi(api_client)
            self._core = client.CoreV1Api(api_client)
        return self._api

    def snapshot(self, rows: list[MetricRow]) -> Snapshot:
        """What the live view needs beyond the rows; each part may fail without losing the rest."""
        from kubernetes.client.exceptions import ApiException

        snap = Snapshot(rows[0].time if rows else self.clock(), rows, dict(self._capacity))
        api = self._custom_api()
        try:
            nodes = self._core.list_node(_request_timeout=10, _preload_content=False)
            self._capacity = node_capacity(json.loads(nodes.data).get("items", []))
            snap.capacity = dict(self._capacity)
        except Exception as err:  # capacity is shown when known
            snap.error = f"nodes: {type(err).__name__}"
        try:
            obj = api.get_namespaced_custom_object(SPARK_GROUP, SPARK_VERSION, self.namespace, SPARK_PLURAL,
                                                   self.app_name, _request_timeout=10)
            snap.state = app_state(obj)
        except ApiException as err:
            snap.state = app_state(None) if err.status == 404 else "unknown"
        except Exception as err:
            snap.state, snap.error = "unknown", f"application: {type(err).__name__}"
        if self.spark_ui_url and snap.state == "running":
            with contextlib.suppress(Exception):  # the UI answers only while the driver runs
                snap.bytes_read, snap.tasks_done, snap.tasks_active = spark_ui_progress(self.spark_ui_url)
        return snap

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
        if self.output is not None:
            append_metrics(self.output, rows)

    def _tick(self) -> None:
        try:
            rows = self.sample_once()
        except Exception as err:  # the metrics API may be briefly unavailable: keep sampling
            self.stats.errors.append(f"{time.strftime('%H:%M:%S')} {type(err).__name__}: {err}"[:300])
            if self.on_sample is not None:
                self.on_sample(Snapshot(self.clock(), [], dict(self._capacity), error=type(err).__name__))
            return
        self._write(rows)
        self.stats.samples += 1
        self.stats.rows += len(rows)
        if self.on_sample is not None:
            try:
                self.on_sample(self.snapshot(rows))
            except Exception as err:  # the display must never stop the sampling
                self.stats.errors.append(f"live view: {type(err).__name__}: {err}"[:300])

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
