"""Bad configuration: one line naming the key, where the bad value came from, and a value that passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparklab.config.explain import known_regions
from sparklab.config.load import load, schema
from sparklab.core.errors import BadInput


@pytest.fixture(autouse=True)
def _no_cluster_yml_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # load() reads ./cluster.yml when no file is given


def _error(config: str | None, overrides: list[str], tmp_path: Path) -> str:
    with pytest.raises(BadInput) as info:
        load(config, overrides, environ={"SPARKLAB_HOME": str(tmp_path / "home")})
    message = str(info.value)
    assert "\n" not in message
    return message


def _passes(config: str | None, overrides: list[str], tmp_path: Path) -> None:
    load(config, overrides, environ={"SPARKLAB_HOME": str(tmp_path / "home")})


def test_a_file_that_is_not_utf8_is_one_line_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yml"
    path.write_bytes(b"---\ncluster_name: d\xe9mo\n")
    assert _error(str(path), [], tmp_path) == (
        f"{path}: line 2 is not UTF-8 text (byte 0xe9) (fix: save the file as UTF-8)")


def test_a_key_set_twice_is_refused_with_both_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yml"
    path.write_text("cluster_name: demo\ncluster_worker_count: 1\n# comment\ncluster_worker_count: 3\n")
    assert _error(str(path), [], tmp_path) == (
        f"cluster_worker_count: set twice in {path}, on lines 2 and 4 (fix: keep one of them)")
    path.write_text("cluster_name: demo\ncluster_admin_cidrs:\n  - 203.0.113.7/32\ncluster_worker_count: 1\n")
    _passes(str(path), [], tmp_path)  # lists and distinct keys are fine


def test_an_unknown_region_is_refused_offline_from_botocores_partition_data(tmp_path: Path) -> None:
    assert {"eu-west-1", "us-east-1", "eu-west-3"} <= known_regions()
    assert "eu-west-9" not in known_regions()
    message = _error(None, ["--name", "demo", "--aws-region", "eu-west-9"], tmp_path)
    assert message.startswith("cluster_aws_region: is not an AWS region known to botocore ")
    assert "got 'eu-west-9' (from --aws-region) (fix: use --aws-region eu-west-" in message
    suggested = message.rsplit("--aws-region ", 1)[1].rstrip(")")
    _passes(None, ["--name", "demo", "--aws-region", suggested], tmp_path)


@pytest.mark.parametrize(
    ("overrides", "fix"),
    [
        (["--name", "Demo"], "use --name demo"),
        (["--name", "9Lab_Spark"], "use --name lab-spark"),
        (["--name", "demo", "--worker-count", "99"], "use --worker-count 50"),
        (["--name", "demo", "--cluster_pod_cidr", "10.244.0.1/16"], "use --cluster_pod_cidr 10.244.0.0/16"),
        # The service range is what the user changed: the fix is about it, not the default pod range.
        (["--name", "demo", "--service-cidr", "10.240.0.0/12"], "use --service-cidr 10.96.0.0/12"),
    ],
)
def test_a_bad_flag_gets_a_fix_naming_the_flag_and_a_passing_value(tmp_path: Path, overrides: list[str],
                                                                     fix: str) -> None:
    message = _error(None, overrides, tmp_path)
    flag = overrides[-2]
    assert f"(from {flag}) (fix: {fix})" in message, message
    key = flag.lstrip("-").replace("-", "_")
    assert message.startswith(key if key.startswith("cluster_") else f"cluster_{key}")
    fixed = list(overrides)
    fixed[-1] = fix.rsplit(" ", 1)[1]
    _passes(None, fixed, tmp_path)


def test_a_bad_file_value_gets_a_fix_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yml"
    path.write_text("cluster_name: demo\ncluster_pod_cidr: 10.96.0.0/16\n")
    message = _error(str(path), [], tmp_path)
    assert message.startswith("cluster_pod_cidr: overlaps cluster_service_cidr 10.96.0.0/12")
    assert message.endswith(f"(in {path}) (fix: set cluster_pod_cidr: \"10.244.0.0/16\" in {path})")
    path.write_text("cluster_name: demo\ncluster_pod_cidr: 10.244.0.0/16\n")
    _passes(str(path), [], tmp_path)


def test_a_missing_name_keeps_the_schema_fix(tmp_path: Path) -> None:
    # No ./cluster.yml at all: that is said first (the missing name follows from it).
    assert _error(None, [], tmp_path).startswith("no ./cluster.yml")
    # A ./cluster.yml without the name: the schema's own fix for cluster_name.
    (tmp_path / "cluster.yml").write_text("cluster_worker_count: 1\n")
    fix = schema().SCHEMA["cluster_name"].fix
    assert _error(None, [], tmp_path) == f"cluster_name: is required (fix: {fix})"


def test_the_local_runs_folder_is_no_cluster_name(tmp_path: Path) -> None:
    """`wordcount --local` keeps its runs in $SPARKLAB_HOME/local/: no cluster may be called that."""
    from sparklab.job.local import run as local

    message = _error(None, ["--name", local.LOCAL_DIR], tmp_path)
    assert message.startswith("cluster_name: 'local' is reserved")
