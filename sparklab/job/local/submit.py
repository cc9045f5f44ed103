"""``runner.py submit APP.py --local``: a user's PySpark application on local Spark, watched.

The driver process is the launcher (:mod:`sparklab.job.launcher`, the file the cluster runs too)
started with the application and its arguments; pyspark's own ``spark-submit`` starts the JVM
with ``PYSPARK_SUBMIT_ARGS`` (``local[*]``, bound to 127.0.0.1, the user's ``--conf`` and
``--py-files``). Local mode is one JVM: the executors are threads of the driver's JVM and its
Python workers are started by it with the driver's environment, so setting ``$SPARKLAB_INPUT``
and ``$SPARKLAB_OUTPUT`` for the driver is enough. ``--executors``, ``--executor-cores`` and
``--executor-memory`` size cluster pods and are ignored here (said in one line).

The run folder (``$SPARKLAB_HOME/local/runs/<run id>/``) holds ``input/`` (links to the local
inputs, downloads of the URLs), ``output/`` (``$SPARKLAB_OUTPUT``), ``driver.log``, ``metrics.csv``,
``usage.png``, ``summary.txt``, ``job.json`` and ``app-result.json`` (the exit status and error).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparklab.core.contract import module_utils
from sparklab.core.errors import BadInput, RunFailed
from sparklab.job.local.watch import STATUS_FILE, Watched, watch_driver
from sparklab.job.submission import INPUT_ENV, OUTPUT_ENV, Submission, input_name

LOCAL_DIR = module_utils("cluster_names").LOCAL_RUNS_DIR  # $SPARKLAB_HOME/<this>/runs/<id>; no cluster
APP_RESULT_FILE = "app-result.json"
LAUNCHER = Path(__file__).resolve().parents[1] / "launcher.py"
LOCAL_CONF = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
              "spark.ui.showConsoleProgress": "false"}


def stage_inputs(specs: Sequence[str], folder: Path) -> None:
    """Every input under its base name in ``folder``: local paths linked, URLs downloaded."""
    folder.mkdir(mode=0o700)
    for spec in specs:
        target = folder / input_name(spec)
        if spec.startswith(("https://", "http://")):
            try:
                with urllib.request.urlopen(spec, timeout=60) as answer, target.open("wb") as out:  # noqa: S310
                    shutil.copyfileobj(answer, out)
            except (OSError, ValueError) as err:
                raise BadInput(f"--input {spec.split('?', 1)[0]}: cannot be read ({err}) "
                               "(fix: check the URL)") from None
        else:
            target.symlink_to(Path(spec).expanduser().resolve())


def submit_args(sub: Submission, memory_gib: int, run_id: str) -> str:
    """``PYSPARK_SUBMIT_ARGS``: how pyspark's spark-submit starts the JVM for this application
    (its name carries the run id, so the run's processes can be found by it)."""
    parts = ["--master", "local[*]", "--driver-memory", f"{memory_gib}g",
             "--name", f"sparklab-{sub.app.stem.replace('_', '-')}-local-{run_id}"]
    for key, value in {**LOCAL_CONF, **sub.conf}.items():
        parts += ["--conf", f"{key}={value}"]
    if sub.py_files:
        parts += ["--py-files", ",".join(str(p) for p in sub.py_files)]
    return shlex.join([*parts, "pyspark-shell"])


def launcher_env(sub: Submission, run_dir: Path, base: dict[str, str], run_id: str) -> dict[str, str]:
    import psutil

    env = dict(base)
    memory_gib = max(1, min(4, int(psutil.virtual_memory().total * 0.4 / 1024**3)))
    env["PYSPARK_SUBMIT_ARGS"] = submit_args(sub, memory_gib, run_id)
    env[INPUT_ENV] = str(run_dir / "input")
    env[OUTPUT_ENV] = str(run_dir / "output")
    paths = [str(p if p.suffix != ".py" else p.parent) for p in sub.py_files]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [*paths, env.get("PYTHONPATH")]))
    return env


def app_result(run_dir: Path, returncode: int | None) -> dict[str, Any]:
    """The launcher's result line from the driver log; when absent, the process's own exit."""
    log = run_dir / "driver.log"
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    found = module_utils("driver_log").read_driver_log(text.splitlines())
    if isinstance(found["result"], dict) and "exit_status" in found["result"]:
        return found["result"]
    status = returncode if returncode not in (None, 0) else 1
    return {"exit_status": status, "error": found["error"] or "the driver exited without a result"}


def local_runs(home: Path) -> Path:
    """``$SPARKLAB_HOME/local/runs``: the local runs sit where a cluster's runs would."""
    from sparklab.core.state import ClusterState

    return ClusterState(LOCAL_DIR, home).runs


@dataclass
class Launched:
    """How a local run went: the watched driver, the launcher's result, and when."""

    watched: Watched
    result: dict[str, Any]
    submitted: float
    ended: float


