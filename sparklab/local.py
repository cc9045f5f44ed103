"""``runner.py wordcount --local``: the WordCount application on local Spark, no account, no cluster.

The same application as on a cluster (:mod:`sparklab.wordcount_app`, the file the role ships)
runs in a child process on local Spark (pyspark from the virtualenv, ``local[*]``: every core),
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
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklab.errors import BadInput, RunFailed
from sparklab.monitor import CSV_FIELDS, MetricRow, Snapshot, spark_ui_progress
from sparklab.shared import contract

REPO = Path(__file__).resolve().parents[1]
LOCAL_DIR = contract().LOCAL_RUNS_DIR  # $SPARKLAB_HOME/<this>/runs/<id>; not a cluster name
SAMPLE_SECONDS = 1.0
STOP_GRACE_SECONDS = 15.0
MIN_JAVA = 17
STATUS_FILE = "driver-status.json"
PARTS_DIR = "counts-parts"
JAVA_FIX = ("install Java 17 or 21, e.g. `sudo apt-get install openjdk-17-jre-headless` or "
            "`brew install openjdk@17`, or set JAVA_HOME")
ROLE_DRIVER, ROLE_JVM, ROLE_WORKERS = "python-driver", "jvm", "python-workers"


# --------------------------------------------------------------------------- checks (before anything)
def java_problem(environ: dict[str, str] | None = None) -> str | None:
    """Why local Spark cannot start here, in one line; ``None`` when a usable Java is found.

    pyspark starts ``$JAVA_HOME/bin/java`` when ``JAVA_HOME`` is set, else ``java`` from PATH.
    """
    env = os.environ if environ is None else environ
    home = env.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java", path=env.get("PATH"))
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no `java` on PATH"
        return f"--local needs Java to run Spark: {where} (fix: {JAVA_FIX})"
    try:
        probe = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError as err:
        return f"--local needs Java to run Spark: {java} does not start: {err} (fix: {JAVA_FIX})"
    match = re.search(r'version "(\d+)(?:\.(\d+))?', probe.stderr + probe.stdout)
    if match is None:
        return f"--local needs Java to run Spark: {java} -version says nothing usable (fix: {JAVA_FIX})"
    major = int(match.group(1)) if match.group(1) != "1" else int(match.group(2) or 0)
    if major < MIN_JAVA:
        return f"--local: Spark 4 needs Java {MIN_JAVA} or newer, {java} is Java {major} (fix: {JAVA_FIX})"
    return None


def local_inputs(specs: Sequence[str], generate: str) -> list[str]:
    """Inputs as the local job reads them: http(s) URLs as given, files and folders as paths."""
    from sparklab.wordcount_app import parse_size

    if generate:
        try:
            parse_size(generate)
        except ValueError as err:
            raise BadInput(f"--generate: {err}") from None
    if not specs and not generate:
        raise BadInput("no input (fix: --generate 200MB, or --input a text file, a folder or https:// URL)")
    found: list[str] = []
    for spec in specs:
        if spec.startswith(("https://", "http://")):
            found.append(spec)
        elif spec.startswith("s3://"):
            raise BadInput(f"--input {spec}: s3:// needs AWS credentials and runs on a cluster only "
                           "(fix: download it and give the file, or give an https:// URL)")
        else:
            path = Path(spec).expanduser()
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file())
                if not files:
                    raise BadInput(f"--input {spec}: the folder holds no file (fix: give a text file)")
                found.extend(str(p.resolve()) for p in files)
            elif path.is_file():
                found.append(str(path.resolve()))
            else:
                raise BadInput(f"--input {spec}: no such file (fix: a text file, a folder or https:// URL)")
    return found


# --------------------------------------------------------------------------- folders
def local_runs(home: Path) -> Path:
    """``$SPARKLAB_HOME/local/runs``: the local runs sit where a cluster's runs would."""
    from sparklab.state import ClusterState

    return ClusterState(LOCAL_DIR, home).runs


def list_runs(home: Path) -> list[Path]:
    from sparklab.jobs import RUN_ID_PATTERN

    runs = local_runs(home)
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir() if p.is_dir() and RUN_ID_PATTERN.match(p.name))


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


