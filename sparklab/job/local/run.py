"""``runner.py wordcount --local``: the WordCount application on local Spark, no account, no cluster.

The same application as on a cluster (:mod:`sparklab.job.wordcount_app`, the file the role ships)
is submitted as any application is (:func:`sparklab.job.local.submit.launch`: the launcher runs it,
with WordCount's short-job Spark settings, the word splitter's jar and its own arguments) and runs
in a child process on local Spark (pyspark in the virtualenv, installed there by the first
``--local`` run: :mod:`sparklab.job.local.spark`; ``local[*]``: every core),
while this process samples, every second with psutil, the machine (CPU cores busy, memory in use)
and the job's own processes: the Python driver, the JVM (driver and executor threads together in
local mode) and the Python workers that the JVM starts. The run folder is the one a cluster run
gets, under ``$SPARKLAB_HOME/local/runs/<run id>/``:

    result.json  counts.csv  metrics.csv  usage.png  summary.txt  job.json  driver.log  app-result.json

``metrics.csv`` rows mean here: node ``<hostname>`` is the machine; the roles ``python-driver``,
``jvm`` and ``python-workers`` stand where a cluster has ``driver`` and ``executor``; memory is
resident memory (shared pages count in every process that maps them).

Ctrl-C stops the job: the driver is asked to cancel (SIGINT), then the whole process tree (JVM and
Python workers included) is killed if it has not ended within ``STOP_GRACE_SECONDS``; the
partial run folder is rendered and its ``job.json`` and ``summary.txt`` say it was interrupted.

This module runs the whole thing in order and re-renders a run (``report --local``); the parts
are :mod:`sparklab.job.local.checks` (Java and the inputs, before anything starts),
:mod:`sparklab.job.local.procs` (the driver's environment and stopping its process tree),
:mod:`sparklab.job.local.sampler` (psutil, every second), :mod:`sparklab.job.local.watch` (the
child process watched) and :mod:`sparklab.job.local.submit` (the submission they all go through).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparklab.core.contract import module_utils
from sparklab.core.errors import BadInput, RunFailed
from sparklab.job.local.checks import java_problem, local_inputs
from sparklab.job.local.submit import LOCAL_DIR as LOCAL_DIR
from sparklab.job.local.submit import launch, local_runs, new_run, write_job
from sparklab.job.submission import Submission

driver_log = module_utils("driver_log")

CLASS_ARCHIVE_LOG = "jvm-class-archive.log"
PARTS_DIR = "counts-parts"
WORDCOUNT_APP = Path(__file__).resolve().parents[1] / "wordcount_app.py"


def list_runs(home: Path) -> list[Path]:
    from sparklab.job.runs import RUN_ID_PATTERN

    runs = local_runs(home)
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir() if p.is_dir() and RUN_ID_PATTERN.match(p.name))


def _driver_error(log: Path, tail: int = 25) -> tuple[str, list[str]]:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    lines = text.splitlines()
    return driver_log.read_driver_log(lines)["error"] or "the driver exited without a result", lines[-tail:]


@dataclass
class LocalRun:
    """Options of one local run."""

    inputs: list[str]
    generate: str = ""
    top: int = 20
    plain: bool = False
    home: Path | None = None


def _merge_parts(parts: Path, dest: Path) -> int:
    rows: list[tuple[str, int]] = []
    for part in sorted(parts.glob("part-*.csv")):
        with part.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            rows.extend((word, int(count)) for word, count in reader)
    rows.sort(key=lambda item: (-item[1], item[0]))
    with dest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["word", "count"])
        writer.writerows(rows)
    return len(rows)


def wordcount_submission(options: LocalRun, inputs: list[str], run_dir: Path,
                         archive: Any, archive_ready: bool | None = None) -> tuple[Submission, str]:
    """WordCount as a submission of the bundled application, with its short-job Spark settings
    (:mod:`sparklab.job.tuning`), the word splitter's jar, and its own argument conventions; and
    the line the driver log starts with when the jar cannot be built."""
    from sparklab.job import splitter as word_splitter
    from sparklab.job import tuning as spark_tuning
    from sparklab.job.wordcount_app import parse_size

    options_of_archive = (archive.java_options(run_dir / CLASS_ARCHIVE_LOG, archive_ready)
                          if archive is not None else "")
    generate = parse_size(options.generate) if options.generate else 0
    size = spark_tuning.known_input_bytes(list(inputs), generate)
    conf = {"spark.sql.adaptive.enabled": "true",
            **spark_tuning.short_job_conf(os.cpu_count() or 1, options_of_archive, size)}
    note = ""
    try:  # the word splitter in the JVM (splitter.py); without a JDK, the regular expression
        conf["spark.jars"] = str(word_splitter.words_jar())
    except word_splitter.BuildError as err:
        note = f"sparklab: {err}\n"
    args = [arg for spec in inputs for arg in ("--input", spec)]
    args += ["--generate", options.generate] if options.generate else []
    args += ["--top", str(options.top), "--output-dir", str(run_dir / "output" / PARTS_DIR)]
    return Submission(app=WORDCOUNT_APP, app_args=args, conf=conf, local=True), note


def run_local(options: LocalRun, say: Callable[[str], None], out: Any = None) -> int:
    """The whole local run; returns the exit code (0, 1, 130). Bad input raises BadInput first."""
    from sparklab.core.state import sparklab_home
    from sparklab.job import report
    from sparklab.job import tuning as spark_tuning
    from sparklab.job.live import view as live
    from sparklab.job.local import spark as local_spark
    from sparklab.job.local.procs import driver_env

    problem = java_problem()
    if problem:
        raise BadInput(problem)
    inputs = local_inputs(options.inputs, options.generate)
    local_spark.ensure_installed()  # the first --local run: pyspark into the virtualenv, said once
    run_id, run_dir = new_run(options.home or sparklab_home())
    sources = inputs + ([f"generate:{options.generate}"] if options.generate else [])
    say(f"wordcount run {run_id}: {', '.join(sources)}")
    say(f"local Spark with all {os.cpu_count() or 1} cores (local[*]); run folder: {run_dir}")
    archive = spark_tuning.class_archive(driver_env())
    if archive is not None and not spark_tuning.option_safe(run_dir / CLASS_ARCHIVE_LOG):
        archive = None
    ready = archive is not None and archive.ready  # read once: it hashes the whole archive
    if archive is not None and not ready:
        say(f"first local run with this Java and Spark: it also saves Spark's classes to {archive.path} "
            "(about 160 MB, 10-20 s once), so later runs start about 4 s sooner")
    sub, note = wordcount_submission(options, inputs, run_dir, archive, ready)
    view = live.make_live_view(f"sparklab wordcount --local {run_id}", out=out, force_plain=options.plain,
                               unit="process")
    launched = launch(sub, run_dir, view, archive, note)
    state = launched.watched.state
    if state == "COMPLETED":
        rows = _merge_parts(run_dir / "output" / PARTS_DIR, run_dir / "counts.csv")
        result = {k: v for k, v in launched.result.items() if k not in ("app", "collected", "error")}
        result["output"] = {"kind": "file", "path": "counts.csv", "rows": rows}
        text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        (run_dir / "result.json").write_text(text, encoding="utf-8")
    shutil.rmtree(run_dir / "output" / PARTS_DIR, ignore_errors=True)
    job = write_job(run_dir, run_id, launched, sources, {})
    if state == "FAILED":
        _, tail = _driver_error(run_dir / "driver.log")
        say(f"wordcount --local failed: {job['error_message']}")
        say(f"last lines of the driver log ({run_dir / 'driver.log'}):")
        for line in tail:
            say(f"  {line}")
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
            raise BadInput(f"--run {run!r}: not a run id like 20261127-093000-3fa2 "
                           f"(fix: omit it for the latest, or pick a folder name under {local_runs(base)})")
        run_dir = local_runs(base) / run
        if not run_dir.is_dir():
            raise BadInput(f"--run {run}: no such local run in {local_runs(base)} "
                           "(fix: omit --run for the latest)")
    else:
        runs = list_runs(base)
        if not runs:
            raise RunFailed("no local run yet "
                           "(fix: python3 runner.py wordcount --local --generate 200MB)")
        run_dir = runs[-1]
    summary = report.render(run_dir)
    say(report.summary_text(summary).rstrip())
    say(f"chart: {run_dir / report.CHART_FILE}")
    return 0
