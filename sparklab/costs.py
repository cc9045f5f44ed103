"""Approximate hourly cost of a sparklab cluster.

The prices are on-demand Linux list prices for eu-west-1 (Ireland) as published by AWS in 2025.
They are approximate: AWS changes prices, other regions differ (us-east-1 is about 10 % cheaper,
some regions 20-30 % dearer), and taxes, data transfer and S3 requests are not included. The
figures are meant to answer "roughly how much per hour", not to reconcile a bill.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: float
    unit_usd_per_hour: float | None

    @property
    def usd_per_hour(self) -> float | None:
        if self.unit_usd_per_hour is None:
            return None
        return self.quantity * self.unit_usd_per_hour


@dataclass(frozen=True)
class Estimate:
    lines: tuple[CostLine, ...]

    @property
    def usd_per_hour(self) -> float:
        return sum(line.usd_per_hour or 0.0 for line in self.lines)

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(line.item for line in self.lines if line.unit_usd_per_hour is None)

    def table(self) -> list[str]:
        rows = []
        for line in self.lines:
            cost = "price unknown" if line.usd_per_hour is None else f"${line.usd_per_hour:.4f}/h"
            rows.append(f"  {line.quantity:>5g} x {line.item:<32} {cost}")
        rows.append(f"  total about ${self.usd_per_hour:.3f} per hour ({PRICES_LABEL})")
        if self.unknown:
            rows.append(f"  not priced here: {', '.join(self.unknown)} (look them up for your region)")
        return rows


def instance_hourly(instance_type: str) -> float | None:
    return INSTANCE_HOURLY_USD.get(instance_type)


def volume_hourly(gib: float) -> float:
    return gib * GP3_GIB_MONTH_USD / HOURS_PER_MONTH


def estimate(instances: dict[str, int], root_volume_gib: float) -> Estimate:
    """Cost per hour of ``instances`` (type -> count), each with a gp3 root volume and a public IPv4."""
    lines: list[CostLine] = []
    total = 0
    for itype, count in instances.items():
        if count <= 0:
            continue
        total += count
        lines.append(CostLine(f"{itype} instance", count, instance_hourly(itype)))
    if total:
        volume = f"gp3 root volume {root_volume_gib:g} GiB"
        lines.append(CostLine(volume, total, volume_hourly(root_volume_gib)))
        lines.append(CostLine("public IPv4 address", total, PUBLIC_IPV4_HOURLY_USD))
    return Estimate(tuple(lines))


def estimate_for_config(config: dict[str, Any]) -> Estimate:
    """Cost per hour of the cluster a configuration describes."""
    cp = str(config.get("cluster_control_plane_instance_type", "t3.medium"))
    worker = str(config.get("cluster_worker_instance_type", "t3.large"))
    counts: dict[str, int] = {cp: 1}
    counts[worker] = counts.get(worker, 0) + int(config.get("cluster_worker_count", 2))
    return estimate(counts, float(config.get("cluster_root_volume_gib", 30)))
