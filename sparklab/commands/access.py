"""``dashboard``, ``kubeconfig`` and ``ssh``: reaching a running cluster."""

from __future__ import annotations

import os
import shlex
import urllib.error
import urllib.request

from sparklab import aws
from sparklab.commands.base import Context, resolve_credentials, user_target
from sparklab.errors import EXIT_FAILED, EXIT_OK, BadInput, RunFailed
from sparklab.state import ClusterState


def dashboard(ctx: Context) -> int:
    cfg = ctx.config()
    resolve_credentials()
    inv = aws.scan(cfg.name, user_target(cfg))
    cp = inv.control_plane
    if cp is None or not cp.public_ip:
        raise RunFailed(f"cluster {cfg.name} has no running control plane (fix: {ctx.command('up')})")
    url = f"http://{cp.public_ip}:{cfg.resolved['cluster_dashboard_node_port']}/"
    ctx.say(f"dashboard: {url}")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            code = response.status
    except urllib.error.HTTPError as exc:
        code = exc.code
    except (urllib.error.URLError, OSError) as exc:
        ctx.say(f"not answering: {getattr(exc, 'reason', exc)} (is your address in cluster_admin_cidrs?)")
        return EXIT_FAILED
    ctx.say(f"answers: HTTP {code}")
    return EXIT_OK if code == 200 else EXIT_FAILED


def kubeconfig(ctx: Context) -> int:
    cfg = ctx.config()
    state = ClusterState.for_cluster(cfg.name)
    if not state.kubeconfig.is_file():
        raise RunFailed(f"no kubeconfig at {state.kubeconfig} yet (fix: {ctx.command('up')})")
    ctx.say(str(state.kubeconfig))
    ctx.say(f"export KUBECONFIG={shlex.quote(str(state.kubeconfig))}")
    return EXIT_OK


def find_node(inv: aws.Inventory, wanted: str) -> aws.Node | None:
    running = [n for n in inv.nodes if n.state == "running"]
    for node in running:
        short = node.name.removeprefix(f"{inv.cluster}-")
        if wanted in (node.name, short, node.instance_id, node.public_ip, node.private_ip):
            return node
    if wanted in ("cp", "control-plane") and inv.control_plane:
        return inv.control_plane
    return None


def ssh(ctx: Context) -> int:
    cfg = ctx.config()
    resolve_credentials()
    state = ClusterState.for_cluster(cfg.name)
    inv = aws.scan(cfg.name, user_target(cfg))
    node = find_node(inv, ctx.args.node)
    if node is None or not node.public_ip:
        names = ", ".join(n.name for n in inv.nodes if n.state == "running") or "none running"
        raise BadInput(f"{ctx.args.node}: no such running node of cluster {cfg.name} (nodes: {names})")
    cmd = ["ssh", "-i", str(state.private_key), "-o", "IdentitiesOnly=yes",
           "-o", f"UserKnownHostsFile={state.known_hosts}", "-o", "StrictHostKeyChecking=yes",
           f"{cfg.resolved['cluster_ssh_user']}@{node.public_ip}", *ctx.args.remote]
    os.execvp(cmd[0], cmd)
    return EXIT_FAILED  # pragma: no cover - execvp does not return
