"""``runner.py submit APP.py --local`` for real: the examples on local pyspark, the run folder, the
inputs and outputs convention, a failing application's own error line, and ``report --run``.

Each test runs runner.py as a user would, with its own ``SPARKLAB_HOME``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from submit_apps import FOUND, sales_totals, write_conventions_app, written_totals
from test_local_run import only_run, run_runner, runner_env
from wordcount_corpus import REPO

pytestmark = pytest.mark.slow

EXAMPLES = REPO / "examples"
RUN_FILES = {"driver.log", "metrics.csv", "usage.png", "summary.txt", "job.json", "app-result.json"}


def job_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "job.json").read_text(encoding="utf-8"))


def test_pi_runs_with_its_argument_and_its_run_folder_is_reported_again(tmp_path):
    home = tmp_path / "home"
    proc = run_runner(["submit", str(EXAMPLES / "pi.py"), "--local", "--plain", "--", "3"], runner_env(home))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = only_run(home)
    assert {p.name for p in run_dir.iterdir()} >= RUN_FILES
    log = (run_dir / "driver.log").read_text(encoding="utf-8")
    estimate = float(log.split("pi is roughly ", 1)[1].split()[0])
    assert 3.0 < estimate < 3.3
    job = job_of(run_dir)
    assert (job["state"], job["app"], job["exit_status"], job["mode"]) == ("COMPLETED", "pi.py", 0, "local")
    assert job["submission"]["app_args"] == ["3"]
    assert job["spark_ui"].startswith("http://127.0.0.1:")
    assert "pi.py exit status 0" in proc.stdout
    with (run_dir / "metrics.csv").open(encoding="utf-8") as handle:
        roles = {row["role"] for row in csv.DictReader(handle)}
    assert {"jvm", "python-driver"} <= roles
    (run_dir / "usage.png").unlink()
    again = run_runner(["report", "--local", "--run", run_dir.name], runner_env(home), timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"run {run_dir.name}  state COMPLETED" in again.stdout and "pi.py exit status 0" in again.stdout
    assert (run_dir / "usage.png").stat().st_size > 10_000


def test_dataframe_example_reads_its_csv_input_and_its_output_comes_back(tmp_path):
    home = tmp_path / "home"
    proc = run_runner(["submit", str(EXAMPLES / "sales_by_region.py"), "--input", str(EXAMPLES / "sales.csv"),
                       "--local", "--plain"], runner_env(home))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = only_run(home)
    assert (run_dir / "input" / "sales.csv").resolve() == (EXAMPLES / "sales.csv").resolve()
    assert written_totals(run_dir / "output" / "by_region.csv") == sales_totals(EXAMPLES / "sales.csv")
    assert f"output: {run_dir / 'output'} (1 file)" in proc.stdout


def test_a_failing_application_ends_with_its_own_error_line_and_exit_1(tmp_path):
    home = tmp_path / "home"
    proc = run_runner(["submit", str(EXAMPLES / "fail.py"), "--local", "--plain"], runner_env(home))
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines()[-1] == \
        "error: fail.py failed: ValueError: record 3 is bad on purpose"
    run_dir = only_run(home)
    job = job_of(run_dir)
    assert (job["state"], job["exit_status"]) == ("FAILED", 1)
    assert json.loads((run_dir / "app-result.json").read_text())["error"] == \
        "ValueError: record 3 is bad on purpose"
    assert "Traceback (most recent call last)" in (run_dir / "driver.log").read_text(encoding="utf-8")
    assert "reason: ValueError: record 3 is bad on purpose" in (run_dir / "summary.txt").read_text()
    assert (run_dir / "usage.png").exists()


def test_folder_inputs_keep_their_tree_py_files_reach_the_executors_and_conf_reaches_spark(tmp_path):
    """The conventions at once: an input folder's tree under $SPARKLAB_INPUT, a module from
    --py-files imported inside a task (a Python worker), a --conf value, the app's own arguments."""
    app, data, helper = write_conventions_app(tmp_path)
    home = tmp_path / "home"
    proc = run_runner(["submit", str(app), "--input", str(data), "--py-files", str(helper),
                       "--conf", "spark.sql.shuffle.partitions=3", "--executors", "2", "--local", "--plain",
                       "--", "--top", "5"], runner_env(home))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "--executors: ignored with --local" in proc.stdout
    found = json.loads((only_run(home) / "output" / "found.json").read_text(encoding="utf-8"))
    assert found == {**FOUND, "words": None}
