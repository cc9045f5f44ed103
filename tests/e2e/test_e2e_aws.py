"""End to end on a real AWS account: up -> Ready -> metrics -> dashboard -> WordCount -> pulled image
digests equal the pins -> down -> nothing left.

Runs only with SPARKLAB_E2E_AWS=1 and AWS credentials (it creates billable resources: about
$0.20 per hour with the defaults, for roughly 30-40 minutes). Everything is torn down in a
`finally`, also when an assertion fails. Seconds per phase go to timings.json in
$SPARKLAB_E2E_OUTPUT (default: the test's temporary folder): the phases of the critical-path model
in docs/performance.md (tests/e2e/e2e_timings.py), measured, next to the model's figures and the
goal, plus the test's own waits as probes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import e2e_timings
import pytest
from deployed_images import Policy, product_pins
from e2e_helpers import (
    dashboard_has_cpu_and_memory,
    live_tagged_arns,
    nodes_with_metrics,
    pin_mismatches,
    pulled_digests,
)

REPO = Path(__file__).resolve().parents[2]


def _credentials_present() -> bool:
    try:
        from sparklab.cluster import credentials

        credentials.resolve()
        return True
    except Exception:
        return False


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("SPARKLAB_E2E_AWS") != "1", reason="real AWS: set SPARKLAB_E2E_AWS=1"),
]


def _runner(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    print(f"$ runner.py {' '.join(args)}", flush=True)
    return subprocess.run([sys.executable, str(REPO / "runner.py"), *args, "--plain"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _wait(what: str, probe: Any, timeout: float, every: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except Exception as exc:  # transient while the cluster settles
            last = exc
        time.sleep(every)
    raise AssertionError(f"{what} not reached in {timeout:.0f} s (last: {last!r})")


def test_up_wordcount_down_on_real_aws(tmp_path: Path) -> None:
    if not _credentials_present():
        pytest.skip("no AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
    from kubernetes import client, config

    from sparklab.cluster import aws

    cluster = os.environ.get("SPARKLAB_E2E_CLUSTER", f"e2e-{int(time.time()) % 100000}")
    region = os.environ.get("SPARKLAB_E2E_REGION", "eu-west-1")
    out_dir = Path(os.environ.get("SPARKLAB_E2E_OUTPUT", tmp_path))
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SPARKLAB_HOME=str(tmp_path / "sparklab-home"))
    cfg = ["--name", cluster, "--aws-region", region, "--worker-count", "2", "--ttl-hours", "2"]
    timings: dict[str, int] = {}  # the test's own waits (probes), not phases of the model
    up_output, up_seconds, wordcount_seconds = "", 0, None
    try:
        started = time.monotonic()
        up = _runner(["up", *cfg], env, timeout=3600)
        print(up.stdout[-4000:], up.stderr[-2000:])
        up_output, up_seconds = up.stdout, round(time.monotonic() - started)
        assert up.returncode == 0

        kubeconfig = tmp_path / "sparklab-home" / cluster / "kubeconfig"
        api = config.new_client_from_config(config_file=str(kubeconfig))
        core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)

        t0 = time.monotonic()

        def all_ready() -> list[str]:
            nodes = core.list_node().items
            ready = [n.metadata.name for n in nodes
                     if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)]
            return ready if len(nodes) == 3 and len(ready) == 3 else []

        ready = _wait("3 nodes Ready", all_ready, 600)
        timings["nodes_ready"] = round(time.monotonic() - t0)

        t0 = time.monotonic()
        metrics = _wait("metrics for every node", lambda: (
            m if set(m := nodes_with_metrics(custom.list_cluster_custom_object(
                "metrics.k8s.io", "v1beta1", "nodes"))) == set(ready) else None), 600)
        assert len(metrics) == 3
        timings["metrics_ready"] = round(time.monotonic() - t0)

        dash = _runner(["dashboard", *cfg], env, timeout=120)
        assert dash.returncode == 0 and "answers: HTTP 200" in dash.stdout, dash.stdout + dash.stderr
        url = next(line.split()[-1] for line in dash.stdout.splitlines() if line.startswith("dashboard:"))
        t0 = time.monotonic()

        def dataset() -> bool:
            with urllib.request.urlopen(f"{url.rstrip('/')}/dataset/nodes.json", timeout=10) as response:
                return dashboard_has_cpu_and_memory(json.load(response), ready)

        _wait("dashboard CPU and memory data", dataset, 900, every=30)
        timings["dashboard_data"] = round(time.monotonic() - t0)

        t0 = time.monotonic()
        job = _runner(["wordcount", *cfg, "--generate", "1GB"], env, timeout=3600)
        print(job.stdout[-4000:], job.stderr[-2000:])
        assert job.returncode == 0
        wordcount_seconds = round(time.monotonic() - t0)
        runs = sorted((tmp_path / "sparklab-home" / cluster / "runs").glob("2*-*-*"))
        job_run = [r for r in runs if (r / "usage.png").exists()]
        assert job_run and (job_run[-1] / "summary.txt").read_text().strip()
        # The word splitter's jar reached the driver's and the executors' class paths.
        assert json.loads((job_run[-1] / "result.json").read_text())["word_splitter"] == "jvm"

        # Every image the product pins by digest ran with that digest: the kubelets' imageID of every
        # container (the Spark driver's included) against the pins in the release files and role
        # defaults. The digests of the images still pulled by tag go to images-pulled.json.
        pods = [api.sanitize_for_serialization(p) for p in core.list_pod_for_all_namespaces().items]
        pulled = pulled_digests(pods)
        report = {name: sorted(digests) for name, digests in sorted(pulled.items())}
        (out_dir / "images-pulled.json").write_text(json.dumps(report, indent=2) + "\n")
        pins = product_pins(Policy.load())
        # local-path-provisioner's helper pods (busybox) exist only while a volume is made or removed.
        assert pin_mismatches(pulled, pins, set(pins) - {"docker.io/library/busybox"}) == []
    finally:
        t0 = time.monotonic()
        down = _runner(["down", "--yes", *cfg], env, timeout=3600)
        print(down.stdout[-4000:], down.stderr[-2000:])
        timings["down"] = round(time.monotonic() - t0)
        record = e2e_timings.record(up_output, up_seconds, wordcount_seconds, timings)
        e2e_timings.write(out_dir / "timings.json", record)
        print(f"timings: {out_dir / 'timings.json'}: zero to result {record['zero_to_result']} s, "
              f"model {record['model_zero_to_result']} s, goal {record['goal_seconds']} s")
    assert down.returncode == 0
    inv = aws.scan(cluster, aws.Target(region))
    assert inv.count == 0, inv.lines()
    ec2 = aws.Target(region).client("ec2")
    terminated = {i["InstanceId"] for r in ec2.describe_instances(
        Filters=[{"Name": "tag:sparklab:cluster", "Values": [cluster]}])["Reservations"]
        for i in r["Instances"] if i["State"]["Name"] == "terminated"}
    tagging = aws.Target(region).client("resourcegroupstaggingapi")
    pages = list(tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": "sparklab:cluster", "Values": [cluster]}]))
    assert live_tagged_arns(pages, terminated) == []
