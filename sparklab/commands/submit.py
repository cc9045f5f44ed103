"""``submit``: the user's PySpark application, checked, run (``--local`` or on the cluster), reported.

Every check of what the user typed (:mod:`sparklab.job.submission`) runs first: a bad value is one
line and exit 2, before any AWS call, and nothing is staged, uploaded or submitted.
"""

from __future__ import annotations

from sparklab.commands.base import Context
from sparklab.core.errors import RunFailed
from sparklab.job import submission


def submit(ctx: Context) -> int:
    sub = submission.parse(ctx.args)
    if sub.local:
        from sparklab.job.local.submit import run_submit_local

        return run_submit_local(sub, ctx.say, ctx.out, plain=ctx.args.plain)
    raise RunFailed(f"submit {sub.name}: on a cluster, not in this version yet "
                    "(fix: add --local to run it on local Spark on this machine)")
