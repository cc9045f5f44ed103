"""``wordcount``: inputs -> presigned URLs, the wordcount playbook while the metrics API is sampled,
then the merged counts and the report.

Inputs become presigned URLs in :mod:`sparklab.job.runs`; :class:`sparklab.job.monitor.Sampler` samples
the metrics API during the run; :mod:`sparklab.job.report` renders the result. Everything lands in
``$SPARKLAB_HOME/<cluster>/runs/<run-id>/``, which is also the run's ansible-runner folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from sparklab.cluster import aws
from sparklab.cluster.aws import Target
from sparklab.commands.base import Context, resolve_credentials, run_playbooks, user_target
from sparklab.config.load import Config
from sparklab.core import lock
from sparklab.core.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, BadInput, RunFailed
from sparklab.core.state import ClusterState
from sparklab.job import report
from sparklab.job import runs as jobs
from sparklab.job.live import view as live


def aws_account(cfg: Config) -> str:
    return str(Target(cfg.region).client("sts").get_caller_identity()["Account"])


def spark_ui_url(ctx: Context, cfg: Config) -> str:
    """``http://<control plane public IP>:<cluster_spark_ui_node_port>/``; empty if unknown."""
    try:
        control_plane = aws.scan(cfg.name, user_target(cfg)).control_plane
    except Exception as exc:  # the job runs without it
        ctx.say(f"the Spark UI address is unknown: could not list the cluster's nodes ({type(exc).__name__})")
        return ""
    if control_plane is None or not control_plane.public_ip:
        return ""
    return f"http://{control_plane.public_ip}:{cfg.resolved['cluster_spark_ui_node_port']}/"


def note_spark_ui(run_dir: Path, url: str) -> None:
    """What the report notes: the Spark UI address, in ``run.json``."""
    (run_dir / "run.json").write_text(json.dumps({"spark_ui": url}, indent=2) + "\n", encoding="utf-8")


def local_wordcount(ctx: Context) -> int:
    from sparklab.job.local import run as local

    return local.run_local(local.LocalRun(list(ctx.args.input), ctx.args.generate or "", ctx.args.top,
                                          ctx.args.plain), ctx.say, ctx.out)


def splitter_jar(ctx: Context) -> str:
    """The word splitter's jar (built with the local JDK when missing); "" without a JDK, said once."""
    from sparklab.job import splitter as word_splitter

    try:
        return str(word_splitter.words_jar(say=ctx.say))
    except word_splitter.BuildError as err:
        ctx.say(f"{err} on the cluster too (the same counts, slower)")
        return ""


def wordcount(ctx: Context) -> int:
    if ctx.args.top < 1:
        raise BadInput(f"--top {ctx.args.top}: must be 1 or more (fix: --top 20)")
    if ctx.args.local:
        return local_wordcount(ctx)
    cfg = ctx.config()
    given = ctx.ansible_vars()  # -e off the allow-list is bad input, before the lock and any AWS call
    lock.hold(cfg.name, "wordcount", cfg.region)  # one run at a time per cluster, before any AWS call
    creds = resolve_credentials()
    state = ClusterState.for_cluster(cfg.name, cfg.region)
    if not state.kubeconfig.is_file():
        raise RunFailed(f"no kubeconfig at {state.kubeconfig} yet (fix: {ctx.command('up')})")
    # The word splitter's jar goes to the cluster with the application (-e cannot replace it).
    extra = {**given, "spark_wordcount_splitter_jar": splitter_jar(ctx)}
    run_id = jobs.new_run_id()
    run_dir = jobs.run_dir(cfg.name, run_id, state.home, cfg.region)
    state.ensure()
    state.runs.mkdir(mode=0o700, exist_ok=True)
    for stale in jobs.remove_stale_job_vars(state.runs):  # presigned URLs of a killed run
        ctx.say(f"removed {stale} (left by an earlier run that was killed)")
    run_dir.mkdir(mode=0o700)
    account = aws_account(cfg)
    bucket = jobs.bucket_name(cfg.name, account, cfg.region)
    s3 = jobs.make_s3_client(cfg.region)
    try:
        prepared = jobs.prepare_inputs(ctx.args.input, s3_client=s3, bucket=bucket, owner=account,
                                       run_id=run_id, generate=ctx.args.generate or "")
    except jobs.InputError as exc:
        raise BadInput(str(exc)) from None
    except jobs.ForeignBucketError as exc:
        raise RunFailed(str(exc)) from None
    ctx.say(f"wordcount run {run_id}: {', '.join(prepared.sources)}")
    # The live view shows the samples and the playbook's progress; its last state stays on screen,
    # and a failure's reason and driver-log tail are printed after it.
    view = live.make_live_view(f"sparklab wordcount {run_id}", out=ctx.out, force_plain=ctx.args.plain)
    watch = live.ClusterWatch(view, state.kubeconfig, str(cfg.resolved["cluster_spark_namespace"]),
                              jobs.app_name(run_id), run_dir / "metrics.csv",
                              spark_ui_url=spark_ui_url(ctx, cfg),
                              on_spark_ui=lambda url: note_spark_ui(run_dir, url))
    watch.start()
    terminal, ctx.out = ctx.out, live.NoteWriter(view)  # lines printed meanwhile go above the panel
    try:
        # The presigned URLs go in their own 0600 file, deleted when the run ends however it ends;
        # cluster-vars.json (kept for troubleshooting) holds no URL.
        with jobs.job_vars_file(run_dir, prepared, run_id, ctx.args.top) as job_vars_path:
            result = run_playbooks(ctx, cfg, "wordcount", creds, run_dir, cfg.extravars(**extra),
                                   vars_files=(job_vars_path,),
                                   progress=live.LiveProgress(view, verbose=ctx.args.verbose > 0))
    finally:
        stats = watch.stop()
        view.close()
        ctx.out = terminal
    ctx.say(f"sampled the metrics API {stats.samples} times ({len(stats.errors)} errors)")
    if result.canceled:
        ctx.say(f"wordcount interrupted; the cluster is unchanged. results so far: {run_dir}")
        return EXIT_INTERRUPTED
    if not result.ok:
        return EXIT_FAILED
    if prepared.output_keys:
        try:
            rows = jobs.collect_counts(s3, bucket, prepared.output_keys, run_dir / "counts.csv", account)
        except jobs.ForeignBucketError as exc:
            raise RunFailed(str(exc)) from None
        ctx.say(f"full counts: {run_dir / 'counts.csv'} ({rows} words)")
    summary = report.render(run_dir)
    ctx.say(report.summary_text(summary).rstrip())
    ctx.say(f"chart: {run_dir / report.CHART_FILE}")
    return EXIT_OK
