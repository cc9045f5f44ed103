"""``submit``: the user's PySpark application, checked, run (``--local`` or on the cluster), reported.

Every check of what the user typed (:mod:`sparklab.job.submission`) runs first: a bad value is one
line and exit 2, before any AWS call, and nothing is staged, uploaded or submitted. On a cluster the
``s3://`` inputs are read (HeadObject) before the first upload; then :mod:`sparklab.job.staging`
uploads the local inputs and makes the URLs, and the job runs through the same path as WordCount
(:mod:`sparklab.commands.cluster_job`, playbooks/submit.yml, roles/spark_wordcount). Afterwards the
output archive the launcher PUT is unpacked into the run folder's ``output/``.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path
from typing import Any

from sparklab.commands.base import Context
from sparklab.commands.cluster_job import ClusterRun, finish, open_run, run_watched
from sparklab.core.errors import EXIT_INTERRUPTED, EXIT_OK, BadInput, RunFailed
from sparklab.job import outputs, staging, submission
from sparklab.job import runs as jobs
from sparklab.job.local.submit import APP_RESULT_FILE


def submit(ctx: Context) -> int:
    sub = submission.parse(ctx.args)
    if sub.local:
        from sparklab.job.local.submit import run_submit_local

        return run_submit_local(sub, ctx.say, ctx.out, plain=ctx.args.plain)
    staging.check_shipped_size(sub)
    cfg = ctx.config()
    given = ctx.ansible_vars()  # -e off the allow-list is bad input, before the lock and any AWS call
    run = open_run(ctx, cfg, "submit")
    try:
        submission.check_s3_inputs(sub.inputs, run.s3)  # read-only, before any upload
        submission.check_url_inputs(sub.inputs)
        staged = staging.stage(sub, s3_client=run.s3, bucket=run.bucket, owner=run.account, run_id=run.run_id)
    except (BadInput, jobs.ForeignBucketError) as exc:
        shutil.rmtree(run.run_dir, ignore_errors=True)  # nothing was uploaded: no run to keep
        if isinstance(exc, BadInput):
            raise
        raise RunFailed(str(exc)) from None
    ctx.say(f"submit run {run.run_id}: {sub.name} {shlex.join(sub.app_args)}".rstrip())
    for source in staged.sources:
        ctx.say(f"input: {source}")
    result = run_watched(ctx, run, "submit", staging.job_vars(sub, staged, run.run_id), given)
    if result.canceled:
        ctx.say(f"submit interrupted; results so far: {run.run_dir}")
        return EXIT_INTERRUPTED
    app_result = read_app_result(run.run_dir)
    record(run.run_dir, sub, staged, app_result)
    collect_output(ctx, run, staged, app_result)
    if (run.run_dir / "job.json").exists():
        finish(ctx, run.run_dir)
    ctx.say(f"driver log: {run.run_dir / 'driver.log'}")
    if result.ok and app_result.get("exit_status") == 0:
        return EXIT_OK
    raise RunFailed(f"{sub.name} failed: {failure(run.run_dir, app_result)}")


def failure(run_dir: Path, app_result: dict[str, Any]) -> str:
    """The one line that says why: the application's error, else why its driver never started."""
    if app_result.get("error"):
        return str(app_result["error"])
    path = run_dir / "job.json"
    job = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    waiting = job.get("driver_not_started") or []
    if waiting:
        return f"the driver never started: {'; '.join(waiting)}"
    return str(job.get("error_message") or "the job did not finish (see the phase's failure above)")


def read_app_result(run_dir: Path) -> dict[str, Any]:
    """The launcher's result the role saved (``result.json``), or the error line of the driver log."""
    from sparklab.core.contract import module_utils

    path = run_dir / "result.json"
    found = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if isinstance(found, dict) and "exit_status" in found:
        return found
    log = run_dir / "driver.log"
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    error = module_utils("driver_log").read_driver_log(text.splitlines())["error"]
    return {"exit_status": None, "error": error or ""}


def record(run_dir: Path, sub: submission.Submission, staged: staging.StagedJob,
           app_result: dict[str, Any]) -> None:
    """``app-result.json`` and the submission (no URL) in ``job.json``, as a local run has them."""
    (run_dir / APP_RESULT_FILE).write_text(json.dumps(app_result, indent=2) + "\n", encoding="utf-8")
    path = run_dir / "job.json"
    if path.exists():
        job = json.loads(path.read_text(encoding="utf-8"))
        job.update({"app": sub.name, "submission": sub.describe(), "sources": staged.sources,
                    "exit_status": app_result.get("exit_status")})
        if app_result.get("error"):  # the application's own line says more than the operator's
            job["error_message"] = app_result["error"]
        path.write_text(json.dumps(job, indent=2) + "\n", encoding="utf-8")


def collect_output(ctx: Context, run: ClusterRun, staged: staging.StagedJob,
                   app_result: dict[str, Any]) -> None:
    """Unpack what the launcher uploaded into ``output/``, or say why there is nothing."""
    collected = app_result.get("collected") or {}
    if collected.get("note"):
        ctx.say(collected["note"])
    if not collected.get("uploaded"):
        if collected.get("files"):
            ctx.say(f"output: {collected['files']} file(s) under $SPARKLAB_OUTPUT were not brought back")
        return
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        count = outputs.collect(run.s3, run.bucket, staged.output_key, run.account, run.run_dir / "output")
    except (outputs.UnsafeOutputError, OSError, BotoCoreError, ClientError) as err:
        ctx.say(f"output not unpacked: {err}")
        return
    ctx.say(f"output: {run.run_dir / 'output'} ({count} file{'s' if count != 1 else ''})")
