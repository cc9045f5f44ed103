"""The report of a WordCount run: ``usage.png`` and a terminal summary, from saved data only.

A run folder holds ``metrics.csv`` (from :mod:`sparklab.job.monitor`), ``driver.log`` or
``result.json`` (the job's result) and ``job.json`` (the SparkApplication's state and times,
written by the spark_wordcount role; for a local run by :mod:`sparklab.job.local.run`), and ``run.json``
(what the runner noted while the job ran: the Spark UI address). :func:`render` can be called
again at any time.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklab.job.monitor import MetricRow, read_metrics_csv
from sparklab.job.result import Result, ResultNotFoundError, parse_driver_log

GIB = 1024**3
CHART_FILE = "usage.png"
SUMMARY_FILE = "summary.txt"
CHART_SIZE_INCHES = (12.0, 7.5)
CHART_DPI = 100


@dataclass
class UsageStats:
    peak_cpu: float
    mean_cpu: float
    peak_memory_gib: float
    mean_memory_gib: float
    samples: int


@dataclass
class Summary:
    run_id: str
    state: str
    job_start: float | None
    job_end: float | None
    duration_seconds: float | None
    processing_seconds: float | None
    bytes_read: int | None
    throughput_mb_s: float | None
    result: Result | None
    roles: dict[str, UsageStats] = field(default_factory=dict)
    nodes: dict[str, UsageStats] = field(default_factory=dict)
    samples: int = 0
    chart: Path | None = None
    mode: str = "cluster"
    spark_ui: str = ""
    message: str = ""
    app: str = ""  # a submitted application's file name; empty for WordCount
    exit_status: int | None = None


def parse_time(value: str | None) -> float | None:
    """Epoch seconds from an RFC 3339 UTC time such as ``2026-11-27T09:30:00Z``."""
    if not value:
        return None
    return float(calendar.timegm(time.strptime(value.replace("Z", "").split(".")[0], "%Y-%m-%dT%H:%M:%S")))


def load_result(run_dir: Path) -> Result | None:
    path = run_dir / "result.json"
    if path.exists():  # a submitted application's result has no counts: the launcher's keys only
        found = json.loads(path.read_text(encoding="utf-8"))
        return Result.from_dict(found) if isinstance(found, dict) and "lines" in found else None
    log = run_dir / "driver.log"
    if log.exists():
        try:
            return parse_driver_log(log.read_text(encoding="utf-8", errors="replace"))
        except ResultNotFoundError:
            return None
    return None


def load_job(run_dir: Path) -> dict[str, Any]:
    """``job.json``, with what the runner noted in ``run.json`` filled in where it is missing."""
    job: dict[str, Any] = {}
    for name in ("run.json", "job.json"):
        path = run_dir / name
        if path.exists():
            job.update({k: v for k, v in json.loads(path.read_text(encoding="utf-8")).items()
                        if v or (k == "exit_status" and v == 0)})
    return job


def _stats(series: dict[float, tuple[float, int]]) -> UsageStats:
    cpu = [value[0] for value in series.values()]
    memory = [value[1] / GIB for value in series.values()]
    return UsageStats(max(cpu), statistics.fmean(cpu), max(memory), statistics.fmean(memory), len(series))


def group_series(rows: list[MetricRow], kind: str) -> dict[str, dict[float, tuple[float, int]]]:
    """Per node (kind ``node``) or per pod role (kind ``pod``, pods of a role summed) time series."""
    series: dict[str, dict[float, list[float]]] = defaultdict(dict)
    for row in rows:
        if row.kind != kind:
            continue
        key = row.name if kind == "node" else row.role
        cpu, memory = series[key].get(row.time, (0.0, 0))
        series[key][row.time] = (cpu + row.cpu_cores, memory + row.memory_bytes)
    return {key: dict(sorted(points.items())) for key, points in sorted(series.items())}


def job_window(job: dict[str, Any], result: Result | None,
               rows: list[MetricRow]) -> tuple[float | None, float | None]:
    """Start and end of the job: the application's times, else the result's, else its pods'."""
    start, end = parse_time(job.get("submitted_at")), parse_time(job.get("terminated_at"))
    if result is not None:
        start = start if start is not None else parse_time(result.started_at)
        end = end if end is not None else (parse_time(result.started_at) or 0) + result.elapsed_seconds
    pod_times = [row.time for row in rows if row.kind == "pod"]
    if start is None and pod_times:
        start = min(pod_times)
    if end is None and pod_times:
        end = max(pod_times)
    return start, end


def summarize(run_dir: Path) -> tuple[Summary, list[MetricRow]]:
    metrics = run_dir / "metrics.csv"
    rows = read_metrics_csv(metrics) if metrics.exists() else []
    result, job = load_result(run_dir), load_job(run_dir)
    start, end = job_window(job, result, rows)
    duration = end - start if start is not None and end is not None else None
    processing = result.elapsed_seconds if result else None
    throughput = result.bytes / 1e6 / processing if result and processing else None
    summary = Summary(
        run_id=str(job.get("run_id") or run_dir.name), state=str(job.get("state") or "UNKNOWN"),
        job_start=start, job_end=end, duration_seconds=duration, processing_seconds=processing,
        bytes_read=result.bytes if result else None, throughput_mb_s=throughput, result=result,
        roles={k: _stats(v) for k, v in group_series(rows, "pod").items()},
        nodes={k: _stats(v) for k, v in group_series(rows, "node").items()},
        samples=len({row.time for row in rows}),
        mode=str(job.get("mode") or "cluster"), spark_ui=str(job.get("spark_ui") or ""),
        message=str(job.get("error_message") or ""),
        app=str(job.get("app") or ""),
        exit_status=int(job["exit_status"]) if job.get("exit_status") is not None else None,
    )
    return summary, rows


