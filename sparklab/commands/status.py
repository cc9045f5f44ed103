"""``status``: what exists for the cluster, node readiness, expiry and cost so far."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sparklab.cluster import aws, costs
from sparklab.cluster import node_timers as timers_mod
from sparklab.commands.base import Context, elsewhere, resolve_credentials, user_target
from sparklab.core.errors import EXIT_OK, RunFailed
from sparklab.core.state import ClusterState


def status(ctx: Context) -> int:
    cfg = ctx.config()
    state = ClusterState.for_cluster(cfg.name, cfg.region)
    resolve_credentials()
    try:
        inv = aws.scan(cfg.name, user_target(cfg))
    except Exception as exc:
        raise RunFailed(f"could not list the cluster's resources: {exc}") from None
    running: dict[str, int] = {}
    for node in inv.nodes:
        if node.state == "running":
            running[node.instance_type] = running.get(node.instance_type, 0) + 1
    gib = float(cfg.resolved["cluster_root_volume_gib"])
    hourly = costs.estimate(running, gib).usd_per_hour
    so_far = cost_so_far(inv, gib)
    ready = readiness(state, inv) if inv.count else ""
    try:
        from_user_data = aws.node_timers(user_target(cfg), inv.nodes)
    except Exception as exc:
        raise RunFailed(f"could not read the nodes' user data: {exc}") from None
    timers = read_timers(cfg.resolved, state, inv, from_user_data)
    if getattr(ctx.args, "output", "text") == "json":
        ctx.say(json.dumps(as_json(inv, hourly, so_far, ready, timers), indent=2))
        return EXIT_OK
    ctx.say(f"cluster {cfg.name} in {cfg.region}: {inv.count} resources")
    for line in inv.lines():
        ctx.say(line)
    if inv.count == 0:
        elsewhere(ctx, cfg, state)
        ctx.say(f"nothing exists. create it: {ctx.command('up')}")
        ctx.say(f"try it offline first: {ctx.command('plan')}")
        return EXIT_OK
    if inv.expires_at:
        ctx.say(f"expires at: {inv.expires_at}{time_left(inv.expires_at)}")
    for node in inv.nodes:
        if node.instance_id in timers:
            reading = timers[node.instance_id]
            ctx.say(f"  {node.name}: {aws.timer_state(node, reading.armed_for)} ({reading.phrase()})")
    ctx.say(f"cost now: about ${hourly:.3f} per hour ({costs.PRICES_LABEL})")
    ctx.say(f"cost so far: about ${so_far:.2f} (running instances since launch)")
    ctx.say(f"nodes: {ready}")
    ctx.say(f"tear down: {ctx.command('down')}")
    return EXIT_OK


def read_timers(resolved: dict[str, Any], state: ClusterState, inv: aws.Inventory,
                from_user_data: dict[str, str]) -> dict[str, timers_mod.TimerReading]:
    """Each live node's timer, read from the node over the cluster's SSH when it answers, from its
    user data otherwise (always under an emulator, whose node addresses are invented)."""
    access = timers_mod.SshAccess(state.private_key, state.known_hosts, str(resolved["cluster_ssh_user"]))
    why = "nodes are not contacted under an AWS emulator" if aws.emulated_endpoint() else access.missing()
    return timers_mod.read_timers(inv.nodes, from_user_data, None if why else access, why)


def as_json(inv: aws.Inventory, hourly: float, so_far: float, ready: str,
            timers: dict[str, timers_mod.TimerReading] | None = None) -> dict[str, Any]:
    """``status -o json``: stable keys, documented in docs/runner.md."""
    return {
        "cluster": inv.cluster,
        "region": inv.region,
        "resources": inv.count,
        "expires_at": inv.expires_at,
        "owner": inv.creator or inv.owner,
        "usd_per_hour": round(hourly, 4),
        "usd_so_far": round(so_far, 4),
        "readiness": ready,
        "nodes": [{"name": n.name, "instance_id": n.instance_id, "instance_type": n.instance_type,
                   "role": n.role, "state": n.state, "public_ip": n.public_ip, "private_ip": n.private_ip,
                   "launched": n.launched.isoformat() if n.launched else "",
                   "expires_at": n.expires_at, **timer_keys((timers or {}).get(n.instance_id))}
                  for n in inv.nodes],
        "other": [{"type": kind, "id": rid, "detail": detail} for kind, rid, detail in inv.resources],
    }


def timer_keys(reading: timers_mod.TimerReading | None) -> dict[str, str]:
    """A node's ``timer_armed_for``, ``timer_source`` (``node`` or ``user data``) and ``timer_note``."""
    if reading is None:
        return {"timer_armed_for": "", "timer_source": "", "timer_note": ""}
    return {"timer_armed_for": reading.armed_for, "timer_source": reading.source, "timer_note": reading.why}


def time_left(expires_at: str) -> str:
    try:
        when = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    left = (when - datetime.now(UTC)).total_seconds()
    if left <= 0:
        return " (past: the nodes have powered off or are about to)"
    return f" (in {int(left // 3600)} h {int(left % 3600 // 60)} min)"


def cost_so_far(inv: aws.Inventory, gib: float) -> float:
    total = 0.0
    for node in inv.nodes:
        hours = aws.hours_running([node]).get(node.instance_type, 0.0)
        unit = (costs.instance_hourly(node.instance_type) or 0.0) + costs.volume_hourly(gib)
        total += hours * (unit + costs.PUBLIC_IPV4_HOURLY_USD)
    return total


def readiness(state: ClusterState, inv: aws.Inventory) -> str:
    if not state.kubeconfig.is_file():
        return f"readiness unknown: no kubeconfig at {state.kubeconfig} yet (the cluster phase writes it)"
    try:
        from kubernetes import client, config

        api = config.new_client_from_config(config_file=str(state.kubeconfig))
        nodes = client.CoreV1Api(api).list_node(_request_timeout=5).items
    except Exception as exc:
        return f"readiness unknown: the API server did not answer ({type(exc).__name__})"
    ready = [n.metadata.name for n in nodes
             if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]
    return f"{len(ready)}/{len(nodes)} Ready ({len(inv.nodes)} instances)"
