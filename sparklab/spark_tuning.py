"""Spark and JVM settings for a short local WordCount (``--local`` and the benchmark).

Measured with Java Flight Recorder and ``time`` on ``spark-submit`` of a one-row job, 2 cores:
the JVM's start-up is mostly class loading and JIT compilation, 21.3 s of CPU with the defaults.
C1 only (``-XX:TieredStopAtLevel=1``: no C2 compiler threads for code that runs seconds) takes it
to 11.2 s; the serial collector (one core's worth of heap, no G1 worker threads) to 10.4 s.
"""

from __future__ import annotations

SHORT_JOB_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def short_job_conf(cores: int) -> dict[str, str]:
    """``--conf`` settings for a local job on ``cores`` cores (the JVM options apply at launch).

    The one shuffle carries counts already reduced on the map side, so one partition per core
    suits any input size measured (40 MB to 200 MB).
    """
    return {
        "spark.driver.extraJavaOptions": SHORT_JOB_JAVA_OPTIONS,
        "spark.sql.shuffle.partitions": str(max(1, cores)),
    }