# --------------------------------------------------------------------------- sampling
def _classify(root: Any, proc: Any, jvm_pids: set[int]) -> str:
    """Role of a process of the job's tree: the driver itself, the JVM, or what the JVM started."""
    if proc.pid == root.pid:
        return ROLE_DRIVER
    try:
        name = proc.name()
    except Exception:
        name = ""
    if name == "java" or name.startswith("java"):
        jvm_pids.add(proc.pid)
        return ROLE_JVM
    try:
        parents = {p.pid for p in proc.parents()}
    except Exception:
        parents = set()
    if parents & jvm_pids:
        return ROLE_WORKERS
    # spark-submit's shell scripts, which start the JVM: counted with it.
    return ROLE_DRIVER if name.startswith("python") else ROLE_JVM


@dataclass
class LocalSampler:
    """Samples the machine and the process tree under ``root_pid`` every ``interval`` seconds."""

    root_pid: int
    output: Path
    interval: float = SAMPLE_SECONDS
    on_sample: Callable[[Snapshot], None] | None = None
    status_file: Path | None = None
    node_name: str = field(default_factory=socket.gethostname)
    samples: int = 0
    seen: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _procs: dict[int, Any] = field(default_factory=dict, repr=False)
    _jvm: set[int] = field(default_factory=set, repr=False)
    _last_sample: float = field(default=0.0, repr=False)

    def tree(self) -> list[Any]:
        """The root and every descendant now (psutil processes)."""
        import psutil

        try:
            root = psutil.Process(self.root_pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _status(self) -> dict[str, Any]:
        if self.status_file is None or not self.status_file.exists():
            return {}
        try:
            return json.loads(self.status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def sample_once(self) -> Snapshot:
        import psutil

        now = time.time()
        cores = psutil.cpu_count() or 1
        memory = psutil.virtual_memory()
        rows = [MetricRow(now, "node", self.node_name, "", psutil.cpu_percent(None) * cores / 100,
                          int(memory.total - memory.available))]
        procs = self.tree()
        if procs:
            root = procs[0]
            for proc in procs:
                cached = self._procs.setdefault(proc.pid, proc)
                try:
                    with cached.oneshot():
                        cpu = cached.cpu_percent(None) / 100  # 0.0 at a process's first sample
                        rss = cached.memory_info().rss
                except psutil.Error:
                    continue
                self.seen.add(proc.pid)
                role = _classify(root, cached, self._jvm)
                rows.append(MetricRow(now, "pod", f"{role}-{proc.pid}", role, cpu, int(rss)))
        status = self._status()
        snap = Snapshot(now, rows, {self.node_name: (float(cores), int(memory.total))},
                        state=str(status.get("state", "starting")))
        if status.get("spark_ui") and snap.state == "running":
            try:
                snap.bytes_read, snap.tasks_done, snap.tasks_active = spark_ui_progress(status["spark_ui"])
            except Exception:  # the UI answers only while the job runs
                snap.bytes_read = None
        return snap

    def _write(self, rows: list[MetricRow]) -> None:
        new = not self.output.exists()
        with self.output.open("a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            if new:
                writer.writerow(CSV_FIELDS)
            writer.writerows(row.as_csv() for row in rows)

    def _loop(self) -> None:
        import psutil

        psutil.cpu_percent(None)  # the machine's counter starts here
        next_tick = time.monotonic() + self.interval
        while not self._stop.wait(max(0.0, next_tick - time.monotonic())):
            # A late sample (a busy machine) is not followed by a burst to catch up.
            next_tick = max(next_tick + self.interval, time.monotonic() + self.interval / 2)
            self._sample_and_show()

    def _sample_and_show(self) -> None:
        snap = self.sample_once()
        self._write(snap.rows)
        self.samples += 1
        self._last_sample = time.monotonic()
        if self.on_sample is not None:
            try:
                self.on_sample(snap)
            except Exception as err:  # the display must never stop the sampling
                print(f"live view: {type(err).__name__}: {err}", file=sys.stderr)

    def start(self) -> LocalSampler:
        self._write([])
        self._thread = threading.Thread(target=self._loop, name="sparklab-local-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling, then take one last sample: the job's final state (completed, failed) is
        shown and recorded even when it ended between two ticks. It comes at least half an interval
        after the previous one, like every other sample."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 10)
            self._thread = None
            time.sleep(max(0.0, self._last_sample + self.interval / 2 - time.monotonic()))
            self._sample_and_show()


# --------------------------------------------------------------------------- the job's process
def driver_command(run_dir: Path, inputs: Sequence[str], generate: str, top: int) -> list[str]:
    cmd = [sys.executable, "-m", "sparklab.local", "--run-dir", str(run_dir), "--top", str(top)]
    for spec in inputs:
        cmd += ["--input", spec]
    if generate:
        cmd += ["--generate", generate]
    return cmd


def driver_env() -> dict[str, str]:
    """The child's environment: the package importable by the driver and by the Python workers
    (they import the application's functions), Spark bound to 127.0.0.1 only."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYSPARK_PYTHON"] = env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def stop_tree(root: Any, known: set[int], grace: float = STOP_GRACE_SECONDS) -> list[int]:
    """Ask the driver to cancel (SIGINT), wait, then kill whatever of its tree is left.

    ``known`` holds every pid the sampler saw in the tree, so processes whose parent has already
    gone (reparented) are found too. Returns the pids that had to be killed.
    """
    import psutil

    procs: dict[int, Any] = {}
    for pid in known | {root.pid}:
        try:
            procs[pid] = psutil.Process(pid)
        except psutil.Error:
            continue
    try:
        for child in psutil.Process(root.pid).children(recursive=True):
            procs.setdefault(child.pid, child)
    except psutil.Error:
        pass
    with contextlib.suppress(OSError):
        root.send_signal(signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        root.wait(timeout=grace)
    _, alive = psutil.wait_procs(list(procs.values()), timeout=3)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=5)
    if root.poll() is None:
        root.kill()
        root.wait(timeout=5)
    return [proc.pid for proc in alive]


def reap(pids: set[int], grace: float = 5.0) -> list[int]:
    """After the driver has exited: wait for what is left of its tree (the JVM leaves when the
    driver's pipe closes), then kill anything still there. Returns the pids killed."""
    import psutil

    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=5)
    return [proc.pid for proc in alive]


def _driver_error(log: Path, tail: int = 25) -> tuple[str, list[str]]:
    from sparklab.wordcount_app import ERROR_PREFIX

    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    lines = text.splitlines()
    reason = "the driver exited without a result"
    for line in lines:
        if line.startswith(ERROR_PREFIX + " "):
            try:
                reason = json.loads(line[len(ERROR_PREFIX) + 1 :]).get("error", reason)
            except ValueError:
                reason = line[len(ERROR_PREFIX) + 1 :]
    return reason, lines[-tail:]


@dataclass
class LocalRun:
    """Options of one local run."""

    inputs: list[str]
    generate: str = ""
    top: int = 20
    plain: bool = False
    home: Path | None = None


class _Interrupts:
    """Ctrl-C (and SIGTERM) set an event; the job's processes are in their own session, so the
    terminal's SIGINT reaches this process only and the stop happens in order."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, lambda *_: self.event.set())
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def run_local(options: LocalRun, say: Callable[[str], None], out: Any = None) -> int:
    """The whole local run; returns the exit code (0, 1, 130). Bad input raises BadInput first."""
    from sparklab import jobs, live, report
    from sparklab.state import sparklab_home

    problem = java_problem()
    if problem:
        raise BadInput(problem)
    inputs = local_inputs(options.inputs, options.generate)
    home = options.home or sparklab_home()
    run_id = jobs.new_run_id()
    run_dir = jobs.run_dir(LOCAL_DIR, run_id, home)
    run_dir.mkdir(mode=0o700, parents=True)
    for parent in (home, home / LOCAL_DIR, local_runs(home)):
        parent.chmod(0o700)
    sources = inputs + ([f"generate:{options.generate}"] if options.generate else [])
    cores = os.cpu_count() or 1
    say(f"wordcount --local run {run_id}: {', '.join(sources)}")
    say(f"local Spark with all {cores} cores (local[*]); run folder: {run_dir}")
    submitted = time.time()
    state = "FAILED"
    view = live.make_live_view(f"sparklab wordcount --local {run_id}", out=out, force_plain=options.plain,
                               unit="process")
    announced: dict[str, str] = {}

    def on_sample(snap: Snapshot) -> None:
        view.update(snap)
        status = sampler._status()  # noqa: SLF001 - same module
        if status.get("spark_ui") and "ui" not in announced:
            announced["ui"] = status["spark_ui"]
            view.set_spark_ui(status["spark_ui"])
            view.note(f"Spark UI (while the job runs, on this machine only): {status['spark_ui']}")

    with _Interrupts() as interrupts, (run_dir / "driver.log").open("wb") as log:
        proc = subprocess.Popen(driver_command(run_dir, inputs, options.generate, options.top),
                                cwd=run_dir, env=driver_env(), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        sampler = LocalSampler(proc.pid, run_dir / "metrics.csv", on_sample=on_sample,
                               status_file=run_dir / STATUS_FILE)
        sampler.start()
        try:
            while proc.poll() is None and not interrupts.event.wait(0.2):
                pass
            if interrupts.event.is_set() and proc.poll() is None:
                view.note("interrupted: stopping Spark (the JVM and its Python workers)")
                sampler.seen.update(p.pid for p in sampler.tree())
                killed = stop_tree(proc, set(sampler.seen))
                state = "INTERRUPTED"
                if killed:
                    view.note(f"killed {len(killed)} process(es) that did not stop in time")
            elif proc.returncode == 0 and (run_dir / "result.json").exists():
                state = "COMPLETED"
        finally:
            sampler.stop()
            if proc.poll() is None:  # an unexpected error above: never leave the job running
                stop_tree(proc, set(sampler.seen), grace=2)
            reap(sampler.seen)
            view.set_state({"COMPLETED": "completed", "INTERRUPTED": "interrupted"}.get(state, "failed"))
            view.close()
    ended = time.time()
    job = {"run_id": run_id, "app_name": f"local-{run_id}", "state": state, "mode": "local",
           "master": "local[*]", "cores": cores, "submitted_at": _utc(submitted),
           "terminated_at": _utc(ended),
           "spark_ui": announced.get("ui", ""), "sources": sources}
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
    (run_dir / STATUS_FILE).unlink(missing_ok=True)
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
    from sparklab import report
    from sparklab.state import sparklab_home

    base = home or sparklab_home()
    if run:
        from sparklab.jobs import RUN_ID_PATTERN

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


# --------------------------------------------------------------------------- the child process
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
    parser = argparse.ArgumentParser(prog="python -m sparklab.local")
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--input", action="append", default=[])
    parser.add_argument("--generate", default="")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    from pyspark.sql import SparkSession

    from sparklab import wordcount_app as app

    run_dir = Path(args.run_dir)
    status = run_dir / STATUS_FILE
    _write_status(status, state="starting")
    memory_gib = max(1, min(4, int(_total_memory() * 0.4 / 1024**3)))
    spark = (SparkSession.builder.master("local[*]").appName(f"sparklab-wordcount-local-{run_dir.name}")
             .config("spark.driver.memory", f"{memory_gib}g")
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 1)))
             .config("spark.sql.adaptive.enabled", "true").getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    _write_status(status, state="running", spark_ui=spark.sparkContext.uiWebUrl or "")
    generate = app.parse_size(args.generate) if args.generate else 0
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
    rows = _merge_parts(run_dir / PARTS_DIR, run_dir / "counts.csv")
    result["output"] = {"kind": "file", "path": "counts.csv", "rows": rows}
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    (run_dir / "result.json").write_text(text, encoding="utf-8")
    print(app.result_line(result), flush=True)
    _write_status(status, state="completed")
    return 0


def _total_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


if __name__ == "__main__":
    sys.exit(driver_main())
