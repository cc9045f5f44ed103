"""``submit`` with bad input: one line naming the value and the fix, exit 2, before any AWS call,
with nothing staged or written, on the cluster path (fake credentials, every AWS endpoint a
counting listener) and with ``--local``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from local_services import CountingListener
from runner_sandbox import FAKE_ACCESS_KEY, FAKE_SECRET, REPO, Sandbox

PI = str(REPO / "examples" / "pi.py")
SALES = str(REPO / "examples" / "sales.csv")


def aws_listener(sandbox: Sandbox) -> CountingListener:
    listener = CountingListener()
    sandbox.env.update(AWS_ACCESS_KEY_ID=FAKE_ACCESS_KEY, AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
                       AWS_ENDPOINT_URL=listener.url, SPARKLAB_CHECKIP_URL=listener.url)
    return listener


CASES = [
    (["missing.py"], "error: missing.py: no such file"),
    ([SALES], "not a Python application"),
    ([str(REPO / "examples")], "not a Python application"),
    ([PI, "--py-files", "nowhere.zip"], "error: --py-files nowhere.zip: no such file"),
    ([PI, "--py-files", SALES], "not a .py, .zip or .egg file"),
    ([PI, "--conf", "spark.sql.shuffle.partitions"], "not spark.KEY=VALUE"),
    ([PI, "--conf", "sql.shuffle.partitions=4"], "not spark.KEY=VALUE"),
    ([PI, "--conf", "spark.kubernetes.namespace=default"],
     "--conf spark.kubernetes.namespace: set by sparklab, not by --conf (sparklab runs jobs in the "
     "cluster's Spark namespace"),
    ([PI, "--conf", "spark.executor.instances=9"], "use --executors N"),
    ([PI, "--executors", "many"], "--executors many: not a whole number from 1 to 64"),
    ([PI, "--executors", "0"], "--executors 0: not a whole number"),
    ([PI, "--executor-cores", "2.5"], "--executor-cores 2.5: not a whole number"),
    ([PI, "--executor-memory", "2GB"], "--executor-memory 2GB: not a size like 512m or 2g"),
    ([PI, "--input", "nowhere.csv"], "error: --input nowhere.csv: no such file or folder"),
    ([PI, "--input", SALES, "--input", SALES], "same base name 'sales.csv'"),
    ([PI, "--input", "s3://bucket/"], "error: --input s3://bucket/: "),  # a prefix; local: no s3 at all
]


@pytest.mark.parametrize("local", [False, True], ids=["cluster", "local"])
@pytest.mark.parametrize(("args", "expected"), CASES)
def test_bad_submission_exits_2_in_one_line_before_any_aws_call(offline: Sandbox, local: bool,
                                                              args: list[str], expected: str) -> None:
    listener = aws_listener(offline)
    result = offline.run("submit", *args, *(["--local"] if local else ["--name", "demo"]), timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0]
    assert "fix:" in lines[0] or "set by sparklab" in lines[0]
    assert listener.connections == 0
    assert result.stdout == ""
    assert not offline.sparklab_home.exists() or not any(offline.sparklab_home.rglob("runs/*"))


def test_s3_input_with_local_is_refused_before_anything(offline: Sandbox) -> None:
    result = offline.run("submit", PI, "--input", "s3://bucket/sales.csv", "--local", timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --input s3://bucket/sales.csv: s3:// needs AWS credentials")


def test_application_arguments_after_the_double_dash_are_not_runner_flags(offline: Sandbox) -> None:
    """``-- --executors many`` belongs to the application: not checked as runner.py's flag."""
    result = offline.run("submit", "missing.py", "--local", "--", "--executors", "many", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: missing.py: no such file (fix: the path of your PySpark application, e.g. examples/pi.py)"]


def test_the_readability_check_names_the_first_unreadable_file_in_a_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same check where the tests run as root (which reads any file): access(2) is made to
    deny the one file, as it does for a user without the read bit."""
    from sparklab.core.errors import BadInput
    from sparklab.job import submission

    folder = tmp_path / "data"
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "jan.csv").write_text("a\n")
    (folder / "2026" / "feb.csv").write_text("b\n")
    denied = folder / "2026" / "feb.csv"
    real_access = os.access
    monkeypatch.setattr(submission.os, "access",
                        lambda path, mode: False if Path(path) == denied else real_access(path, mode))
    with pytest.raises(BadInput, match=rf"--input {folder}: {denied} is not readable"):
        submission.check_inputs([str(folder)], local=True)
    assert submission.check_inputs([str(folder / "2026" / "jan.csv")], local=True)
