"""``list``: every sparklab cluster in a region (or in every enabled region), found by its tag.

Like ``eksctl get cluster``: one row per cluster with its creator, node count, expiry and cost per
hour. Clusters are found by the ``sparklab:cluster`` tag (one DescribeTags call per region), then
each is read by the one scanner (:func:`sparklab.cluster.aws.scan`). Works without ``cluster.yml``: the
region is the configured one (``--aws-region`` or ``cluster.yml``), else the default.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sparklab.cluster import aws, costs
from sparklab.commands.base import Context, resolve_credentials
from sparklab.commands.status import time_left
from sparklab.config.load import DEFAULT_CONFIG, Config, load, parse_overrides
from sparklab.core.errors import EXIT_FAILED, EXIT_OK, RunFailed

# Stands in for cluster_name when no configuration names a cluster: `list` reads only the region.
PLACEHOLDER_NAME = "sparklab-list"
COLUMNS = ("NAME", "REGION", "NODES", "OWNER", "EXPIRES", "COST/HOUR")


@dataclass(frozen=True)
class ClusterRow:
    """One cluster as ``list`` shows it; the keys of ``list -o json`` (documented in docs/runner.md)."""

    name: str
    region: str
    owner: str  # the sparklab:creator tag (full caller ARN), else sparklab:owner
    nodes: int  # instances not terminated
    nodes_running: int
    expires_at: str  # sparklab:expires-at (RFC 3339 UTC), "never", or "" when untagged
    usd_per_hour: float  # running instances, their root volumes and public IPv4 addresses
    resources: int  # every live tagged resource, the bucket included


def region_config(ctx: Context) -> Config:
    """The configuration for its region only; no cluster name is needed."""
    overrides = list(ctx.overrides)
    has_file = ctx.args.config is not None or Path(DEFAULT_CONFIG).is_file()
    if not has_file and "cluster_name" not in parse_overrides(overrides):
        overrides += ["--name", PLACEHOLDER_NAME]
    return load(ctx.args.config, overrides)


def hourly_usd(inv: aws.Inventory) -> float:
    """Cost per hour of the cluster's running instances, with root volumes of their mean size."""
    running: dict[str, int] = {}
    for node in inv.nodes:
        if node.state in ("running", "pending"):
            running[node.instance_type] = running.get(node.instance_type, 0) + 1
    if not running:
        return 0.0
    sizes = [float(detail) for kind, _id, detail in inv.resources if kind == "volume" and detail]
    gib = sum(sizes) / len(sizes) if sizes else 30.0
    return round(costs.estimate(running, gib).usd_per_hour, 4)


def row(inv: aws.Inventory) -> ClusterRow:
    return ClusterRow(
        name=inv.cluster, region=inv.region, owner=inv.creator or inv.owner,
        nodes=len(inv.nodes), nodes_running=sum(n.state == "running" for n in inv.nodes),
        expires_at=inv.expires_at, usd_per_hour=hourly_usd(inv), resources=inv.count,
    )


def scan_region(region: str) -> list[ClusterRow]:
    """Every cluster with at least one live resource in ``region``."""
    target = aws.Target(region=region)
    rows = []
    for name in aws.cluster_names(target):
        inv = aws.scan(name, target)
        if inv.count:
            rows.append(row(inv))
    return rows


def scan_regions(regions: list[str]) -> tuple[list[ClusterRow], dict[str, str]]:
    """Rows of every region (scanned in parallel) and, per region that failed, its error."""
    rows: list[ClusterRow] = []
    errors: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=min(8, len(regions))) as pool:
        futures = {region: pool.submit(scan_region, region) for region in regions}
    for region, future in futures.items():
        try:
            rows += future.result()
        except Exception as exc:  # one region's failure must not hide the others
            errors[region] = f"{type(exc).__name__}: {exc}"
    return sorted(rows, key=lambda r: (r.region, r.name)), errors


def list_clusters(ctx: Context) -> int:
    cfg = region_config(ctx)
    resolve_credentials()
    regions = [cfg.region]
    if ctx.args.all_regions:
        try:
            regions = aws.enabled_regions(aws.Target(region=cfg.region))
        except Exception as exc:
            raise RunFailed(f"could not list the enabled regions from {cfg.region}: {exc}") from None
    rows, errors = scan_regions(regions)
    if ctx.args.output == "json":
        ctx.say(json.dumps(as_json(rows, regions, errors), indent=2))
    else:
        for line in table(rows, regions, errors):
            ctx.say(line)
    return EXIT_FAILED if errors and len(errors) == len(regions) else EXIT_OK


def as_json(rows: list[ClusterRow], regions: list[str], errors: dict[str, str]) -> dict[str, Any]:
    return {"regions": regions, "clusters": [asdict(r) for r in rows], "errors": errors}


def expiry(value: str) -> str:
    return f"{value}{time_left(value)}" if value and value != "never" else (value or "-")


def table(rows: list[ClusterRow], regions: list[str], errors: dict[str, str]) -> list[str]:
    where = regions[0] if len(regions) == 1 else f"{len(regions)} regions"
    out = []
    if rows:
        cells = [COLUMNS] + [(r.name, r.region, f"{r.nodes_running}/{r.nodes}", r.owner or "-",
                              expiry(r.expires_at), f"${r.usd_per_hour:.3f}") for r in rows]
        widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
        out += ["  ".join(c.ljust(w) for c, w in zip(cells_row, widths, strict=True)).rstrip()
                for cells_row in cells]
        total = sum(r.usd_per_hour for r in rows)
        noun = "cluster" if len(rows) == 1 else "clusters"
        out.append(f"{len(rows)} {noun} in {where}, about ${total:.3f} per hour in all "
                   f"({costs.PRICES_LABEL})")
    else:
        out.append(f"no sparklab cluster in {where}")
    out += [f"{region}: could not list ({error})" for region, error in errors.items()]
    return out
