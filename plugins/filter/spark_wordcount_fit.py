"""Size the WordCount driver and executors from what the cluster's nodes have left.

``spark_wordcount_fit(nodes, pods, ...)`` takes the Node and Pod objects as ``k8s_info`` returns
them and answers with the executor requests that fit beside everything already requested, as the
scheduler counts it: a pod fits on a node when its requests are at most the node's allocatable
minus the requests of the pods already bound there (pods in phase Succeeded or Failed hold
nothing). Nodes that are cordoned, not Ready, or tainted NoSchedule/NoExecute (the job tolerates
no taint) take no pod.

The driver is placed first, on the node with the most CPU left (as the scheduler's
LeastAllocated scoring would); then each executor gets the smaller of what was asked (a share of
the machine) and what the emptiest nodes have left, one executor per node in turn. When even the
minimum executor (``min_cpu_m`` and ``min_budget_mib``: 512 MiB of heap and Spark's 384 MiB
overhead) does not fit, ``fits`` is false and ``reason`` says why, node by node.
"""

from __future__ import annotations

import math
import re
from typing import Any

_CPU = re.compile(r"^([0-9.]+)(m|)$")
_MEMORY_UNITS = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "m": 10**-3,
}
_MEMORY = re.compile(r"^([0-9.]+(?:[eE][0-9]+)?)([a-zA-Z]*)$")
MIB = 2**20


def cpu_millis(quantity: Any) -> int:
    """Millicores of a CPU quantity: ``250m``, ``1``, ``0.5``, ``1930m``."""
    match = _CPU.match(str(quantity).strip())
    if match is None:
        raise ValueError(f"not a CPU quantity: {quantity!r}")
    value = float(match.group(1))
    return math.ceil(value if match.group(2) else value * 1000)


def memory_bytes(quantity: Any) -> int:
    """Bytes of a memory quantity: ``128Mi``, ``7805068Ki``, ``1G``, ``536870912``."""
    match = _MEMORY.match(str(quantity).strip())
    if match is None or match.group(2) not in _MEMORY_UNITS:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    return math.ceil(float(match.group(1)) * _MEMORY_UNITS[match.group(2)])


def _pod_requests(pod: dict[str, Any]) -> tuple[int, int]:
    """CPU millicores and memory bytes a pod holds: its containers' requests summed, or its
    largest init container's if larger (init containers run one at a time), plus overhead."""
    spec = pod.get("spec") or {}

    def total(containers: list[dict[str, Any]]) -> tuple[int, int]:
        cpu = mem = 0
        for container in containers or []:
            requests = (container.get("resources") or {}).get("requests") or {}
            cpu += cpu_millis(requests.get("cpu", "0"))
            mem += memory_bytes(requests.get("memory", "0"))
        return cpu, mem

    cpu, mem = total(spec.get("containers", []))
    for init in spec.get("initContainers") or []:
        init_cpu, init_mem = total([init])
        cpu, mem = max(cpu, init_cpu), max(mem, init_mem)
    overhead = spec.get("overhead") or {}
    return cpu + cpu_millis(overhead.get("cpu", "0")), mem + memory_bytes(overhead.get("memory", "0"))


def _schedulable(node: dict[str, Any]) -> str:
    """Empty when the job's pods may land on the node, else why not."""
    spec, status = node.get("spec") or {}, node.get("status") or {}
    if spec.get("unschedulable"):
        return "cordoned"
    for taint in spec.get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute"):
            return f"tainted {taint.get('key')}:{taint.get('effect')}"
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    if ready and ready[0].get("status") != "True":
        return "not Ready"
    return ""


