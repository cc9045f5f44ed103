"""``status``: what exists for the cluster, node readiness, expiry and cost so far."""

from __future__ import annotations

from datetime import UTC, datetime

from sparklab import aws, costs
from sparklab.commands.base import Context, resolve_credentials, user_target
from sparklab.errors import EXIT_OK, RunFailed
from sparklab.state import ClusterState


def status(ctx: Context) -> int:
    cfg = ctx.config()
    resolve_credentials()
    state = ClusterState.for_cluster(cfg.name)
    try:
        inv = aws.scan(cfg.name, user_target(cfg))
    except Exception as exc:
        raise RunFailed(f"could not list the cluster's resources: {exc}") from None
    ctx.say(f"cluster {cfg.name} in {cfg.region}: {inv.count} resources")
    for line in inv.lines():
        ctx.say(line)
    if inv.count == 0:
        ctx.say(f"nothing exists. create it: {ctx.command('up')}")
        ctx.say(f"try it offline first: {ctx.command('plan')}")
        return EXIT_OK
    if inv.expires_at:
        ctx.say(f"expires at: {inv.expires_at}{time_left(inv.expires_at)}")
    running: dict[str, int] = {}
    for node in inv.nodes:
        if node.state == "running":
            running[node.instance_type] = running.get(node.instance_type, 0) + 1
    gib = float(cfg.resolved["cluster_root_volume_gib"])
    hourly = costs.estimate(running, gib)
    ctx.say(f"cost now: about ${hourly.usd_per_hour:.3f} per hour ({costs.PRICES_LABEL})")
    ctx.say(f"cost so far: about ${cost_so_far(inv, gib):.2f} (running instances since launch)")
    ctx.say(f"nodes: {readiness(state, inv)}")
    ctx.say(f"tear down: {ctx.command('down')}")
    return EXIT_OK


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
