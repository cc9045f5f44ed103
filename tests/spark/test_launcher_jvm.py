"""spark-submit's launcher JVM with sparklab's options prints the same command as without them.

spark-class (``$SPARK_HOME/bin/spark-class`` of pyspark 4.0.3) runs ``java -Xmx128m
$SPARK_LAUNCHER_OPTS -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main ...`` and executes
the NUL-separated command that Main prints. Here the real Main of pyspark's jars runs both ways, with
the arguments a local WordCount passes, and the printed commands are compared byte for byte.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from sparklab.job import tuning as spark_tuning
from sparklab.job.local.procs import driver_env


def _launcher_command(spark_home: Path, options: str, env: dict[str, str]) -> bytes:
    java = spark_tuning.java_path(env) or "java"
    argv = [java, "-Xmx128m", *shlex.split(options), "-cp", f"{spark_home}/jars/*",
            "org.apache.spark.launcher.Main", "org.apache.spark.deploy.SparkSubmit",
            "--master", "local[*]", "--driver-memory", "2g", "--name", "sparklab-wordcount-app-local-test",
            "--conf", "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
            "pyspark-shell"]
    proc = subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return proc.stdout


def test_the_launcher_prints_the_same_command_with_its_own_jar_first():
    spark_home = spark_tuning.spark_folder()
    assert spark_home is not None, "pyspark is part of make test's locks"
    env = {**os.environ, "SPARK_HOME": str(spark_home), "SPARK_SCALA_VERSION": "2.13"}
    options = spark_tuning.launcher_options(env)
    assert "-Xbootclasspath/a:" in options
    assert driver_env()["SPARK_LAUNCHER_OPTS"].startswith(options)  # what a local run's spark-class gets
    plain = _launcher_command(spark_home, "", env)
    tuned = _launcher_command(spark_home, options, env)
    assert b"org.apache.spark.deploy.SparkSubmit" in plain and b"\0" in plain
    assert tuned == plain
