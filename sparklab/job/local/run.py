"""``runner.py wordcount --local``: the WordCount application on local Spark, no account, no cluster.

The same application as on a cluster (:mod:`sparklab.job.wordcount_app`, the file the role ships)
runs in a child process on local Spark (pyspark in the virtualenv, installed there by the first
``--local`` run: :mod:`sparklab.job.local.spark`; ``local[*]``: every core),
while this process samples, every second with psutil, the machine (CPU cores busy, memory in use)
and the job's own processes: the Python driver, the JVM (driver and executor threads together in
local mode) and the Python workers that the JVM starts. The run folder is the one a cluster run
gets, under ``$SPARKLAB_HOME/local/runs/<run id>/``:

    result.json  counts.csv  metrics.csv  usage.png  summary.txt  job.json  driver.log

``metrics.csv`` rows mean here: node ``<hostname>`` is the machine; the roles ``python-driver``,
``jvm`` and ``python-workers`` stand where a cluster has ``driver`` and ``executor``; memory is
resident memory (shared pages count in every process that maps them).

Ctrl-C stops the job: the driver is asked to cancel (SIGINT), then the whole process tree (JVM and
Python workers included) is killed if it has not ended within ``STOP_GRACE_SECONDS``; the
partial run folder is rendered and its ``job.json`` and ``summary.txt`` say it was interrupted.

This module runs the whole thing in order and re-renders a run (``report --local``); the parts
are :mod:`sparklab.job.local.checks` (Java and the inputs, before anything starts),
:mod:`sparklab.job.local.procs` (the driver's command, environment and stopping its process tree),
:mod:`sparklab.job.local.sampler` (psutil, every second) and :mod:`sparklab.job.local.driver` (the child
process itself: Spark and the application).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparklab.core.contract import contract
from sparklab.core.errors import BadInput, RunFailed
from sparklab.job.local.checks import java_problem, local_inputs
from sparklab.job.local.driver import PARTS_DIR
from sparklab.job.local.procs import driver_command, driver_env
from sparklab.job.local.watch import watch_driver

LOCAL_DIR = contract().LOCAL_RUNS_DIR  # $SPARKLAB_HOME/<this>/runs/<id>; not a cluster name


# --------------------------------------------------------------------------- folders
def local_runs(home: Path) -> Path:
    """``$SPARKLAB_HOME/local/runs``: the local runs sit where a cluster's runs would."""
    from sparklab.core.state import ClusterState

    return ClusterState(LOCAL_DIR, home).runs


def list_runs(home: Path) -> list[Path]:
    from sparklab.job.runs import RUN_ID_PATTERN

    runs = local_runs(home)
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir() if p.is_dir() and RUN_ID_PATTERN.match(p.name))


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _driver_error(log: Path, tail: int = 25) -> tuple[str, list[str]]:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    lines = text.splitlines()
    return contract().read_driver_log(lines)["error"] or "the driver exited without a result", lines[-tail:]


@dataclass
class LocalRun:
    """Options of one local run."""

    inputs: list[str]
    generate: str = ""
    top: int = 20
    plain: bool = False
    home: Path | None = None


def run_local(options: LocalRun, say: Callable[[str], None], out: Any = None) -> int:
    """The whole local run; returns the exit code (0, 1, 130). Bad input raises BadInput first."""
    from sparklab.core.state import check_home, private_dir, sparklab_home
    from sparklab.job import report
    from sparklab.job import runs as jobs
    from sparklab.job import tuning as spark_tuning
    from sparklab.job.live import view as live
    from sparklab.job.local import spark as local_spark

    problem = java_problem()
    if problem:
        raise BadInput(problem)
    inputs = local_inputs(options.inputs, options.generate)
    local_spark.ensure_installed()  # the first --local run: pyspark into the virtualenv, said once
    home = options.home or sparklab_home()
    run_id = jobs.new_run_id()
    run_dir = jobs.run_dir(LOCAL_DIR, run_id, home)
    private_dir(local_runs(home), check_home(home))
    run_dir.mkdir(mode=0o700)
    sources = inputs + ([f"generate:{options.generate}"] if options.generate else [])
    cores = os.cpu_count() or 1
    say(f"wordcount run {run_id}: {', '.join(sources)}")
    say(f"local Spark with all {cores} cores (local[*]); run folder: {run_dir}")
    archive = spark_tuning.class_archive(driver_env())
    if archive is not None and not archive.ready:
        say(f"first local run with this Java and Spark: it also saves Spark's classes to {archive.path} "
            "(about 160 MB, 10-20 s once), so later runs start about 4 s sooner")
    submitted = time.time()
    view = live.make_live_view(f"sparklab wordcount --local {run_id}", out=out, force_plain=options.plain,
                               unit="process")
    watched = watch_driver(driver_command(run_dir, inputs, options.generate, options.top), driver_env(),
                           run_dir, view, lambda: (run_dir / "result.json").exists(), archive)
    state = watched.state
    ended = time.time()
    job = {"run_id": run_id, "app_name": f"local-{run_id}", "state": state, "mode": "local",
           "master": "local[*]", "cores": cores, "submitted_at": _utc(submitted),
           "terminated_at": _utc(ended),
           "spark_ui": watched.spark_ui, "sources": sources}
    if state == "INTERRUPTED":
        job["error_message"] = "interrupted (Ctrl-C): the files hold what was sampled until then"
    elif state == "FAILED":
        reason, tail = _driver_error(run_dir / "driver.log")
        job["error_message"] = reason
        say(f"wordcount --local failed: {reason}")
        say(f"last lines of the driver log ({run_dir / 'driver.log'}):")
        for line in tail:
            say(f"  {line}")
    (run_dir / "job.json").write_text(json.dumps(job, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(run_dir / PARTS_DIR, ignore_errors=True)
    summary = report.render(run_dir)
    say(report.summary_text(summary, top=min(options.top, 10)).rstrip())
    if (run_dir / "counts.csv").exists():
        say(f"full counts: {run_dir / 'counts.csv'}")
    say(f"chart: {run_dir / report.CHART_FILE}")
    say(f"again: python3 runner.py report --local --run {run_id}")
    if state == "INTERRUPTED":
        say(f"wordcount --local interrupted; partial results in {run_dir}")
        return 130
    return 0 if state == "COMPLETED" else 1


def report_local(run: str | None, say: Callable[[str], None], home: Path | None = None) -> int:
    """Re-render a local run (the latest, or ``run``) and print its summary."""
    from sparklab.core.state import sparklab_home
    from sparklab.job import report

    base = home or sparklab_home()
    if run:
        from sparklab.job.runs import RUN_ID_PATTERN

        if not RUN_ID_PATTERN.match(run) or "\n" in run:
            raise BadInput(f"--run {run!r}: not a WordCount run id like 20261127-093000-3fa2 "
                           f"(fix: omit it for the latest, or pick a folder name under {local_runs(base)})")
        run_dir = local_runs(base) / run
        if not run_dir.is_dir():
            raise BadInput(f"--run {run}: no such local run in {local_runs(base)} "
                           "(fix: omit --run for the latest)")
    else:
        runs = list_runs(base)
        if not runs:
            raise RunFailed("no local WordCount run yet "
                           "(fix: python3 runner.py wordcount --local --generate 200MB)")
        run_dir = runs[-1]
    summary = report.render(run_dir)
    say(report.summary_text(summary).rstrip())
    say(f"chart: {run_dir / report.CHART_FILE}")
    return 0