def new_run(home: Path) -> tuple[str, Path]:
    """A run id and its folder, made (0700) under ``$SPARKLAB_HOME/local/runs``."""
    from sparklab.core.state import check_home, private_dir
    from sparklab.job import runs as jobs

    run_id = jobs.new_run_id()
    run_dir = jobs.run_dir(LOCAL_DIR, run_id, home)
    private_dir(local_runs(home), check_home(home))
    run_dir.mkdir(mode=0o700)
    return run_id, run_dir


def launch(sub: Submission, run_dir: Path, view: Any, archive: Any = None, driver_note: str = "") -> Launched:
    """The one local submission: the launcher runs ``sub`` while it is watched; its result is read
    back into ``app-result.json``. A class archive the JVM wrote is published only after a success."""
    from sparklab.job import report
    from sparklab.job.local.procs import driver_env

    (run_dir / "output").mkdir(mode=0o700, exist_ok=True)
    (run_dir / "driver.log").write_text(driver_note, encoding="utf-8")
    cmd = [sys.executable, str(LAUNCHER), "--status-file", str(run_dir / STATUS_FILE), str(sub.app),
           *sub.app_args]
    report.import_chart_library()  # while the JVM starts, not after the job
    submitted = time.time()
    watched = watch_driver(cmd, launcher_env(sub, run_dir, driver_env(), run_dir.name), run_dir, view,
                           lambda: app_result(run_dir, 0).get("exit_status") == 0)
    ended = time.time()
    result = app_result(run_dir, watched.returncode)
    (run_dir / APP_RESULT_FILE).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if archive is not None:
        if watched.state == "COMPLETED":
            if archive.partial().is_file():  # this run's JVM wrote one (it did not map the archive)
                archive.finish()
        else:
            archive.partial().unlink(missing_ok=True)  # an interrupted first run's is not kept
            archive.sweep()
    return Launched(watched, result, submitted, ended)


def write_job(run_dir: Path, run_id: str, launched: Launched, sources: list[str],
              extra: dict[str, Any]) -> dict[str, Any]:
    """``job.json``: the run as the report reads it (state, times, Spark UI, exit status, error)."""
    def utc(epoch: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))

    state = launched.watched.state
    job = {"run_id": run_id, "app_name": f"local-{run_id}", "state": state, "mode": "local",
           "master": "local[*]", "cores": os.cpu_count() or 1, "submitted_at": utc(launched.submitted),
           "terminated_at": utc(launched.ended), "spark_ui": launched.watched.spark_ui, "sources": sources,
           "exit_status": launched.result.get("exit_status"), **extra}
    if state == "INTERRUPTED":
        job["error_message"] = "interrupted (Ctrl-C): the files hold what was sampled until then"
    elif state == "FAILED":
        job["error_message"] = str(launched.result.get("error") or "the driver exited without a result")
    (run_dir / "job.json").write_text(json.dumps(job, indent=2) + "\n", encoding="utf-8")
    return job


def run_submit_local(sub: Submission, say: Callable[[str], None], out: Any = None, plain: bool = False,
                     home: Path | None = None) -> int:
    """The whole local run of ``sub``; the exit code (0, 130), or RunFailed when the app failed."""
    from sparklab.core.state import sparklab_home
    from sparklab.job import report
    from sparklab.job.live import view as live
    from sparklab.job.local import spark as local_spark
    from sparklab.job.local.checks import java_problem

    problem = java_problem()
    if problem:
        raise BadInput(problem)
    local_spark.ensure_installed()
    run_id, run_dir = new_run(home or sparklab_home())
    try:
        stage_inputs(sub.inputs, run_dir / "input")
    except BadInput:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    shapes = (("--executors", sub.executors), ("--executor-cores", sub.executor_cores),
              ("--executor-memory", sub.executor_memory))
    sized = [flag for flag, value in shapes if value is not None]
    if sized:
        say(f"{', '.join(sized)}: ignored with --local (one JVM on this machine runs every task)")
    say(f"submit run {run_id}: {sub.name} {shlex.join(sub.app_args)}".rstrip())
    say(f"local Spark with all {os.cpu_count() or 1} cores (local[*]); run folder: {run_dir}")
    view = live.make_live_view(f"sparklab submit --local {sub.name} {run_id}", out=out, force_plain=plain,
                               unit="process")
    launched = launch(sub, run_dir, view)
    job = write_job(run_dir, run_id, launched, sub.inputs, {"app": sub.name, "submission": sub.describe()})
    summary = report.render(run_dir)
    say(report.summary_text(summary).rstrip())
    files = sorted(p for p in (run_dir / "output").rglob("*") if p.is_file())
    say(f"output: {run_dir / 'output'} ({len(files)} file{'s' if len(files) != 1 else ''})")
    say(f"driver log: {run_dir / 'driver.log'}")
    say(f"chart: {run_dir / report.CHART_FILE}")
    say(f"again: python3 runner.py report --local --run {run_id}")
    if launched.watched.state == "INTERRUPTED":
        say(f"submit --local interrupted; partial results in {run_dir}")
        return 130
    if launched.watched.state != "COMPLETED":
        raise RunFailed(f"{sub.name} failed: {job['error_message']}")
    return 0
