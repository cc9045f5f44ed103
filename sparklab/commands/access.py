"""``dashboard``, ``kubeconfig`` and ``ssh``: reaching a running cluster."""

from __future__ import annotations

import os
import shlex
import socket
import urllib.error
import urllib.request

from sparklab.cluster import aws
from sparklab.commands.base import Context, refuse_under_emulator, resolve_credentials, user_target
from sparklab.config.load import Config
from sparklab.core.errors import EXIT_FAILED, EXIT_OK, BadInput, RunFailed
from sparklab.core.state import ClusterState

SSH_PORT = 22
SSH_CONNECT_TIMEOUT = 10  # seconds; ssh's own default waits for the kernel (about two minutes)
# Where the dashboard comes from, for the message when something else answers its port.
DASHBOARD_RELEASE = "kube-opex-analytics"


def answers(host: str, port: int, timeout: float) -> str:
    """``""`` if ``host:port`` accepts a TCP connection within ``timeout`` seconds, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return ""
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def dashboard(ctx: Context) -> int:
    cfg = ctx.config()
    refuse_under_emulator("dashboard")
    resolve_credentials()
    inv = aws.scan(cfg.name, user_target(cfg))
    cp = inv.control_plane
    if cp is None or not cp.public_ip:
        raise RunFailed(f"cluster {cfg.name} has no running control plane (fix: {ctx.command('up')})")
    port = int(cfg.resolved["cluster_dashboard_node_port"])
    url = f"http://{cp.public_ip}:{port}/"
    ctx.say(f"dashboard: {url}")
    server = ""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            code = response.status
    except urllib.error.HTTPError as exc:
        code, server = exc.code, exc.headers.get("Server", "")
    except (urllib.error.URLError, OSError) as exc:
        ctx.say(f"not answering: {getattr(exc, 'reason', exc)} (is your address in cluster_admin_cidrs?)")
        return EXIT_FAILED
    if code == 200:
        ctx.say(f"answers: HTTP {code}")
        return EXIT_OK
    ctx.say(not_the_dashboard(cfg, url, code, server))
    return EXIT_FAILED


def not_the_dashboard(cfg: Config, url: str, code: int, server: str) -> str:
    """One line: what answered the dashboard's port and what to check."""
    port = cfg.resolved["cluster_dashboard_node_port"]
    by = f", server {server!r}" if server else ", no Server header"
    return (f"{url} answered HTTP {code}{by}, not the dashboard (check: the {DASHBOARD_RELEASE} Helm release "
            f"is deployed, its Service is a NodePort on {port}, the security group opens {port} "
            f"to your address)")


def kubeconfig(ctx: Context) -> int:
    cfg = ctx.config()
    state = ClusterState.for_cluster(cfg.name, cfg.region)
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
    refuse_under_emulator("ssh")
    resolve_credentials()
    state = ClusterState.for_cluster(cfg.name, cfg.region)
    inv = aws.scan(cfg.name, user_target(cfg))
    node = find_node(inv, ctx.args.node)
    if node is None or not node.public_ip:
        names = ", ".join(n.name for n in inv.nodes if n.state == "running") or "none running"
        raise BadInput(f"{ctx.args.node}: no such running node of cluster {cfg.name} (nodes: {names})")
    why = answers(node.public_ip, SSH_PORT, SSH_CONNECT_TIMEOUT)
    if why:
        raise RunFailed(f"{node.name} ({node.public_ip}) does not answer on port {SSH_PORT}: {why} "
                        f"(check: {ctx.command('status')}; is your address in cluster_admin_cidrs?)")
    cmd = ssh_command(cfg, state, node.public_ip, ctx.args.remote)
    os.execvp(cmd[0], cmd)
    return EXIT_FAILED  # pragma: no cover - execvp does not return


def ssh_command(cfg: Config, state: ClusterState, address: str, remote: list[str]) -> list[str]:
    """ssh with the cluster's key and known_hosts, and a short connect timeout."""
    return ["ssh", "-i", str(state.private_key), "-o", "IdentitiesOnly=yes",
            "-o", f"UserKnownHostsFile={state.known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-o", f"ConnectTimeout={SSH_CONNECT_TIMEOUT}", "-o", "ConnectionAttempts=1",
            "-p", str(SSH_PORT), f"{cfg.resolved['cluster_ssh_user']}@{address}", *remote]
