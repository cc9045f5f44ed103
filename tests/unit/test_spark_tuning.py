"""The local job's JVM settings and its class-data-sharing archive (sparklab/job/tuning.py).

The archive's name follows the Java runtime and Spark's jars; a JVM writes a new one to a partial
file of its owner process, which is published only after a clean exit; stale archives and the
partial files of dead processes are swept. That a real JVM writes and then maps the archive is
tested in tests/spark/test_local_run.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sparklab.job import tuning as spark_tuning


@pytest.fixture
def fake_spark(tmp_path, monkeypatch):
    """A pyspark installation of two jars and a Java runtime, both under tmp_path."""
    spark_home = tmp_path / "pyspark"
    (spark_home / "jars").mkdir(parents=True)
    for name in ("spark-core.jar", "spark-sql.jar"):
        (spark_home / "jars" / name).write_bytes(b"jar " + name.encode())
    (spark_home / "__init__.py").write_text("")
    java_home = tmp_path / "jdk"
    (java_home / "bin").mkdir(parents=True)
    (java_home / "lib" / "server").mkdir(parents=True)
    (java_home / "bin" / "java").write_text("#!/bin/sh\n")
    (java_home / "bin" / "java").chmod(0o755)
    (java_home / "lib" / "server" / "libjvm.so").write_bytes(b"jvm 17")
    monkeypatch.setattr(spark_tuning, "spark_folder", lambda: spark_home)
    env = {"JAVA_HOME": str(java_home), "XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin"}
    return spark_home, java_home, env


def test_archive_lives_in_the_user_cache_and_its_name_follows_java_and_the_jars(fake_spark):
    spark_home, java_home, env = fake_spark
    first = spark_tuning.class_archive(env)
    assert first is not None and first.path.parent == Path(env["XDG_CACHE_HOME"]) / "sparklab"
    assert first.path.parent.stat().st_mode & 0o777 == 0o700
    first.path.parent.chmod(0o777)  # a folder left open by something else is refused, not repaired
    assert spark_tuning.class_archive(env) is None and first.path.parent.stat().st_mode & 0o777 == 0o777
    first.path.parent.chmod(0o700)
    assert spark_tuning.class_archive(env) == first
    assert first.path.name.startswith("spark-classes-") and first.path.suffix == ".jsa"
    assert spark_tuning.class_archive(env) == first  # stable while nothing changes
    (spark_home / "jars" / "spark-sql.jar").write_bytes(b"jar spark-sql, upgraded")
    upgraded_spark = spark_tuning.class_archive(env)
    assert upgraded_spark is not None and upgraded_spark != first
    (java_home / "lib" / "server" / "libjvm.so").write_bytes(b"jvm 17, a security update")
    upgraded_java = spark_tuning.class_archive(env)
    assert upgraded_java is not None and upgraded_java not in (first, upgraded_spark)


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no"])
def test_archive_can_be_turned_off(fake_spark, value):
    env = {**fake_spark[2], spark_tuning.CLASS_ARCHIVE_ENV: value}
    assert spark_tuning.class_archive(env) is None


def test_no_archive_without_java_or_with_a_cache_path_a_jvm_option_cannot_hold(fake_spark, tmp_path):
    env = fake_spark[2]
    no_java = {k: v for k, v in env.items() if k != "JAVA_HOME"} | {"PATH": str(tmp_path)}
    assert spark_tuning.class_archive(no_java) is None
    for bad in ("my cache", "c:cache", 'quo"te'):
        assert spark_tuning.class_archive({**env, "XDG_CACHE_HOME": str(tmp_path / bad)}) is None
    assert spark_tuning.option_safe(tmp_path / "plain-path_1.2")


def test_options_write_the_archive_first_then_map_it(fake_spark, tmp_path):
    archive = spark_tuning.class_archive(fake_spark[2])
    log = tmp_path / "run" / "jvm.log"
    writing = archive.java_options(log)
    partial = archive.path.with_name(f"{archive.path.stem}.{os.getpid()}.partial")
    assert writing.split()[0] == f"-XX:ArchiveClassesAtExit={partial}"
    assert "-Xlog:cds=off" in writing.split() and writing.endswith(f":file={log}")
    partial.write_bytes(b"archive")
    assert archive.finish() and archive.ready and not partial.exists()
    assert archive.java_options(log).split()[0] == f"-XX:SharedArchiveFile={archive.path}"
    conf = spark_tuning.short_job_conf(4, archive.java_options(log))
    short = spark_tuning.SHORT_JOB_JAVA_OPTIONS
    assert conf["spark.driver.extraJavaOptions"].startswith(short + " -XX:Shared")
    assert conf["spark.sql.shuffle.partitions"] == "4"
    assert spark_tuning.short_job_conf(0)["spark.driver.extraJavaOptions"] == short


def test_a_run_that_wrote_nothing_publishes_nothing(fake_spark):
    archive = spark_tuning.class_archive(fake_spark[2])
    archive.partial().write_bytes(b"")  # a JVM killed before it wrote anything
    assert not archive.finish() and not archive.ready and not archive.partial().exists()


def test_sweep_drops_other_versions_and_partials_of_dead_processes_only(fake_spark):
    archive = spark_tuning.class_archive(fake_spark[2])
    folder = archive.path.parent
    archive.path.write_bytes(b"current")
    old = folder / "spark-classes-0000000000000000.jsa"
    old.write_bytes(b"an older Spark")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_partial = folder / f"{archive.path.stem}.{dead.stdout.strip()}.partial"
    dead_partial.write_bytes(b"cut short")
    live_partial = folder / f"{archive.path.stem}.1.partial"  # pid 1 runs: another run is writing
    live_partial.write_bytes(b"being written")
    unrelated = folder / "notes.txt"
    unrelated.write_text("kept")
    archive.sweep()
    kept = sorted([archive.path.name, live_partial.name, "notes.txt"])
    assert sorted(p.name for p in folder.iterdir()) == kept


def test_large_known_inputs_keep_the_c2_compiler_small_or_unknown_ones_do_not():
    per_core = spark_tuning.C2_FROM_BYTES_PER_CORE
    options = "spark.driver.extraJavaOptions"
    assert spark_tuning.short_job_conf(2, "", 2 * per_core)[options] == spark_tuning.LONG_JOB_JAVA_OPTIONS
    assert "-XX:TieredStopAtLevel=1" not in spark_tuning.LONG_JOB_JAVA_OPTIONS
    for small in (None, 0, 2 * per_core - 1):
        assert spark_tuning.short_job_conf(2, "", small)[options] == spark_tuning.SHORT_JOB_JAVA_OPTIONS
    assert spark_tuning.short_job_conf(8, "", 2 * per_core)[options] == spark_tuning.SHORT_JOB_JAVA_OPTIONS


def test_known_input_bytes_counts_files_and_the_generated_corpus_not_urls(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"x" * 10)
    (tmp_path / "folder" / "deep").mkdir(parents=True)
    (tmp_path / "folder" / "b.txt").write_bytes(b"x" * 20)
    (tmp_path / "folder" / "deep" / "c.txt").write_bytes(b"x" * 30)
    # As local_inputs hands them over: a folder expanded into its files.
    inputs = [str(tmp_path / name) for name in ("a.txt", "folder/b.txt", "folder/deep/c.txt")]
    assert spark_tuning.known_input_bytes(inputs, 5) == 65
    assert spark_tuning.known_input_bytes([*inputs, "https://127.0.0.1/x.txt"]) is None
    assert spark_tuning.known_input_bytes([], 7) == 7


def test_a_planted_archive_is_not_mapped(fake_spark, tmp_path):
    archive = spark_tuning.class_archive(fake_spark[2])
    archive.path.write_bytes(b"a class archive sparklab did not write")
    assert not archive.ready  # the JVM writes a new one instead of mapping this
    assert archive.java_options(tmp_path / "jvm.log").split()[0].startswith("-XX:ArchiveClassesAtExit=")
    archive.partial().write_bytes(b"archive")
    assert archive.finish() and archive.ready
    archive.path.write_bytes(b"archive, changed after it was written")
    assert not archive.ready


def test_no_archive_in_a_cache_folder_others_can_write(fake_spark, tmp_path):
    folder = tmp_path / "cache" / "sparklab"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    assert spark_tuning.class_archive(fake_spark[2]) is None
    assert folder.stat().st_mode & 0o777 == 0o777  # not repaired: sparklab did not make it


def test_no_archive_without_pyspark_and_pyspark_is_found_without_importing_it(fake_spark, monkeypatch):
    import importlib.util

    monkeypatch.undo()  # the real spark_folder again
    found = spark_tuning.spark_folder()
    assert found is not None and (found / "jars").is_dir()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else real(name, *a))
    assert spark_tuning.spark_folder() is None
    assert spark_tuning.class_archive(fake_spark[2]) is None


def test_the_launcher_jvm_finds_its_own_jar_first_only_in_pyspark_own_spark(fake_spark, tmp_path):
    spark_home, _java_home, env = fake_spark
    assert spark_tuning.launcher_options(env) == ""  # no launcher jar: nothing to name
    jar = spark_home / "jars" / "spark-launcher_2.13-4.0.3.jar"
    jar.write_bytes(b"jar spark-launcher")
    options = spark_tuning.launcher_options(env)
    assert options.split() == [*spark_tuning.SHORT_JOB_JAVA_OPTIONS.split(), f"-Xbootclasspath/a:{jar}"]
    assert spark_tuning.launcher_options({**env, "SPARK_HOME": str(spark_home)}) == options
    other = tmp_path / "spark-3.5"
    other.mkdir()
    # pyspark runs that Spark's spark-submit: its launcher must come from its own jars.
    assert spark_tuning.launcher_options({**env, "SPARK_HOME": str(other)}) == ""
    (spark_home / "jars" / "spark-launcher_2.12-3.5.0.jar").write_bytes(b"jar spark-launcher, older")
    assert spark_tuning.launcher_options(env) == ""  # which one spark-class would pick is unclear


def test_no_launcher_options_when_the_jar_path_cannot_be_an_option(tmp_path, monkeypatch):
    spark_home = tmp_path / "site packages" / "pyspark"
    (spark_home / "jars").mkdir(parents=True)
    (spark_home / "jars" / "spark-launcher_2.13-4.0.3.jar").write_bytes(b"jar")
    monkeypatch.setattr(spark_tuning, "spark_folder", lambda: spark_home)
    assert spark_tuning.launcher_options({}) == ""  # spark-class splits the variable on white space


def test_the_local_driver_gets_the_launcher_options_and_keeps_the_users_last(monkeypatch):
    from sparklab.job.local import procs

    ours = "-XX:TieredStopAtLevel=1 -Xbootclasspath/a:/j"
    monkeypatch.setattr(spark_tuning, "launcher_options", lambda env=None: ours)
    monkeypatch.setenv("SPARK_LAUNCHER_OPTS", "-Xmx256m")
    assert procs.driver_env()["SPARK_LAUNCHER_OPTS"] == f"{ours} -Xmx256m"
    monkeypatch.setattr(spark_tuning, "launcher_options", lambda env=None: "")
    monkeypatch.delenv("SPARK_LAUNCHER_OPTS")
    assert "SPARK_LAUNCHER_OPTS" not in procs.driver_env()
