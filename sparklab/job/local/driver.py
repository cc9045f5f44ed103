"""The driver process of ``wordcount --local``: ``python -m sparklab.job.local.driver --run-dir DIR ...``.

It starts local Spark (``local[*]``: every core, bound to 127.0.0.1), runs the same application as
on a cluster (:mod:`sparklab.job.wordcount_app`), merges the counts into ``counts.csv`` and writes
``result.json``. While it runs, ``driver-status.json`` tells the sampler the job's state and the
Spark UI address; on a failure the driver log holds the application's error line.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STATUS_FILE = "driver-status.json"
CLASS_ARCHIVE_LOG = "jvm-class-archive.log"
JVM_EXIT_SECONDS = 300  # writing a new class archive at exit takes 10-60 s
PARTS_DIR = "counts-parts"


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


def _write_status(path: Path, **data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


def driver_main(argv: Sequence[str] | None = None) -> int:
    """The job's driver process: local Spark, the application, then result.json and counts.csv."""
    parser = argparse.ArgumentParser(prog="python -m sparklab.job.local.driver")
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--input", action="append", default=[])
    parser.add_argument("--generate", default="")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    from sparklab.job import splitter as word_splitter
    from sparklab.job import tuning as spark_tuning
    from sparklab.job import wordcount_app as app

    run_dir = Path(args.run_dir)
    status = run_dir / STATUS_FILE
    _write_status(status, state="starting")
    memory_gib = max(1, min(4, int(_total_memory() * 0.4 / 1024**3)))
    conf = (SparkConf().setMaster("local[*]").setAppName(f"sparklab-wordcount-local-{run_dir.name}")
            .set("spark.driver.memory", f"{memory_gib}g")
            .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
            .set("spark.ui.showConsoleProgress", "false")
            .set("spark.sql.adaptive.enabled", "true"))
    # Short-job JVM options, the class archive and one shuffle partition per core (spark_tuning.py).
    archive = spark_tuning.class_archive()
    cds_log = run_dir / CLASS_ARCHIVE_LOG
    if archive is not None and not spark_tuning.option_safe(cds_log):
        archive = None
    archive_options = archive.java_options(cds_log) if archive is not None else ""
    generate = app.parse_size(args.generate) if args.generate else 0
    size = spark_tuning.known_input_bytes(list(args.input), generate)
    for key, value in spark_tuning.short_job_conf(os.cpu_count() or 1, archive_options, size).items():
        conf.set(key, value)
    try:  # the word splitter in the JVM (word_splitter.py); without a JDK, the regular expression
        conf.set("spark.jars", str(word_splitter.words_jar()))
    except word_splitter.BuildError as err:
        print(f"sparklab: {err}", file=sys.stderr, flush=True)
    app.warm_up_case_mapping(conf)  # starts the JVM with this configuration
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    jvm = getattr(spark.sparkContext._gateway, "proc", None)  # noqa: SLF001 - the JVM, to await its exit
    spark.sparkContext.setLogLevel("WARN")
    _write_status(status, state="running", spark_ui=spark.sparkContext.uiWebUrl or "")
    config = app.JobConfig(inputs=list(args.input), generate_bytes=generate, top=args.top,
                           output_dir=str(run_dir / PARTS_DIR))
    try:
        result = app.run(spark, config)
    except Exception as err:
        reason = f"{type(err).__name__}: {err}"[:2000]
        print(f"{app.ERROR_PREFIX} {json.dumps({'error': reason})}", flush=True)
        raise
    finally:
        spark.stop()
        if archive is not None and not archive.ready:
            _await_jvm(jvm)  # it writes the class archive as it exits
            archive.finish()
    rows = _merge_parts(run_dir / PARTS_DIR, run_dir / "counts.csv")
    result["output"] = {"kind": "file", "path": "counts.csv", "rows": rows}
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    (run_dir / "result.json").write_text(text, encoding="utf-8")
    print(app.result_line(result), flush=True)
    _write_status(status, state="completed")
    return 0


def _await_jvm(proc: Any) -> None:
    """Close the JVM's stdin (pyspark's gateway exits on it) and wait for it to end."""
    if proc is None:
        return
    with contextlib.suppress(OSError, ValueError):
        proc.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=JVM_EXIT_SECONDS)


def _total_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


if __name__ == "__main__":
    sys.exit(driver_main())