def import_chart_library() -> threading.Thread:
    """Import matplotlib (Agg) in a daemon thread, so :func:`draw_chart` later finds it loaded.

    A local run calls this as its job starts: the import (about 0.5 s of CPU, 1-2 s on a busy
    machine) then overlaps the JVM's start, when one core is mostly idle, instead of being waited
    for after the job. Python's import lock makes a draw that comes first simply wait for it.
    """
    def load() -> None:
        with contextlib.suppress(Exception):  # draw_chart imports it again and reports any problem
            import matplotlib

            matplotlib.use("Agg")
            from matplotlib import pyplot  # noqa: F401 - loaded for later

    thread = threading.Thread(target=load, name="sparklab-import-matplotlib", daemon=True)
    thread.start()
    return thread


def draw_chart(rows: list[MetricRow], summary: Summary, path: Path) -> Path:
    """CPU cores and memory GiB over time, per node (left) and per pod role (right)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    origin = summary.job_start if summary.job_start is not None else min((r.time for r in rows), default=0.0)
    fig, axes = plt.subplots(2, 2, figsize=CHART_SIZE_INCHES, dpi=CHART_DPI, sharex=True)
    panels = (("node", "per node" if summary.mode != "local" else "this machine"),
              ("pod", "per pod role" if summary.mode != "local" else "per process role"))
    for column, (kind, label) in enumerate(panels):
        series = group_series(rows, kind)
        for key, points in series.items():
            times = [t - origin for t in points]
            axes[0][column].plot(times, [v[0] for v in points.values()], marker=".", label=key)
            axes[1][column].plot(times, [v[1] / GIB for v in points.values()], marker=".", label=key)
        axes[0][column].set_title(f"CPU (cores) {label}")
        axes[1][column].set_title(f"Memory (GiB) {label}")
        axes[1][column].set_xlabel("seconds since job start")
        for row_axes in (axes[0][column], axes[1][column]):
            row_axes.grid(True, alpha=0.3)
            row_axes.set_ylim(bottom=0)
            if summary.job_start is not None:
                row_axes.axvline(0, color="green", linestyle="--", linewidth=1, label="job start")
            if summary.job_end is not None:
                row_axes.axvline(summary.job_end - origin, color="red", linestyle="--", linewidth=1,
                                 label="job end")
            if series:
                row_axes.legend(fontsize="small", loc="best")
            else:
                row_axes.text(0.5, 0.5, "no samples", ha="center", va="center", transform=row_axes.transAxes)
    where = " (local Spark on this machine)" if summary.mode == "local" else ""
    state = "" if summary.state in ("COMPLETED", "UNKNOWN") else f" [{summary.state}]"
    fig.suptitle(f"sparklab {summary.app or 'WordCount'} {summary.run_id}{where}: CPU and memory{state}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=CHART_DPI)
    plt.close(fig)
    return path


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{unit}"


def summary_text(summary: Summary, top: int = 10) -> str:
    """The terminal summary of a run, plain text."""
    where = "on this machine (local Spark)" if summary.mode == "local" else "on the cluster"
    duration = f"duration {_fmt(summary.duration_seconds, '.1f', ' s')} (application)   "
    if summary.app:
        status = "n/a" if summary.exit_status is None else summary.exit_status
        duration += f"{summary.app} exit status {status}"
    else:
        duration += f"counting {_fmt(summary.processing_seconds, '.1f', ' s')}"
    lines = [f"run {summary.run_id}  state {summary.state}  samples {summary.samples}  {where}", duration]
    if summary.state == "INTERRUPTED":
        lines.append(f"INTERRUPTED: {summary.message or 'the run was stopped before it finished'}")
    elif summary.message:
        lines.append(f"reason: {summary.message}")
    if summary.spark_ui:
        lines.append(f"Spark UI while the job ran: {summary.spark_ui}")
    if summary.result:
        res = summary.result
        lines.append(f"read {res.bytes / 1e6:.1f} MB, {res.lines:,} lines, {res.words:,} words, "
                     f"{res.distinct_words:,} distinct")
        lines.append(f"throughput {_fmt(summary.throughput_mb_s, '.1f', ' MB/s')} while counting")
    header = f"{'':<24}{'peak cpu':>10}{'mean cpu':>10}{'peak mem':>11}{'mean mem':>11}"
    role_title = "process role" if summary.mode == "local" else "pod role"
    for title, table in ((role_title, summary.roles), ("node", summary.nodes)):
        lines.append("")
        lines.append(f"{title:<24}{header[24:]}")
        if not table:
            lines.append("  (no samples)")
        for name, stats in table.items():
            lines.append(f"{name[:24]:<24}{stats.peak_cpu:>10.2f}{stats.mean_cpu:>10.2f}"
                         f"{stats.peak_memory_gib:>9.2f}Gi{stats.mean_memory_gib:>9.2f}Gi")
    if summary.result and summary.result.top:
        lines.append("")
        lines.append("top words: " + ", ".join(f"{w} {c:,}" for w, c in summary.result.top[:top]))
    return "\n".join(lines) + "\n"


def render(run_dir: Path | str) -> Summary:
    """Re-render ``usage.png`` and ``summary.txt`` of a run folder from its saved data."""
    folder = Path(run_dir)
    summary, rows = summarize(folder)
    summary.chart = draw_chart(rows, summary, folder / CHART_FILE)
    (folder / SUMMARY_FILE).write_text(summary_text(summary), encoding="utf-8")
    return summary
