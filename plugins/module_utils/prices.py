"""Approximate AWS prices and the hourly cost estimate of a sparklab cluster.

This is the only price table of the project: the ``sparklab.cluster.hourly_cost`` filter (printed at
the end of provisioning) and the Python front end (``runner.py plan/status``) both read it. It is
pure Python with no Ansible import so that ``runner.py`` can load it by file path.

The prices are on-demand Linux list prices for eu-west-1 (Ireland) as published by AWS in 2025.
They are approximate: AWS changes prices, other regions differ (us-east-1 is about 10 % cheaper,
some regions 20-30 % dearer), and taxes, data transfer and S3 requests are not included. The
figures answer "roughly how much per hour", not reconcile a bill.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PRICES_REGION = "eu-west-1"
PRICES_DATED = "2025"
PRICES_LABEL = f"approximate {PRICES_REGION} on-demand list prices ({PRICES_DATED}); check your bill"

# USD per instance-hour, Linux, on demand, eu-west-1.
INSTANCE_HOURLY_USD: dict[str, float] = {
    "t3.medium": 0.0456,
    "t3.large": 0.0912,
    "t3.xlarge": 0.1824,
    "t3.2xlarge": 0.3648,
    "t3a.medium": 0.0408,
    "t3a.large": 0.0816,
    "t3a.xlarge": 0.1632,
    "t3a.2xlarge": 0.3264,
    "m5.large": 0.107,
    "m5.xlarge": 0.214,
    "m5.2xlarge": 0.428,
    "m6i.large": 0.107,
    "m6i.xlarge": 0.214,
    "m6i.2xlarge": 0.428,
    "m7i.large": 0.1124,
    "m7i.xlarge": 0.2247,
    "c5.large": 0.096,
    "c5.xlarge": 0.192,
    "c6i.large": 0.096,
    "c6i.xlarge": 0.192,
    "r5.large": 0.141,
    "r5.xlarge": 0.282,
    "r6i.large": 0.141,
    "r6i.xlarge": 0.282,
}
GP3_GIB_MONTH_USD = 0.088
HOURS_PER_MONTH = 730
PUBLIC_IPV4_HOURLY_USD = 0.005


def instance_hourly(instance_type: str) -> float | None:
    """USD per hour of one instance, or None when the type is not in the table."""
    return INSTANCE_HOURLY_USD.get(instance_type)


def volume_hourly(gib: float) -> float:
    """USD per hour of one gp3 volume of ``gib`` GiB (baseline IOPS and throughput)."""
    return gib * GP3_GIB_MONTH_USD / HOURS_PER_MONTH


def count_instances(instances: Mapping[str, Any] | Iterable[str]) -> dict[str, int]:
    """``{type: count}`` from either such a mapping or a list with one instance type per node."""
    if isinstance(instances, str):
        instances = [instances]
    if isinstance(instances, Mapping):
        return {str(itype): int(count) for itype, count in instances.items()}
    counts: dict[str, int] = {}
    for itype in instances:
        counts[str(itype)] = counts.get(str(itype), 0) + 1
    return counts


def cluster_instances(control_plane_type: str, worker_type: str, worker_count: int) -> dict[str, int]:
    """``{type: count}`` of a cluster with one control-plane node and ``worker_count`` workers."""
    counts = {control_plane_type: 1}
    counts[worker_type] = counts.get(worker_type, 0) + int(worker_count)
    return counts


def cost_lines(instances: Mapping[str, Any] | Iterable[str], root_volume_gib: float) -> list[dict[str, Any]]:
    """The line items of the hourly cost: instances per type, then root volumes and public IPv4s.

    Each node has one gp3 root volume of ``root_volume_gib`` and one public IPv4 address. A line is
    ``{item, instance_type, quantity, unit_usd_per_hour, usd_per_hour}``; the two prices are None
    when the instance type is not in the table (``instance_type`` is "" for non-instance lines).
    """
    lines: list[dict[str, Any]] = []
    nodes = 0
    for itype, count in count_instances(instances).items():
        if count <= 0:
            continue
        nodes += count
        lines.append(_line(f"{itype} instance", itype, count, instance_hourly(itype)))
    if nodes:
        lines.append(
            _line(f"gp3 root volume {root_volume_gib:g} GiB", "", nodes, volume_hourly(root_volume_gib))
        )
        lines.append(_line("public IPv4 address", "", nodes, PUBLIC_IPV4_HOURLY_USD))
    return lines


def _line(item: str, instance_type: str, quantity: int, unit: float | None) -> dict[str, Any]:
    return {
        "item": item,
        "instance_type": instance_type,
        "quantity": quantity,
        "unit_usd_per_hour": unit,
        "usd_per_hour": None if unit is None else quantity * unit,
    }


def total_hourly(lines: Iterable[Mapping[str, Any]]) -> float:
    """Sum of the priced lines (unpriced lines count as 0)."""
    return sum(line["usd_per_hour"] or 0.0 for line in lines)


def unpriced(lines: Iterable[Mapping[str, Any]]) -> list[str]:
    """Instance types of the lines without a price."""
    return [line["instance_type"] for line in lines if line["unit_usd_per_hour"] is None]


def hourly_estimate(instances: Mapping[str, Any] | Iterable[str], root_volume_gib: float) -> dict[str, Any]:
    """The whole estimate: line items, total USD per hour, unpriced types and the price label."""
    counts = count_instances(instances)  # once: ``instances`` may be a one-shot iterator
    lines = cost_lines(counts, root_volume_gib)
    return {
        "lines": lines,
        "usd_per_hour": total_hourly(lines),
        "unpriced": unpriced(lines),
        "nodes": sum(count for count in counts.values() if count > 0),
        "region": PRICES_REGION,
        "dated": PRICES_DATED,
        "label": PRICES_LABEL,
    }
