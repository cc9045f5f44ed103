"""playbooks/wordcount.yml end to end through real Ansible and kubernetes.core, against the stand-in
Kubernetes API server (tests/harness/kube_api.py) and its Spark operator model (tests/harness/models.py).

Proves about our code: the role's k8s, k8s_info and k8s_log calls (submission, owner references,
polling the application state, reading the driver pod and its log) work against the upstream wire
format; the result line is parsed and driver.log, job.json and result.json are written; a driver
that never started (image pull failure, unschedulable) or a failed driver ends in one message with
its reason, the files still written. Only a real cluster proves the operator, the driver, the
executors and Spark itself (the job runs on real Spark in tests/spark).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cluster_fixtures import api_server, seed_after_addons, write_kubeconfig
from models import SparkOperatorModel
from playbook_run import cluster_config, run_playbook

RUN_ID = "20261130-120000-ab12"
APP = f"wordcount-{RUN_ID}"


def run_wordcount(tmp_path: Path, outcome: str, timeout_seconds: int = 30):
    operator = SparkOperatorModel(outcome=outcome, run_seconds=1)
    with api_server(tmp_path, operator=operator) as server:
        seed_after_addons(server.cluster)
        write_kubeconfig(server, tmp_path / "home" / "harness" / "kubeconfig")
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(
            f"all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
            f"      ansible_python_interpreter: {sys.executable}\n"
        )
        result = run_playbook(
            "playbooks/wordcount.yml",
            inventory,
            {
                **cluster_config(),
                "spark_wordcount_generate": "1MiB",
                "spark_wordcount_run_id": RUN_ID,
                "spark_wordcount_poll_seconds": 1,
                "spark_wordcount_timeout_seconds": timeout_seconds,
            },
            env={"SPARKLAB_HOME": str(tmp_path / "home")},
            workdir=tmp_path / "work",
        )
        return result, server.cluster, operator, tmp_path / "home" / "harness" / "runs" / RUN_ID


def test_wordcount_playbook_submits_waits_and_saves_the_result(tmp_path):
    result, cluster, operator, run_dir = run_wordcount(tmp_path, "completed")
    assert result.returncode == 0, result.tail()
    app = cluster.get(cluster.kind("sparkapplications", "sparkoperator.k8s.io"), "spark-jobs", APP)
    configmap = cluster.get(cluster.kind("configmaps"), "spark-jobs", APP)
    assert configmap["metadata"]["ownerReferences"][0]["uid"] == app["metadata"]["uid"]
    saved = json.loads((run_dir / "result.json").read_text())
    expected = operator.result(app)
    assert saved["top"] == expected["top"] and saved["words"] == expected["words"]
    job = json.loads((run_dir / "job.json").read_text())
    assert job["state"] == "COMPLETED" and job["driver_pod"] == f"{APP}-driver"
    assert "SPARKLAB_RESULT" in (run_dir / "driver.log").read_text()
    assert "750 words (10 distinct)" in result.stdout


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (
            "image-pull-failure",
            'never started: ImagePullBackOff: Back-off pulling image "apache/spark:4.0.3-python3"',
        ),
        ("unschedulable", "never started: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."),
    ],
)
def test_driver_that_never_started_fails_with_its_waiting_reason(tmp_path, outcome, reason):
    """Before the fix, k8s_log failed on the pod's 400 answer and no file was written."""
    result, _cluster, _operator, run_dir = run_wordcount(tmp_path, outcome, timeout_seconds=4)
    assert result.returncode == 2, result.tail()
    assert "collect | Fail with the reason and the end of the driver log" in result.stdout
    assert f"Driver pod: {reason}" in result.stdout
    assert "Unable to retrieve log" not in result.stdout
    assert (run_dir / "driver.log").read_text() == ""
    assert json.loads((run_dir / "job.json").read_text())["state"] == "SUBMITTED"
    assert json.loads((run_dir / "result.json").read_text()) == {}


def test_failed_driver_reports_the_operator_reason_and_the_log_tail(tmp_path):
    result, _cluster, _operator, run_dir = run_wordcount(tmp_path, "failed")
    assert result.returncode == 2, result.tail()
    assert "ended in state FAILED" in result.stdout
    assert "Reason: driver container failed with ExitCode: 1, Reason: Error" in result.stdout
    assert "Driver pod: started" in result.stdout
    assert "RuntimeError: input could not be read" in result.stdout
    assert "RuntimeError" in (run_dir / "driver.log").read_text()
