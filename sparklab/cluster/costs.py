"""Approximate hourly cost of a sparklab cluster, for the front end's messages.

The price table and the arithmetic live only in ``plugins/module_utils/prices.py`` (shared with the
``sparklab.cluster.hourly_cost`` filter that provisioning uses for its summary); this module loads it
by file path and adds the printed table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparklab.core.contract import module_utils

prices = module_utils("prices")

PRICES_REGION: str = prices.PRICES_REGION
PRICES_DATED: str = prices.PRICES_DATED
PRICES_LABEL: str = prices.PRICES_LABEL
INSTANCE_HOURLY_USD: dict[str, float] = prices.INSTANCE_HOURLY_USD
GP3_GIB_MONTH_USD: float = prices.GP3_GIB_MONTH_USD
HOURS_PER_MONTH: int = prices.HOURS_PER_MONTH
PUBLIC_IPV4_HOURLY_USD: float = prices.PUBLIC_IPV4_HOURLY_USD


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: float
    unit_usd_per_hour: float | None
    usd_per_hour: float | None


@dataclass(frozen=True)
class Estimate:
    lines: tuple[CostLine, ...]
    usd_per_hour: float
    unknown: tuple[str, ...]

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
    return prices.instance_hourly(instance_type)


def volume_hourly(gib: float) -> float:
    return prices.volume_hourly(gib)


def estimate(instances: dict[str, int], root_volume_gib: float) -> Estimate:
    """Cost per hour of ``instances`` (type -> count), each with a gp3 root volume and a public IPv4."""
    result = prices.hourly_estimate(instances, root_volume_gib)
    lines = tuple(
        CostLine(line["item"], line["quantity"], line["unit_usd_per_hour"], line["usd_per_hour"])
        for line in result["lines"]
    )
    unknown = tuple(f"{itype} instance" for itype in result["unpriced"])
    return Estimate(lines, result["usd_per_hour"], unknown)


def estimate_for_config(config: dict[str, Any]) -> Estimate:
    """Cost per hour of the cluster a configuration describes."""
    counts = prices.cluster_instances(
        str(config.get("cluster_control_plane_instance_type", "t3.medium")),
        str(config.get("cluster_worker_instance_type", "t3.large")),
        int(config.get("cluster_worker_count", 2)),
    )
    return estimate(counts, float(config.get("cluster_root_volume_gib", 30)))
