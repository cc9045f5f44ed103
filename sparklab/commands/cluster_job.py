"""The one cluster job path of ``wordcount`` and ``submit``: open a run, run its playbook watched, report.

:func:`open_run` holds the cluster's lock, resolves the credentials, checks the kubeconfig and makes
the run folder and the S3 client of the cluster's bucket, all before the verb stages anything.
:func:`run_watched` runs the verb's playbook (one role for both: roles/spark_wordcount) with the
run's presigned URLs in a 0600 vars file that is deleted however the run ends, while
:class:`sparklab.job.live.view.ClusterWatch` samples the metrics API into ``metrics.csv`` and shows
the pods; :func:`finish` renders the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparklab.cluster import aws
from sparklab.cluster.aws import Target
from sparklab.cluster.bridge import RunResult
from sparklab.commands.base import Context, resolve_credentials, run_playbooks, user_target
from sparklab.config.load import Config
from sparklab.core import lock
from sparklab.core.errors import RunFailed
from sparklab.core.state import ClusterState
from sparklab.job import report
from sparklab.job import runs as jobs
from sparklab.job.live import view as live


@dataclass
class ClusterRun:
    """One run of a job on the cluster, before anything was staged."""

    cfg: Config
    creds: Any
    state: ClusterState
    run_id: str
    run_dir: Path
    account: str
    bucket: str
    s3: Any


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


def open_run(ctx: Context, cfg: Config, verb: str) -> ClusterRun:
    """Lock, credentials, kubeconfig, run id and folder, account and bucket (nothing staged yet)."""
    lock.hold(cfg.name, verb, cfg.region)  # one run at a time per cluster, before any AWS call
    creds = resolve_credentials()
    state = ClusterState.for_cluster(cfg.name, cfg.region)
    if not state.kubeconfig.is_file():
        raise RunFailed(f"no kubeconfig at {state.kubeconfig} yet (fix: {ctx.command('up')})")
    run_id = jobs.new_run_id()
    run_dir = jobs.run_dir(cfg.name, run_id, state.home, cfg.region)
    state.ensure()
    state.runs.mkdir(mode=0o700, exist_ok=True)
    for stale in jobs.remove_stale_job_vars(state.runs):  # presigned URLs of a killed run
        ctx.say(f"removed {stale} (left by an earlier run that was killed)")
    run_dir.mkdir(mode=0o700)
    account = aws_account(cfg)
    return ClusterRun(cfg, creds, state, run_id, run_dir, account,
                      jobs.bucket_name(cfg.name, account, cfg.region), jobs.make_s3_client(cfg.region))


def run_watched(ctx: Context, run: ClusterRun, verb: str, job_vars: dict[str, Any],
                extra: dict[str, Any]) -> RunResult:
    """The verb's playbook with ``job_vars`` (URLs) in a private file, sampled and shown live."""
    cfg, run_dir = run.cfg, run.run_dir
    # The live view shows the samples and the playbook's progress; its last state stays on screen,
    # and a failure's reason and driver-log tail are printed after it.
    view = live.make_live_view(f"sparklab {verb} {run.run_id}", out=ctx.out, force_plain=ctx.args.plain)
    watch = live.ClusterWatch(view, run.state.kubeconfig, str(cfg.resolved["cluster_spark_namespace"]),
                              jobs.app_name(run.run_id), run_dir / "metrics.csv",
                              spark_ui_url=spark_ui_url(ctx, cfg),
                              on_spark_ui=lambda url: note_spark_ui(run_dir, url))
    watch.start()
    terminal, ctx.out = ctx.out, live.NoteWriter(view)  # lines printed meanwhile go above the panel
    try:
        # cluster-vars.json (kept for troubleshooting) holds no URL; job-vars.json goes at the end.
        with jobs.job_vars_file(run_dir, job_vars) as job_vars_path:
            result = run_playbooks(ctx, cfg, verb, run.creds, run_dir, cfg.extravars(**extra),
                                   vars_files=(job_vars_path,),
                                   progress=live.LiveProgress(view, verbose=ctx.args.verbose > 0))
    finally:
        stats = watch.stop()
        view.close()
        ctx.out = terminal
    ctx.say(f"sampled the metrics API {stats.samples} times ({len(stats.errors)} errors)")
    return result


def finish(ctx: Context, run_dir: Path) -> report.Summary:
    """Render the report of the run and print its summary and chart."""
    summary = report.render(run_dir)
    ctx.say(report.summary_text(summary).rstrip())
    ctx.say(f"chart: {run_dir / report.CHART_FILE}")
    return summary
