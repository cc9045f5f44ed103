"""``plan``: the real provision playbook against a local AWS emulator; what `up` would create and cost."""

from __future__ import annotations

from typing import Any

from sparklab.cluster import aws, costs, credentials
from sparklab.commands.base import Context, run_playbooks
from sparklab.config.load import Config
from sparklab.core.contract import module_utils
from sparklab.core.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from sparklab.core.state import ClusterState

# `plan` opens the admin ports to this documentation address (RFC 5737) when cluster_admin_cidrs
# is empty: detecting the caller's address would need the internet, and plan runs offline.
PLAN_ADMIN_CIDR = "192.0.2.10/32"
# Variables sparklab passes to the provision playbook when it runs against the emulator, where
# no instance ever answers SSH.
PLAN_EXTRAVARS = {"aws_instances_wait_for_ssh": False}


def plan(ctx: Context) -> int:
    from sparklab.cluster.emulator import Emulator

    cfg = ctx.config()
    state = ClusterState.for_cluster(cfg.name)
    extra: dict[str, Any] = dict(PLAN_EXTRAVARS) | ctx.ansible_vars()
    if not cfg.resolved["cluster_admin_cidrs"]:
        extra["cluster_admin_cidrs"] = [PLAN_ADMIN_CIDR]
    ctx.say("plan: starting a local AWS emulator (moto) on 127.0.0.1; no AWS account is used")
    fake = credentials.throwaway()
    with Emulator(regions=(cfg.region,)) as emu:
        run_dir = state.new_run("plan")
        env = emu.playbook_env()
        # The emulated cluster's key pair and known_hosts stay inside this run's folder.
        env[module_utils("cluster_names").HOME_ENV] = str(run_dir / "emulated-home")
        result = run_playbooks(ctx, cfg, "plan", fake, run_dir, cfg.extravars(**extra), env=env)
        if result.canceled:
            ctx.say("plan interrupted; the emulator is discarded, nothing exists anywhere")
            return EXIT_INTERRUPTED
        if not result.ok:
            return EXIT_FAILED
        target = aws.Target(cfg.region, emu.endpoint_url, fake.access_key, fake.secret_key)
        inv = aws.scan(cfg.name, target)
    print_plan(ctx, cfg, inv, extra)
    return EXIT_OK


def print_plan(ctx: Context, cfg: Config, inv: aws.Inventory, extra: dict[str, Any]) -> None:
    ctx.say("")
    ctx.say(f"`up` would create these {inv.count} resources in {cfg.region} (as created in the emulator):")
    for line in inv.lines():
        ctx.say(line)
    if "cluster_admin_cidrs" in extra:
        ctx.say(f"  (admin access: plan used {PLAN_ADMIN_CIDR}; `up` opens it to your public IPv4 /32)")
    est = costs.estimate_for_config(cfg.resolved)
    ctx.say("hourly cost:")
    for line in est.table():
        ctx.say(line)
    ttl = int(cfg.resolved["cluster_ttl_hours"])
    if ttl:
        ctx.say(f"the nodes power themselves off after {ttl} h: at most about ${est.usd_per_hour * ttl:.2f}")
    ctx.say("This plan ran the real playbooks/provision.yml against a local AWS emulator on 127.0.0.1; "
            "nothing was created in AWS. The emulator has been stopped.")
    ctx.say(f"next: {ctx.command('up')}")