def free_resources(nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per node: allocatable, requested by bound pods, what is left, and whether the job may use it."""
    used: dict[str, list[int]] = {}
    for pod in pods:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        cpu, mem = _pod_requests(pod)
        entry = used.setdefault(node_name, [0, 0])
        entry[0] += cpu
        entry[1] += mem
    found = []
    for node in nodes:
        name = node["metadata"]["name"]
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        cpu = cpu_millis(allocatable.get("cpu", "0"))
        mem = memory_bytes(allocatable.get("memory", "0"))
        req_cpu, req_mem = used.get(name, [0, 0])
        found.append({"name": name, "allocatable_cpu_m": cpu, "allocatable_memory_mib": mem // MIB,
                      "requested_cpu_m": req_cpu, "requested_memory_mib": req_mem // MIB,
                      "free_cpu_m": cpu - req_cpu, "free_memory_mib": (mem - req_mem) // MIB,
                      "excluded": _schedulable(node)})
    return found


def spark_wordcount_fit(nodes: list[dict[str, Any]], pods: list[dict[str, Any]], *, instances: int,
                        want_cpu_m: int, want_budget_mib: int, driver_cpu_m: int, driver_memory_mib: int,
                        min_cpu_m: int = 100, min_budget_mib: int = 896) -> dict[str, Any]:
    """Executor CPU request and memory budget (heap + overhead) that fit on the cluster now."""
    table = free_resources(nodes, pods)
    usable = sorted((n for n in table if not n["excluded"]), key=lambda n: (-n["free_cpu_m"], n["name"]))
    lines = [f"{n['name']}: {n['allocatable_cpu_m']}m CPU / {n['allocatable_memory_mib']} MiB allocatable, "
             f"{n['requested_cpu_m']}m / {n['requested_memory_mib']} MiB requested by running pods"
             f"{' (' + n['excluded'] + ')' if n['excluded'] else ''}" for n in table]
    result: dict[str, Any] = {"fits": False, "nodes": table, "instances": instances, "core_request_m": 0,
                              "budget_mib": 0, "reason": ""}
    if not usable:
        result["reason"] = "no node can take the job's pods: " + "; ".join(lines)
        return result
    left = [[n["free_cpu_m"], n["free_memory_mib"]] for n in usable]
    left[0][0] -= driver_cpu_m  # the driver on the node with the most CPU left
    left[0][1] -= driver_memory_mib
    per_node = math.ceil(instances / len(left))
    slots = [left[i % len(left)] for i in range(instances)]
    cpu = min([want_cpu_m] + [slot[0] // per_node for slot in slots])
    budget = min([want_budget_mib] + [slot[1] // per_node for slot in slots])
    result.update(core_request_m=max(cpu, 0), budget_mib=max(budget, 0))
    if cpu < min_cpu_m or budget < min_budget_mib:
        result["reason"] = (
            f"{instances} executor(s) of at least {min_cpu_m}m CPU and {min_budget_mib} MiB do not fit "
            f"beside the driver ({driver_cpu_m}m, {driver_memory_mib} MiB) and the pods already running: "
            f"at most {max(cpu, 0)}m and {max(budget, 0)} MiB each are left. " + "; ".join(lines)
            + ". Fix: add a worker (cluster_worker_count) or choose a larger instance type.")
        return result
    result["fits"] = True
    return result


def spark_wordcount_mib(size: Any) -> int:
    """MiB of a Spark memory size (``1024m``, ``1g``, ``512k``; JVM units, binary)."""
    match = re.match(r"^([0-9]+)([kKmMgGtT]?)[bB]?$", str(size).strip())
    if match is None:
        raise ValueError(f"not a Spark memory size: {size!r}")
    factor = {"k": 1 / 1024, "": 1 / MIB, "m": 1, "g": 1024, "t": 1024**2}[match.group(2).lower()]
    return math.ceil(int(match.group(1)) * factor)


class FilterModule:
    """Ansible filter plugins of the spark_wordcount role."""

    def filters(self) -> dict[str, Any]:
        return {"spark_wordcount_fit": spark_wordcount_fit, "spark_wordcount_mib": spark_wordcount_mib,
                "spark_wordcount_cpu_millis": cpu_millis}
