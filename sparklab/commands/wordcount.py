"""``wordcount``: inputs -> presigned URLs, the wordcount playbook while the metrics API is sampled,
then the merged counts and the report.

Inputs become presigned URLs in :mod:`sparklab.jobs`; :class:`sparklab.monitor.Sampler` samples
the metrics API during the run; :mod:`sparklab.report` renders the result. Everything lands in
``$SPARKLAB_HOME/<cluster>/runs/<run-id>/``, which is also the run's ansible-runner folder.
"""

from __future__ import annotations

from sparklab import jobs, lock, monitor, report
from sparklab.aws import Target
from sparklab.commands.base import Context, resolve_credentials, run_playbooks
from sparklab.config import Config
from sparklab.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, BadInput, RunFailed
from sparklab.state import ClusterState


def aws_account(cfg: Config) -> str:
    return str(Target(cfg.region).client("sts").get_caller_identity()["Account"])


def wordcount(ctx: Context) -> int:
    cfg = ctx.config()
    lock.hold(cfg.name, "wordcount")  # one run at a time per cluster, before any AWS call
    creds = resolve_credentials()
    state = ClusterState.for_cluster(cfg.name)
    if not state.kubeconfig.is_file():
        raise RunFailed(f"no kubeconfig at {state.kubeconfig} (fix: {ctx.command('up')})")
    extra = ctx.ansible_vars()
    run_id = jobs.new_run_id()
    run_dir = jobs.run_dir(cfg.name, run_id, state.home)
    state.ensure()
    state.runs.mkdir(mode=0o700, exist_ok=True)
    for stale in jobs.remove_stale_job_vars(state.runs):  # presigned URLs of a killed run
        ctx.say(f"removed {stale} (left by an earlier run that was killed)")
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
        with jobs.job_vars_file(run_dir, prepared, run_id, ctx.args.top) as job_vars_path:
            result = run_playbooks(ctx, cfg, "wordcount", creds, run_dir, cfg.extravars(**extra),
                                   vars_files=(job_vars_path,))
    finally:
        stats = sampler.stop()
    ctx.say(f"sampled the metrics API {stats.samples} times ({len(stats.errors)} errors)")
    if result.canceled:
        ctx.say(f"wordcount interrupted; the cluster is unchanged. results so far: {run_dir}")
        return EXIT_INTERRUPTED
    if not result.ok:
        return EXIT_FAILED
    if prepared.output_keys:
        rows = jobs.collect_counts(s3, bucket, prepared.output_keys, run_dir / "counts.csv")
        ctx.say(f"full counts: {run_dir / 'counts.csv'} ({rows} words)")
    summary = report.render(run_dir)
    ctx.say(report.summary_text(summary).rstrip())
    ctx.say(f"chart: {run_dir / report.CHART_FILE}")
    return EXIT_OK
