"""``wordcount``: inputs -> presigned URLs, the wordcount playbook while the metrics API is sampled,
then the merged counts and the report (the cluster job path is :mod:`sparklab.commands.cluster_job`,
shared with ``submit``).

Inputs become presigned URLs in :mod:`sparklab.job.runs`; :class:`sparklab.job.monitor.Sampler` samples
the metrics API during the run; :mod:`sparklab.job.report` renders the result. Everything lands in
``$SPARKLAB_HOME/<cluster>/runs/<run-id>/``, which is also the run's ansible-runner folder.
"""

from __future__ import annotations

from sparklab.commands.base import Context
from sparklab.commands.cluster_job import finish, open_run, run_watched
from sparklab.core.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, BadInput, RunFailed
from sparklab.job import runs as jobs


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
    run = open_run(ctx, cfg, "wordcount")
    # The word splitter's jar goes to the cluster with the application (-e cannot replace it).
    extra = {**given, "spark_wordcount_splitter_jar": splitter_jar(ctx)}
    try:
        prepared = jobs.prepare_inputs(ctx.args.input, s3_client=run.s3, bucket=run.bucket, owner=run.account,
                                       run_id=run.run_id, generate=ctx.args.generate or "")
    except jobs.InputError as exc:
        raise BadInput(str(exc)) from None
    except jobs.ForeignBucketError as exc:
        raise RunFailed(str(exc)) from None
    ctx.say(f"wordcount run {run.run_id}: {', '.join(prepared.sources)}")
    result = run_watched(ctx, run, "wordcount", prepared.job_vars(run.run_id, ctx.args.top), extra)
    if result.canceled:
        ctx.say(f"wordcount interrupted; the cluster is unchanged. results so far: {run.run_dir}")
        return EXIT_INTERRUPTED
    if not result.ok:
        return EXIT_FAILED
    if prepared.output_keys:
        try:
            rows = jobs.collect_counts(run.s3, run.bucket, prepared.output_keys, run.run_dir / "counts.csv",
                                       run.account)
        except jobs.ForeignBucketError as exc:
            raise RunFailed(str(exc)) from None
        ctx.say(f"full counts: {run.run_dir / 'counts.csv'} ({rows} words)")
    finish(ctx, run.run_dir)
    return EXIT_OK
