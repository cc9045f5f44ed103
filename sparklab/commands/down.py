"""``down``: delete everything tagged for the cluster, then audit by tag that nothing is left."""

from __future__ import annotations

import getpass
import sys

from sparklab import lock
from sparklab.commands.base import Context, describe_existing, resolve_credentials, run_playbooks, user_target
from sparklab.config import Config
from sparklab.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, BadInput
from sparklab.state import ClusterState


def confirm(ctx: Context, cfg: Config) -> bool:
    if ctx.args.yes:
        return True
    if not sys.stdin.isatty():
        raise BadInput("down needs confirmation (fix: run it in a terminal, or add --yes)")
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
    lock.hold(cfg.name, "down")  # one run at a time per cluster, before any AWS call
    creds = resolve_credentials()
    state = ClusterState.for_cluster(cfg.name)
    if not confirm(ctx, cfg):
        ctx.say("not confirmed; nothing was deleted")
        return EXIT_BAD_INPUT
    how = "--yes" if ctx.args.yes else "prompt"
    state.audit(f"down cluster={cfg.name} region={cfg.region} user={getpass.getuser()} "
                f"credentials={getattr(creds, 'method', '?')} confirmed={how} started")
    target = user_target(cfg)
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
    return EXIT_OK
