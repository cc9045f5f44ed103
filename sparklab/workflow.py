"""The ``wordcount`` and ``report`` verbs: glue between runner.py and the job modules.

``wordcount``: inputs -> presigned URLs (:mod:`sparklab.jobs`), the wordcount playbook through
ansible-runner while :class:`sparklab.monitor.Sampler` samples the metrics API, then the merged
counts and the report (:mod:`sparklab.report`). Everything lands in
``$SPARKLAB_HOME/<cluster>/runs/<run-id>/``, which is also the run's ansible-runner folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sparklab import bridge, credentials
from sparklab.config import BadInput, Config
from sparklab.state import ClusterState

if TYPE_CHECKING:  # pragma: no cover
    from sparklab.cli import Context


def wordcount(ctx: Context, cfg: Config, creds: Any) -> int:
    from sparklab import jobs, monitor, report
    from sparklab.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Interrupts, RunFailed, _run

    state = ClusterState.for_cluster(cfg.name)
    if not state.kubeconfig.is_file():
        raise RunFailed(f"no kubeconfig at {state.kubeconfig} (fix: {ctx.command('up')})")
    extra = ctx.ansible_vars()
    run_id = jobs.new_run_id()
    run_dir = jobs.run_dir(cfg.name, run_id, state.home)
    state.ensure()
    state.runs.mkdir(mode=0o700, exist_ok=True)
    run_dir.mkdir(mode=0o700)
    account = aws_account(cfg)
    bucket = jobs.bucket_name(cfg.name, account, cfg.region)
    s3 = jobs.make_s3_client(cfg.region)
    try:
        prepared = jobs.prepare_inputs(ctx.args.input, s3_client=s3, bucket=bucket, run_id=run_id,
                                       generate=ctx.args.generate or "")
    except jobs.InputError as exc:
        raise BadInput(str(exc)) from None
    ctx.say(f"wordcount run {run_id}: {', '.join(prepared.sources)}")
    sampler = monitor.Sampler(state.kubeconfig, str(cfg.resolved["cluster_spark_namespace"]),
                              jobs.app_name(run_id), output=run_dir / "metrics.csv")
    sampler.start()
    try:
        # The presigned URLs go in their own 0600 file, deleted when the run ends however it ends;
        # cluster-vars.json (kept for troubleshooting) holds no URL.
        with Interrupts(ctx.say) as interrupts, credentials.CredentialEndpoint(creds) as endpoint, \
                jobs.job_vars_file(run_dir, prepared, run_id, ctx.args.top) as job_vars_path:
            env = {"AWS_REGION": cfg.region, "AWS_DEFAULT_REGION": cfg.region,
                   "SPARKLAB_CLUSTER_NAME": cfg.name} | endpoint.child_env()
            result = _run(ctx, cfg, "wordcount", bridge.PHASES["wordcount"], env,
                          cfg.extravars(**extra), interrupts, run_dir, vars_files=(job_vars_path,))
    finally:
        stats = sampler.stop()
    ctx.say(f"sampled the metrics API {stats.samples} times ({len(stats.errors)} errors)")
    if result.canceled:
        ctx.say(f"wordcount interrupted; the cluster is unchanged. results so far: {run_dir}")
        return EXIT_INTERRUPTED
    if not result.ok:
        from sparklab.cli import _report_failure

        _report_failure(ctx, result)
        return EXIT_FAILED
    if prepared.output_keys:
        rows = jobs.collect_counts(s3, bucket, prepared.output_keys, run_dir / "counts.csv")
        ctx.say(f"full counts: {run_dir / 'counts.csv'} ({rows} words)")
    summary = report.render(run_dir)
    ctx.say(report.summary_text(summary).rstrip())
    ctx.say(f"chart: {run_dir / report.CHART_FILE}")
    return EXIT_OK


def aws_account(cfg: Config) -> str:
    from sparklab.aws import Target

    return str(Target(cfg.region).client("sts").get_caller_identity()["Account"])


def job_runs(state: ClusterState) -> list[Path]:
    """WordCount run folders of a cluster, oldest first."""
    from sparklab.jobs import RUN_ID_PATTERN

    if not state.runs.is_dir():
        return []
    return sorted(p for p in state.runs.iterdir() if p.is_dir() and RUN_ID_PATTERN.match(p.name))


def report(ctx: Context, cfg: Config) -> int:
    from sparklab import report as report_mod
    from sparklab.cli import EXIT_OK, RunFailed

    state = ClusterState.for_cluster(cfg.name)
    if ctx.args.run:
        run_dir = state.runs / os.path.basename(ctx.args.run)
        if not run_dir.is_dir():
            raise BadInput(f"{ctx.args.run}: no such run of cluster {cfg.name} (fix: omit it for the latest)")
    else:
        runs = job_runs(state)
        if not runs:
            raise RunFailed(f"cluster {cfg.name} has no WordCount run yet "
                            f"(fix: {ctx.command('wordcount', '--generate', '1GB')})")
        run_dir = runs[-1]
    summary = report_mod.render(run_dir)
    ctx.say(report_mod.summary_text(summary).rstrip())
    ctx.say(f"chart: {run_dir / report_mod.CHART_FILE}")
    return EXIT_OK
