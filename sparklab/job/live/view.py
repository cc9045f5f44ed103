"""Live view of a running WordCount: CPU and memory of the nodes and of the job, at every sample.

A :class:`LiveView` receives :class:`sparklab.job.monitor.Snapshot` objects (from the metrics-API
sampler on a cluster, from the psutil sampler of :mod:`sparklab.job.local.sampler` on this machine) and shows:

* per node: CPU cores in use against the node's allocatable cores, memory in use against its
  allocatable memory, and a sparkline of each over the last samples;
* per pod role (driver, executor; on this machine: the JVM and the Python processes): the sum over
  the role's pods, and each pod on its own line when a role has only a few;
* the application's state (submitted, running, completed, failed), the elapsed time, the bytes read
  so far when Spark reports them, the Spark UI address, and the current Ansible task.

On a terminal it is a ``rich`` live panel redrawn at every sample; elsewhere, or with ``--plain``,
one compact line per sample. Lines given to :meth:`LiveView.note` (failures, the Spark UI address)
are printed above the panel and stay on screen; closing the view leaves its last state on screen,
so the reason of a failure and the tail of the driver log, printed afterwards, are never hidden.

The samples become a :class:`sparklab.job.live.state.ViewState` in :mod:`sparklab.job.live.state`;
:mod:`sparklab.job.live.render` draws it. This module joins the view to the rest: the Ansible progress
shown inside it, a text stream whose lines go above it, and the cluster's sampler beside it.
"""

from __future__ import annotations

from typing import Any

from sparklab.cluster.progress import Progress, TaskState
from sparklab.job.live.render import make_live_view
from sparklab.job.live.state import LiveView
from sparklab.job.monitor import Snapshot

__all__ = ["ClusterWatch", "LiveProgress", "LiveView", "NoteWriter", "make_live_view"]


class LiveProgress(Progress):
    """Ansible progress shown inside a live view: the current task in the panel, failures as
    lines that stay (the playbook's events arrive while the job is being sampled)."""

    def __init__(self, view: LiveView, verbose: bool = False) -> None:
        super().__init__(view.out, verbose)
        self.view = view

    def message(self, text: str) -> None:
        self.view.note(text)

    def stream(self, text: str) -> None:
        self.view.note(text)

    def on_task_start(self) -> None:
        self.view.set_task(f"{self.phase} | {self.task.name}")

    def on_task_end(self, task: TaskState) -> None:
        if task.failed:
            self.view.set_task(f"{self.phase} | {task.name}: failed")

    def on_failure(self, line: str) -> None:
        self.view.note(f"FAILED {line}")

    def close(self) -> None:
        """The playbook has ended: the view's last state stays, what follows prints below it."""
        self.view.close()


class NoteWriter:
    """A text stream whose lines go above the live panel (``print(..., file=NoteWriter(view))``)."""

    def __init__(self, view: LiveView) -> None:
        self.view = view
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if self.view.closed:
                print(line, file=self.view.out, flush=True)
            else:
                self.view.note(line)
        return len(text)

    def flush(self) -> None:
        self.view.out.flush()

    def isatty(self) -> bool:
        return self.view.out.isatty()


class ClusterWatch:
    """The sampler and the live view that ``runner.py wordcount`` runs beside the playbook.

    Every sample of the metrics API goes to ``metrics.csv`` and to the view. The Spark UI address
    (``spark_ui_url``, the driver's NodePort) is announced once, as soon as the driver is up: the
    application is RUNNING or the driver pod reports metrics; ``on_spark_ui`` receives it then.
    """

    def __init__(self, view: LiveView, kubeconfig: Any, namespace: str, app_name: str, output: Any,
                 spark_ui_url: str = "", interval: float | None = None,
                 on_spark_ui: Any = None) -> None:
        from sparklab.job.monitor import DEFAULT_INTERVAL_SECONDS, Sampler

        self.view = view
        self.spark_ui_url = spark_ui_url
        self.on_spark_ui = on_spark_ui
        self.announced = False
        self.sampler = Sampler(kubeconfig, namespace, app_name, output=output,
                               interval=interval or DEFAULT_INTERVAL_SECONDS, on_sample=self._on_sample,
                               spark_ui_url=spark_ui_url)

    def _on_sample(self, snap: Snapshot) -> None:
        self.view.update(snap)
        driver_up = snap.state == "running" or any(r.kind == "pod" and r.role == "driver" for r in snap.rows)
        if self.spark_ui_url and driver_up and not self.announced:
            self.announced = True
            self.view.set_spark_ui(self.spark_ui_url)
            self.view.note(f"Spark UI: {self.spark_ui_url} (while the job runs; cluster_admin_cidrs only)")
            if self.on_spark_ui is not None:
                self.on_spark_ui(self.spark_ui_url)

    def start(self) -> ClusterWatch:
        self.sampler.start()
        return self

    def stop(self) -> Any:
        return self.sampler.stop()
