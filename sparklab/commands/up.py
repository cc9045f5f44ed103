"""``provision`` and ``up``: create the infrastructure (and the cluster); re-running resumes."""

from __future__ import annotations

import shlex
from typing import Any

from sparklab.cluster import aws
from sparklab.commands.base import (
    Context,
    describe_existing,
    interrupted,
    refuse_under_emulator,
    resolve_credentials,
    run_playbooks,
    user_target,
)
from sparklab.config.load import Config, detect_admin_cidrs
from sparklab.core import lock
from sparklab.core.errors import EXIT_FAILED, EXIT_OK
from sparklab.core.state import ClusterState


def provision(ctx: Context) -> int:
    return provisioning_verb(ctx, "provision")


def up(ctx: Context) -> int:
    return provisioning_verb(ctx, "up")


def provisioning_verb(ctx: Context, verb: str) -> int:
    cfg = ctx.config()
    extra: dict[str, Any] = ctx.ansible_vars()
    lock.hold(cfg.name, verb, cfg.region)  # one run at a time per cluster, before any AWS call
    creds = resolve_credentials()
    if verb == "up":  # the node phases connect to every node; `provision` alone connects to none
        refuse_under_emulator("up", f"{ctx.command('provision')} creates the infrastructure alone "
                                    "there, or unset AWS_ENDPOINT_URL to use AWS")
    if not cfg.resolved["cluster_admin_cidrs"]:
        extra["cluster_admin_cidrs"] = detect_admin_cidrs(cfg)
        ctx.say(f"admin access (SSH, API server, dashboard) from {', '.join(extra['cluster_admin_cidrs'])}")
    state = ClusterState.for_cluster(cfg.name, cfg.region)  # one state folder per name and region
    state.record_region(cfg.region)
    target = user_target(cfg)
    result = run_playbooks(ctx, cfg, verb, creds, state.new_run(verb), cfg.extravars(**extra))
    if result.canceled:
        return interrupted(ctx, cfg, verb, target)
    if not result.ok:
        describe_existing(ctx, cfg, target)
        ctx.say(f"resume:    {ctx.command(verb)}")
        ctx.say(f"tear down: {ctx.command('down')}")
        return EXIT_FAILED
    ctx.say("")
    inv = describe_existing(ctx, cfg, target)
    if verb == "up":
        print_access(ctx, cfg, state, inv)
        ctx.say(f"next: {ctx.command('wordcount', '--generate', '1GB')}   when done: {ctx.command('down')}")
    else:
        ctx.say(f"next: {ctx.command('up')}   or tear down: {ctx.command('down')}")
    return EXIT_OK


def print_access(ctx: Context, cfg: Config, state: ClusterState, inv: aws.Inventory | None) -> None:
    cp = inv.control_plane if inv else None
    port = cfg.resolved["cluster_dashboard_node_port"]
    if cp and cp.public_ip:
        ctx.say(f"dashboard:  http://{cp.public_ip}:{port}/  (charts fill in after 5-10 minutes)")
    ctx.say(f"kubeconfig: {state.kubeconfig}   (export KUBECONFIG={shlex.quote(str(state.kubeconfig))})")
