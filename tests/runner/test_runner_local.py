"""Verbs and pieces that need neither AWS nor a cluster: report, kubeconfig, progress, run folders."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from runner_sandbox import Sandbox

from sparklab.core.state import ClusterState, rotate_runs


def _job_run(run_dir: Path, word: str = "spark") -> None:
    start, end = time.time() - 60, time.time() - 10
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    run_dir.mkdir(parents=True)
    (run_dir / "job.json").write_text(json.dumps({"run_id": run_dir.name, "state": "COMPLETED",
                                                  "submitted_at": stamp(start), "terminated_at": stamp(end)}))
    result = {"version": 1, "top": [[word, 5], ["lab", 3]], "lines": 2, "words": 8, "distinct_words": 2,
              "bytes": 40, "inputs": 1, "splits": 1, "started_at": stamp(start), "finished_at": stamp(end),
              "elapsed_seconds": 50.0, "output": {"kind": "none"}}
    (run_dir / "driver.log").write_text(f"SPARKLAB_RESULT {json.dumps(result)}\n")
    rows = ["time,kind,name,role,cpu_cores,memory_bytes"]
    for i in range(6):
        t = start + i * 10
        rows.append(f"{t},node,ip-10-42-0-5,,{0.5 + i / 10},{2 * 2**30}")
        rows.append(f"{t},pod,wordcount-x-driver,driver,{0.2},{2**30}")
    (run_dir / "metrics.csv").write_text("\n".join(rows) + "\n")


def test_report_rerenders_the_latest_wordcount_run(offline: Sandbox) -> None:
    runs = offline.sparklab_home / "demo" / "runs"
    _job_run(runs / "20261127-090000-aaaa", word="pangolin")
    _job_run(runs / "20261127-100000-bbbb", word="quokka")
    result = offline.run("report", "--name", "demo", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    # The latest run's top word is shown, the older run's is not.
    assert re.search(r"^.*\bquokka\b.*\b5\b", result.stdout, re.M), result.stdout
    assert "pangolin" not in result.stdout
    assert (runs / "20261127-100000-bbbb" / "usage.png").stat().st_size > 1000
    assert not (runs / "20261127-090000-aaaa" / "usage.png").exists()
    missing = offline.run("report", "--name", "other", timeout=60)
    assert missing.returncode == 1 and "has no run yet" in missing.stderr


def test_kubeconfig_prints_path_and_export_line(offline: Sandbox) -> None:
    missing = offline.run("kubeconfig", "--name", "demo", timeout=60)
    assert missing.returncode == 1 and "python3 runner.py up --name demo" in missing.stderr
    kube = offline.sparklab_home / "demo" / "kubeconfig"
    kube.parent.mkdir(parents=True)
    kube.write_text("apiVersion: v1\n")
    result = offline.run("kubeconfig", "--name", "demo", timeout=60)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [str(kube), f"export KUBECONFIG={kube}"]


def test_old_ansible_run_folders_rotate_but_job_runs_stay(tmp_path: Path) -> None:
    state = ClusterState(name="demo", home=tmp_path)
    state.ensure()
    state.runs.mkdir()
    for i in range(25):
        (state.runs / f"20261127-0{i:05d}-abcd-status").mkdir()
    (state.runs / "20261127-090000-aaaa").mkdir()
    deleted = rotate_runs(state.runs, keep=20)
    assert len(deleted) == 5
    assert (state.runs / "20261127-090000-aaaa").is_dir()
    assert len(list(state.runs.iterdir())) == 21
