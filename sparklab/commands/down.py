"""``down``: delete everything tagged for the cluster, then audit by tag that nothing is left."""

from __future__ import annotations

import getpass
import sys

from sparklab.cluster import aws
from sparklab.commands.base import (
    Context,
    describe_existing,
    elsewhere,
    resolve_credentials,
    run_playbooks,
    user_target,
)
from sparklab.config.load import Config
from sparklab.core import lock
from sparklab.core.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, BadInput
from sparklab.core.state import ClusterState


def preview(ctx: Context, cfg: Config, target: aws.Target, state: ClusterState | None = None) -> int:
    """What ``down`` will delete, by resource type with counts and names or ids (one scan by tag);
    how many resources it found (-1: unknown). With nothing there, the regions where this machine's
    state says the cluster lives."""
    try:
        inv = aws.scan(cfg.name, target)
    except Exception as exc:  # the teardown playbook scans again; say so and go on
        ctx.say(f"could not list what will be deleted ({type(exc).__name__}); the teardown scans again")
        return -1
    if inv.count == 0:
        ctx.say(f"nothing tagged sparklab:cluster={cfg.name} exists in {cfg.region}; "
                "the teardown checks again and removes any leftover")
        if state is not None:
            elsewhere(ctx, cfg, state)
        return 0
    ctx.say(f"down will delete {inv.count} resources of cluster {cfg.name} in {cfg.region}:")
    for line in grouped(inv):
        ctx.say(line)
    return inv.count


def grouped(inv: aws.Inventory) -> list[str]:
    """``  <count> <type>: <name or id>, ...``, instances first, then in the scanner's order."""
    by_type: dict[str, list[str]] = {}
    for node in inv.nodes:
        by_type.setdefault("instance", []).append(f"{node.name} ({node.instance_id})")
    for kind, rid, _detail in inv.resources:
        by_type.setdefault(kind, []).append(rid)
    return [f"  {len(names)} {kind}: {', '.join(names)}" for kind, names in by_type.items()]


def needs_terminal(ctx: Context) -> None:
    """Without --yes the prompt needs a terminal: refuse before any AWS call."""
    if not ctx.args.yes and not sys.stdin.isatty():
        raise BadInput("down needs confirmation (fix: run it in a terminal, or add --yes)")


def confirm(ctx: Context, cfg: Config) -> bool:
    if ctx.args.yes:
        return True
    prompt = (f"Delete every AWS resource tagged sparklab:cluster={cfg.name} in {cfg.region}? "
              f"Type the cluster name to confirm: ")
    try:
        answer = input(prompt)
    except EOFError:
        answer = ""
    return answer.strip() == cfg.name


def down(ctx: Context) -> int:
    cfg = ctx.config()
    extra = ctx.ansible_vars()
    if ctx.args.other_owner:  # the playbook refuses a cluster created by another identity without it
        extra["aws_teardown_allow_other_owner"] = True
    lock.hold(cfg.name, "down", cfg.region)  # one run at a time per cluster, before any AWS call
    creds = resolve_credentials()
    needs_terminal(ctx)
    state = ClusterState.for_cluster(cfg.name, cfg.region)
    target = user_target(cfg)
    found = preview(ctx, cfg, target, state)
    if not confirm(ctx, cfg):
        ctx.say("not confirmed; nothing was deleted")
        return EXIT_BAD_INPUT
    how = "--yes" if ctx.args.yes else "prompt"
    state.audit(f"down cluster={cfg.name} region={cfg.region} user={getpass.getuser()} "
                f"credentials={getattr(creds, 'method', '?')} confirmed={how} started")
    result = run_playbooks(ctx, cfg, "down", creds, state.new_run("down"), cfg.extravars(**extra))
    outcome = "canceled" if result.canceled else ("ok" if result.ok else "failed")
    if result.canceled:
        state.audit(f"down cluster={cfg.name} region={cfg.region} result={outcome}")
        ctx.say(f"down interrupted; run it again to finish: {ctx.command('down', '--yes')}")
        describe_existing(ctx, cfg, target, settle=True)
        return EXIT_INTERRUPTED
    ctx.say("")
    ctx.say("leftover audit (independent scan by tag):")
    inv = describe_existing(ctx, cfg, target)
    left = inv.count if inv is not None else -1
    state.audit(f"down cluster={cfg.name} region={cfg.region} result={outcome} left={left}")
    if not result.ok or left != 0:
        ctx.say(f"run it again: {ctx.command('down', '--yes')}")
        return EXIT_FAILED
    ctx.say("0 resources left")
    if found == 0:  # nothing was there: say where this machine's state says the cluster lives
        elsewhere(ctx, cfg, state)
    return EXIT_OK
