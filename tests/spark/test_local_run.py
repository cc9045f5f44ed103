"""``runner.py wordcount --local`` for real: local pyspark, psutil sampling, the run folder, Ctrl-C.

Each test runs runner.py as a user would (a subprocess of the virtualenv's Python) with its own
``SPARKLAB_HOME``; inputs are a local file and a URL served on 127.0.0.1.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import independent_reference
import numpy as np
import psutil
import pytest
from wordcount_corpus import HANDWRITTEN, REPO

from sparklab.job import splitter as word_splitter

pytestmark = pytest.mark.slow

RUNNER = REPO / "runner.py"


def runner_env(home: Path, **extra: str) -> dict[str, str]:
    """The user's environment with this test's state root and its own cache folder (class archive)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SPARKLAB_"))}
    env.update(SPARKLAB_HOME=str(home), XDG_CACHE_HOME=str(home.parent / "cache"), **extra)
    return env


def run_runner(args: list[str], env: dict[str, str],
               timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUNNER), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def processes_of(run_id: str) -> list[psutil.Process]:
    """Processes whose command line names the run (the driver, and the JVM through its app name)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if run_id in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def only_run(home: Path) -> Path:
    (run_dir,) = (home / "local" / "runs").iterdir()
    return run_dir


def test_local_run_writes_the_run_folder_and_counts_equal_the_independent_reference(tmp_path, file_server):
    home = tmp_path / "home"
    corpus = tmp_path / "corpus.txt"
    first = HANDWRITTEN * 40
    corpus.write_text(first, encoding="utf-8")
    second = "".join(f"Line {i} of the SECOND file, it's here\r\n" for i in range(3000))
    file_server.files["second.txt"] = second.encode()
    url = f"http://127.0.0.1:{file_server.server_port}/second.txt"

    args = ["wordcount", "--local", "--input", str(corpus), "--input", url, "--top", "5", "--plain"]
    proc = run_runner(args, runner_env(home))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = only_run(home)
    assert {"result.json", "counts.csv", "metrics.csv", "usage.png", "summary.txt", "job.json",
            "driver.log"} <= {p.name for p in run_dir.iterdir()}

    # The counts, against a counter written without the application's code.
    reference = independent_reference.counts([first, second])
    with (run_dir / "counts.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["word", "count"]
    assert {word: int(count) for word, count in rows[1:]} == dict(reference)
    assert [int(count) for _, count in rows[1:]] == sorted((int(c) for _, c in rows[1:]), reverse=True)
    result = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    assert [tuple(item) for item in result["top"]] == [(w, int(c)) for w, c in rows[1:6]]
    assert result["words"] == sum(reference.values()) and result["distinct_words"] == len(reference)
    assert result["bytes"] == len(first.encode()) + len(second.encode())

    # The samples: the machine against its capacity, and the job's own processes by role.
    with (run_dir / "metrics.csv").open(encoding="utf-8", newline="") as handle:
        samples = list(csv.DictReader(handle))
    roles = {row["role"] for row in samples if row["kind"] == "pod"}
    assert {"python-driver", "jvm"} <= roles
    jvm = [row for row in samples if row["role"] == "jvm"]
    assert max(int(row["memory_bytes"]) for row in jvm) > 100 * 2**20  # a JVM holds > 100 MiB
    assert max(float(row["cpu_cores"]) for row in jvm) > 0
    times = sorted({float(row["time"]) for row in samples})
    gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False))
    assert len(times) >= 3 and gaps[0] > 0.4 and 0.9 < gaps[len(gaps) // 2] < 1.5  # every second
    job = json.loads((run_dir / "job.json").read_text())
    assert job["state"] == "COMPLETED" and job["mode"] == "local" and job["run_id"] == run_dir.name

    # What the user saw: one plain line per sample, then the summary.
    lines = proc.stdout.splitlines()
    sample_lines = [line for line in lines if line.startswith("[") and " | " in line]
    assert len(sample_lines) == len(times)
    assert any("jvm (1 process) cpu" in line for line in sample_lines)
    assert sample_lines[-1].split("] ", 1)[1].startswith("completed")
    summary = (run_dir / "summary.txt").read_text()
    assert "state COMPLETED" in summary and "on this machine (local Spark)" in summary and "jvm" in summary
    assert f"top words: {rows[1][0]} " in summary
    from PIL import Image

    with Image.open(run_dir / "usage.png") as image:
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.var() > 100 and (pixels < 128).sum() > 5000
    assert processes_of(run_dir.name) == []

    # `report --local` draws it again from the saved data alone.
    (run_dir / "usage.png").unlink()
    again = run_runner(["report", "--local"], runner_env(home), timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert (run_dir / "usage.png").stat().st_size > 10_000
    assert (run_dir / "summary.txt").read_text() == summary
    assert summary.splitlines()[0] in again.stdout

    # The first run on this Java and Spark saved the JVM's classes (said so, once); the JVM's notes
    # about it went to their own file, not into the driver log.
    # The word splitter's jar was built into the same cache folder and split the words.
    cache = home.parent / "cache" / "sparklab"
    (archive,) = cache.glob("spark-classes-*.jsa")
    (jar,) = cache.glob("sparklab-words-*.jar")
    assert archive.stat().st_size > 20 * 2**20 and jar.stat().st_size > 500
    # Each with the sha256 recorded when it was made, checked before the next run uses it.
    sidecars = [archive.with_name(archive.name + ".sha256"), jar.with_name(jar.name + ".sha256")]
    assert sorted(cache.glob("*.sha256")) == sorted(sidecars)
    assert result["word_splitter"] == "jvm"
    assert "first local run with this Java and Spark" in proc.stdout
    assert "Written dynamic archive" in (run_dir / "jvm-class-archive.log").read_text()
    assert "][cds" not in (run_dir / "driver.log").read_text()  # unified JVM log lines: [..][warning][cds..]

    # The next run maps that archive and counts the same.
    second_run = run_runner(["wordcount", "--local", "--input", str(corpus), "--top", "5", "--plain"],
                            runner_env(home))
    assert second_run.returncode == 0, second_run.stdout[-3000:] + second_run.stderr[-3000:]
    assert "first local run" not in second_run.stdout
    (next_dir,) = {p for p in (home / "local" / "runs").iterdir()} - {run_dir}
    notes = (next_dir / "jvm-class-archive.log").read_text()
    assert f"Opened archive {archive}" in notes and "Mapped dynamic region" in notes
    assert "Unable to use shared archive" not in notes
    result = json.loads((next_dir / "result.json").read_text(encoding="utf-8"))
    alone = independent_reference.counts([first])
    assert result["words"] == sum(alone.values()) and result["distinct_words"] == len(alone)
    assert result["word_splitter"] == "jvm"
    assert sorted(cache.iterdir()) == sorted([archive, jar, *sidecars])


def test_ctrl_c_stops_the_local_job_leaves_no_process_and_marks_the_run_interrupted(tmp_path):
    home = tmp_path / "home"
    out = (tmp_path / "stdout.txt").open("w")
    command = [sys.executable, str(RUNNER), "wordcount", "--local", "--generate", "20GB", "--plain"]
    runner = subprocess.Popen(command, env=runner_env(home), stdout=out, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.time() + 300
        tree: list[psutil.Process] = []
        while time.time() < deadline:
            runs = home / "local" / "runs"
            metrics = next(runs.glob("*/metrics.csv"), None) if runs.is_dir() else None
            tree = psutil.Process(runner.pid).children(recursive=True)
            names = {p.name() for p in tree if p.is_running()}
            if metrics and "jvm" in metrics.read_text() and "java" in names:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the local job never started its JVM")
        time.sleep(3)  # a few samples into the job
        tree = psutil.Process(runner.pid).children(recursive=True)
        assert any(p.name() == "java" for p in tree)
        runner.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends to the runner
        assert runner.wait(timeout=120) == 130
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
        out.close()
    # No process of the job is left: neither those seen before the signal (JVM included) nor any
    # that names the run.
    left = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == []
    run_dir = only_run(home)
    assert processes_of(run_dir.name) == []
    job = json.loads((run_dir / "job.json").read_text())
    assert job["state"] == "INTERRUPTED" and "interrupted" in job["error_message"]
    assert not (run_dir / "result.json").exists()
    summary = (run_dir / "summary.txt").read_text()
    assert "state INTERRUPTED" in summary and "INTERRUPTED: interrupted (Ctrl-C)" in summary
    assert (run_dir / "usage.png").stat().st_size > 10_000
    assert "jvm" in (run_dir / "metrics.csv").read_text()
    printed = (tmp_path / "stdout.txt").read_text()
    assert "interrupted: stopping Spark" in printed and "partial results in" in printed
    # The class archive this first run was to write is not published, and no partial file is left:
    # only the word splitter's jar, built before the JVM started, and the sha256 recorded with it.
    assert sorted(p.name for p in (tmp_path / "cache" / "sparklab").iterdir()) == [
        word_splitter.jar_name(), word_splitter.jar_name() + ".sha256"]


def test_with_a_java_runtime_but_no_javac_local_counts_with_the_regular_expression(tmp_path):
    """A JAVA_HOME holding only ``bin/java`` (a runtime): the driver log says why, the counts are the same."""
    home = tmp_path / "home"
    runtime = tmp_path / "jre" / "bin"
    runtime.mkdir(parents=True)
    (runtime / "java").symlink_to(Path(shutil.which("java") or "java").resolve())
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(HANDWRITTEN * 10, encoding="utf-8")
    env = runner_env(home, JAVA_HOME=str(runtime.parent), SPARKLAB_CLASS_CACHE="off")
    proc = run_runner(["wordcount", "--local", "--input", str(corpus), "--top", "5", "--plain"], env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = only_run(home)
    result = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    assert result["word_splitter"] == "regex"
    reference = independent_reference.counts([HANDWRITTEN * 10])
    assert result["words"] == sum(reference.values()) and result["distinct_words"] == len(reference)
    assert "sparklab: no javac (a JDK): the word splitter runs as a regular expression" in (
        run_dir / "driver.log").read_text()
    assert not list((tmp_path / "cache" / "sparklab").glob("sparklab-words-*"))


def test_without_java_local_says_how_to_install_it_and_writes_nothing(tmp_path):
    home = tmp_path / "home"
    env = runner_env(home, PATH=str(Path(sys.executable).parent))  # the virtualenv only: no java
    env.pop("JAVA_HOME", None)
    proc = run_runner(["wordcount", "--local", "--generate", "1MB"], env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: --local needs Java to run Spark: no `java` on PATH (fix: install Java 17 or 21, e.g. "
        "`sudo apt-get install openjdk-17-jdk-headless` or `brew install openjdk@17`, or set JAVA_HOME)"
    ]
    assert not home.exists()


def test_s3_input_is_refused_locally_in_one_line_and_writes_nothing(tmp_path):
    home = tmp_path / "home"
    args = ["wordcount", "--local", "--input", "s3://bucket/book.txt"]
    proc = run_runner(args, runner_env(home), timeout=120)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: --input s3://bucket/book.txt: s3:// needs AWS credentials")
    assert not home.exists()
