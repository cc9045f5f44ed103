"""Executors sized from what the nodes have left, so a job never waits for room that is not there.

The cluster data are Node and Pod objects as ``k8s_info`` returns them. The control plane is a
t3.medium (2 vCPU, 4 GiB; kubeadm reserves nothing, the kubelet's hard eviction threshold
memory.available<100Mi is taken from allocatable) carrying kubeadm's static pods with the
requests of kubeadm's manifests (etcd 100m/100Mi, kube-apiserver 250m, kube-controller-manager
200m, kube-scheduler 100m), CoreDNS twice (100m/70Mi), Flannel (100m/50Mi), metrics-server
(100m/200Mi) and 250m/256Mi for the dashboard: 1300m requested, as in issue #11.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from wordcount_corpus import REPO

ROLE = REPO / "roles" / "spark_wordcount"
_spec = importlib.util.spec_from_file_location("spark_wordcount_fit",
                                               REPO / "plugins" / "filter" / "spark_wordcount_fit.py")
fit_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fit_module)

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def node(name: str, cpu: str, memory: str, taints: list | None = None, ready: str = "True") -> dict:
    return {"metadata": {"name": name}, "spec": {"taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
                       "conditions": [{"type": "Ready", "status": ready}]}}


def pod(name: str, node_name: str, cpu: str | None, memory: str | None, phase: str = "Running") -> dict:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return {"metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"nodeName": node_name,
                     "containers": [{"name": "c", "resources": {"requests": requests}}]},
            "status": {"phase": phase}}


CP = "ip-10-42-0-10"
# 4 GiB (4001284Ki as an t3.medium reports) minus the 100Mi eviction threshold.
T3_MEDIUM = node(CP, "2", f"{4001284 - 102400}Ki")
CONTROL_PLANE_PODS = [
    pod("etcd", CP, "100m", "100Mi"), pod("kube-apiserver", CP, "250m", None),
    pod("kube-controller-manager", CP, "200m", None), pod("kube-scheduler", CP, "100m", None),
    pod("coredns-1", CP, "100m", "70Mi"), pod("coredns-2", CP, "100m", "70Mi"),
    pod("kube-flannel", CP, "100m", "50Mi"), pod("metrics-server", CP, "100m", "200Mi"),
    pod("kube-opex-analytics", CP, "250m", "256Mi"), pod("kube-proxy", CP, None, None),
    pod("finished-job", CP, "1", "1Gi", phase="Succeeded"),
]
WANT = {"want_cpu_m": 1000, "want_budget_mib": 2252, "driver_cpu_m": 500, "driver_memory_mib": 1536}


def test_quantities_parse_like_kubernetes():
    assert fit_module.cpu_millis("250m") == 250 and fit_module.cpu_millis("2") == 2000
    assert fit_module.cpu_millis("0.5") == 500 and fit_module.cpu_millis("1930m") == 1930
    assert fit_module.memory_bytes("128Mi") == 128 * 2**20 and fit_module.memory_bytes("1G") == 10**9
    assert fit_module.memory_bytes("7805068Ki") == 7805068 * 1024 and fit_module.memory_bytes("512") == 512
    assert fit_module.spark_wordcount_mib("1024m") == 1024 and fit_module.spark_wordcount_mib("1g") == 1024


def test_zero_workers_the_executor_gets_what_the_control_plane_has_left():
    fit = fit_module.spark_wordcount_fit([T3_MEDIUM], CONTROL_PLANE_PODS, instances=1, **WANT)
    assert fit["fits"] is True
    # 2000m - 1300m requested - 500m driver; the table would have asked 1000m and waited forever.
    assert fit["core_request_m"] == 200
    free_mib = (4001284 - 102400) // 1024 - (100 + 70 + 70 + 50 + 200 + 256)
    assert fit["nodes"][0]["free_memory_mib"] == free_mib
    assert fit["budget_mib"] == min(2252, free_mib - 1536)


def test_with_workers_the_control_plane_is_left_out_and_executors_keep_their_share():
    workers = [node(f"ip-10-42-0-{i}", "1930m", "7805068Ki") for i in (11, 12)]
    pods = CONTROL_PLANE_PODS + [pod(f"flannel-{i}", f"ip-10-42-0-{i}", "100m", "50Mi") for i in (11, 12)]
    cp = node(CP, "2", "3899000Ki", taints=[CONTROL_PLANE_TAINT])
    fit = fit_module.spark_wordcount_fit([cp, *workers], pods, instances=2, **WANT)
    assert fit["fits"] is True and fit["core_request_m"] == 1000 and fit["budget_mib"] == 2252
    excluded = [n["excluded"] for n in fit["nodes"]]
    assert excluded == ["tainted node-role.kubernetes.io/control-plane:NoSchedule", "", ""]


def test_a_full_control_plane_is_refused_with_the_numbers():
    crowded = CONTROL_PLANE_PODS + [pod("spark-operator-controller", CP, "300m", "300Mi")]
    fit = fit_module.spark_wordcount_fit([T3_MEDIUM], crowded, instances=1, **WANT)
    assert fit["fits"] is False
    assert "at most 0m" in fit["reason"] and "1600m / " in fit["reason"]
    assert "cluster_worker_count" in fit["reason"]
    fit = fit_module.spark_wordcount_fit([node(CP, "2", "4Gi", ready="False")], [], instances=1, **WANT)
    assert fit["fits"] is False and "(not Ready)" in fit["reason"]


def test_nodes_that_report_no_allocatable_leave_the_requests_as_asked():
    bare = {"metadata": {"name": "w1"}, "spec": {}, "status": {}}
    fit = fit_module.spark_wordcount_fit([bare], [], instances=1, **WANT)
    assert fit["fits"] is True and fit["core_request_m"] == 1000 and fit["budget_mib"] == 2252
    assert fit["reason"] == "the nodes report no allocatable resources"


def run_play(tmp_path: Path, pods: list[dict]) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The role's fit step, then its render step, executed by ansible-playbook with the k8s_info
    results given as variables (no API server runs here)."""
    state = tmp_path / "state"
    variables = {
        "cluster_state_dir": str(state), "cluster_spark_namespace": "spark-jobs",
        "cluster_worker_instance_type": "t3.large", "cluster_worker_count": 0,
        "cluster_control_plane_instance_type": "t3.medium", "spark_wordcount_submit": False,
        "cluster_spark_ui_node_port": 30040,
        "spark_wordcount_generate": "1GiB", "spark_wordcount_run_id": "20261127-090000-ab12",
        "__spark_wordcount_nodes": {"resources": [T3_MEDIUM]}, "__spark_wordcount_pods": {"resources": pods},
    }
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "name": "Size and render WordCount", "hosts": "localhost", "connection": "local",
        "gather_facts": False,
        "tasks": [
            {"name": "Fit", "ansible.builtin.include_role": {"name": str(ROLE), "tasks_from": "fit"}},
            {"name": "Render", "ansible.builtin.include_role": {"name": str(ROLE)}},
        ],
    }]))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"))  # the filter: sparklab.cluster.*
    env.pop("ANSIBLE_CONFIG", None)
    # The role's filters are collection plugins (sparklab.cluster.*): the checkout is the collection.
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / "collections")
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    proc = subprocess.run([playbook, "play.yml", "-e", "@vars.json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    return proc, state / "runs" / "20261127-090000-ab12"


def test_the_role_renders_the_fitted_requests_into_the_sparkapplication(tmp_path):
    proc, run_dir = run_play(tmp_path, CONTROL_PLANE_PODS)
    assert proc.returncode == 0, proc.stdout[-3000:]
    app = yaml.safe_load((run_dir / "sparkapplication.yaml").read_text())
    executor = app["spec"]["executor"]
    assert executor["instances"] == 1 and executor["coreRequest"] == "200m"
    expected = fit_module.spark_wordcount_fit([T3_MEDIUM], CONTROL_PLANE_PODS, instances=1, **WANT)
    assert int(executor["memory"][:-1]) + int(executor["memoryOverhead"][:-1]) == expected["budget_mib"]
    assert "1 executor(s) of 200m CPU" in proc.stdout


def test_the_role_stops_before_rendering_when_the_job_cannot_fit(tmp_path):
    crowded = CONTROL_PLANE_PODS + [pod("spark-operator-controller", CP, "300m", "300Mi")]
    proc, run_dir = run_play(tmp_path, crowded)
    assert proc.returncode != 0
    assert "Cannot run WordCount: 1 executor(s) of at least 100m CPU" in proc.stdout
    assert not run_dir.exists()
