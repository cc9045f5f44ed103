"""The sampler reads a fake metrics API on 127.0.0.1; the report draws and summarises it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import metrics_standin as standin
import numpy as np
import pytest
from metrics_standin import APP, NAMESPACE, TOKEN, timeline

from sparklab.job import report
from sparklab.job import runs as jobs
from sparklab.job.monitor import (
    APP_LABEL,
    Sampler,
    parse_cpu,
    parse_memory,
    pod_rows,
    read_metrics_csv,
)


@pytest.fixture
def metrics_api(tmp_path: Path) -> Iterator[tuple[ThreadingHTTPServer, Path]]:
    with standin.metrics_api(tmp_path) as (server, kubeconfig, _base):
        yield server, kubeconfig


def write_job_files(run_dir: Path, start: float, end: float) -> None:
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    (run_dir / "job.json").write_text(
        json.dumps(
            {
                "run_id": run_dir.name,
                "state": "COMPLETED",
                "submitted_at": stamp(start),
                "terminated_at": stamp(end),
            }
        )
    )
    result = {
        "version": 1,
        "top": [["lo", 50], ["mi", 30]],
        "lines": 10,
        "words": 100,
        "distinct_words": 7,
        "bytes": 250_000_000,
        "inputs": 1,
        "splits": 4,
        "started_at": stamp(start),
        "finished_at": stamp(end),
        "elapsed_seconds": 12.5,
        "output": {"kind": "none"},
    }
    (run_dir / "driver.log").write_text(
        "INFO noise\n" + f"SPARKLAB_RESULT {json.dumps(result)}\nmore noise\n"
    )


def test_quantities_convert_to_cores_and_bytes():
    assert parse_cpu("250m") == 0.25 and parse_cpu("1500000000n") == 1.5 and parse_cpu("2") == 2.0
    assert (
        parse_memory("1Ki") == 1024 and parse_memory("512Mi") == 512 * 2**20 and parse_memory("1G") == 10**9
    )


def test_pods_of_other_applications_are_ignored_even_if_the_api_returns_them():
    rows = pod_rows(timeline(2), APP, now=1.0)
    assert {row.name for row in rows} == {f"{APP}-driver", f"{APP}-exec-1", f"{APP}-exec-2"}
    driver = next(row for row in rows if row.role == "driver")
    assert driver.cpu_cores == pytest.approx(0.203) and driver.memory_bytes == 701 * 2**20


def test_sampler_follows_pods_that_come_and_go_and_report_draws_the_run(metrics_api, tmp_path):
    server, kubeconfig = metrics_api
    run_dir = tmp_path / "runs" / "20261127-090000-ab12"
    sampler = Sampler(kubeconfig, NAMESPACE, APP, interval=0.05, output=run_dir / "metrics.csv")
    started = time.time()
    sampler.start()
    deadline = time.time() + 20
    while server.state["pod_calls"] < 7 and time.time() < deadline:
        time.sleep(0.02)
    stats = sampler.stop()
    ended = time.time()

    state = server.state
    assert state["selectors"] == {f"{APP_LABEL}={APP}"}
    assert state["auth"] == {f"Bearer {TOKEN}"}
    assert len(stats.errors) == 1 and "503" in stats.errors[0]
    rows = read_metrics_csv(run_dir / "metrics.csv")
    times = sorted({row.time for row in rows})
    assert len(times) == stats.samples == len(state["served"]) >= 7
    seen = [sorted(r.name for r in rows if r.time == t and r.kind == "pod") for t in times]
    assert seen == state["served"]
    assert f"{APP}-exec-1" in seen[0] and f"{APP}-exec-1" not in seen[-1]
    assert f"{APP}-exec-2" not in seen[0] and f"{APP}-exec-2" in seen[-1]
    assert all(len([r for r in rows if r.time == t and r.kind == "node"]) == 2 for t in times)

    write_job_files(run_dir, started, ended)
    summary = report.render(run_dir)
    assert set(summary.roles) == {"driver", "executor"}
    assert set(summary.nodes) == {"ip-10-42-0-10", "ip-10-42-0-11"}
    # Executors are summed per sample: ticks 2 and 3 have both executors.
    assert summary.roles["executor"].peak_cpu == pytest.approx(1.3 + 1.5 + 0.001 * 2)
    assert summary.roles["driver"].mean_memory_gib == pytest.approx(701 / 1024)
    assert summary.throughput_mb_s == pytest.approx(250 / 12.5)
    assert summary.result is not None and summary.result.top[0] == ("lo", 50)

    from PIL import Image

    with Image.open(run_dir / "usage.png") as image:
        width, height = image.size
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert (width, height) == (
        int(report.CHART_SIZE_INCHES[0] * report.CHART_DPI),
        int(report.CHART_SIZE_INCHES[1] * report.CHART_DPI),
    )
    assert pixels.var() > 100, "the chart is blank"
    assert (pixels < 128).sum() > 5000, "too little drawn on the chart"

    text = (run_dir / "summary.txt").read_text()
    for needle in ("driver", "executor", "ip-10-42-0-11", "20.0 MB/s", "lo 50"):
        assert needle in text
    (run_dir / "usage.png").unlink()
    again = report.render(run_dir)
    assert (run_dir / "usage.png").exists() and report.summary_text(again) == text


def test_report_of_a_run_without_samples_still_renders(tmp_path):
    run_dir = tmp_path / "20261127-090000-ab12"
    run_dir.mkdir()
    write_job_files(run_dir, 1_800_000_000.0, 1_800_000_060.0)
    summary = report.render(run_dir)
    assert summary.duration_seconds == 60.0 and summary.samples == 0
    assert "(no samples)" in (run_dir / "summary.txt").read_text()
    assert (run_dir / "usage.png").stat().st_size > 10_000


def test_parse_driver_log_reports_the_job_error_line():
    with pytest.raises(jobs.ResultNotFoundError, match="the job failed: OSError: boom"):
        jobs.parse_driver_log('x\nSPARKLAB_ERROR {"error": "OSError: boom"}\n')
    with pytest.raises(jobs.ResultNotFoundError, match="did not finish"):
        jobs.parse_driver_log("only noise\n")


def test_report_notes_the_spark_ui_address_the_runner_saw(tmp_path):
    run_dir = tmp_path / "20261127-090000-ab12"
    run_dir.mkdir()
    write_job_files(run_dir, 1_800_000_000.0, 1_800_000_060.0)
    (run_dir / "run.json").write_text(json.dumps({"spark_ui": "http://198.51.100.7:30040/"}))
    summary = report.render(run_dir)
    assert summary.spark_ui == "http://198.51.100.7:30040/"
    text = (run_dir / "summary.txt").read_text()
    assert "Spark UI while the job ran: http://198.51.100.7:30040/" in text and "on the cluster" in text


def test_chart_library_loads_in_the_background_and_a_draw_started_meanwhile_waits_for_it(tmp_path):
    """A fresh interpreter: the thread imports matplotlib with the Agg backend; a report drawn
    before the thread ends still renders (the import lock makes it wait)."""
    import subprocess
    import sys

    run_dir = tmp_path / "20261127-090000-ab12"
    run_dir.mkdir()
    write_job_files(run_dir, 1_800_000_000.0, 1_800_000_060.0)
    code = (
        "import sys\n"
        "from sparklab.job import report\n"
        "assert 'matplotlib' not in sys.modules\n"
        "thread = report.import_chart_library()\n"
        f"report.render({str(run_dir)!r})\n"
        "thread.join()\n"
        "import matplotlib\n"
        "print('matplotlib.pyplot' in sys.modules, matplotlib.get_backend().lower())\n"
    )
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True,
                          timeout=300)
    assert done.stdout.split() == ["True", "agg"]
    assert (run_dir / "usage.png").stat().st_size > 10_000
