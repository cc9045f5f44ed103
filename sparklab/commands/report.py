"""``report``: show (and re-render) the report of a run (``wordcount`` or ``submit``)."""

from __future__ import annotations

from pathlib import Path

from sparklab.commands.base import Context
from sparklab.core.errors import EXIT_OK, BadInput, RunFailed
from sparklab.core.state import ClusterState
from sparklab.job import report as report_mod
from sparklab.job.runs import RUN_ID_PATTERN


def job_runs(state: ClusterState) -> list[Path]:
    """Run folders of a cluster, oldest first."""
    if not state.runs.is_dir():
        return []
    return sorted(p for p in state.runs.iterdir() if p.is_dir() and RUN_ID_PATTERN.match(p.name))


def report(ctx: Context) -> int:
    if ctx.args.local:
        from sparklab.job.local import run as local

        return local.report_local(ctx.args.run, ctx.say)
    cfg = ctx.config()
    state = ClusterState.for_cluster(cfg.name, cfg.region)
    if ctx.args.run:
        if not RUN_ID_PATTERN.match(ctx.args.run) or "\n" in ctx.args.run:
            raise BadInput(f"--run {ctx.args.run!r}: not a run id like 20261127-093000-3fa2 "
                           f"(fix: omit it for the latest, or pick a folder name under {state.runs})")
        run_dir = state.runs / ctx.args.run
        if not run_dir.is_dir():
            raise BadInput(f"{ctx.args.run}: no such run of cluster {cfg.name} (fix: omit it for the latest)")
    else:
        runs = job_runs(state)
        if not runs:
            raise RunFailed(f"cluster {cfg.name} has no run yet "
                            f"(fix: {ctx.command('wordcount', '--generate', '1GB')})")
        run_dir = runs[-1]
    summary = report_mod.render(run_dir)
    ctx.say(report_mod.summary_text(summary).rstrip())
    ctx.say(f"chart: {run_dir / report_mod.CHART_FILE}")
    return EXIT_OK
