"""Bad input and missing credentials: exit 2, one line naming the problem, nothing started."""

from __future__ import annotations

import time

import pytest
from local_services import CountingListener
from runner_sandbox import FAKE_ACCESS_KEY, FAKE_SECRET, Sandbox


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["--name", "Bad_Name"], "cluster_name"),
        (["--name", "ok", "--worker-count", "many"], "cluster_worker_count"),
        (["--name", "ok", "--worker-count", "99"], "cluster_worker_count"),
        (["--name", "ok", "--control-plane-instance-type", "t3.micro"],
         "cluster_control_plane_instance_type"),
        (["--name", "ok", "--admin-cidrs", "[0.0.0.0/0]"], "cluster_admin_cidrs"),
        (["--name", "ok", "--wroker-count", "3"], "cluster_wroker_count"),
        (["--name", "ok", "--aws-region", "mars-1"], "cluster_aws_region"),
        (["--name", "ok", "--aws-region", "eu-west-9"], "cluster_aws_region"),
        (["--name", "ok", "--pod-cidr", "10.42.0.0/16"], "cluster_pod_cidr"),
    ],
)
def test_bad_configuration_exits_2_with_one_line_naming_the_key(offline: Sandbox, args: list[str],
                                                                key: str) -> None:
    result = offline.run("plan", *args, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {key}:") and "fix:" in lines[0]
    assert "emulator" not in result.stdout  # rejected before anything started


def test_plan_without_cluster_yml_says_so_first(offline: Sandbox) -> None:
    result = offline.run("plan", timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: no ./cluster.yml found in {offline.root} and no --name given, so cluster_name is missing "
        "(fix: cp cluster.example.yml cluster.yml and set cluster_name, or pass -c FILE or --name NAME)"]
    assert result.stdout == ""


def test_bad_config_file_exits_2(offline: Sandbox) -> None:
    (offline.root / "cluster.yml").write_text("cluster_name: demo\ncluster_worker_count: [1\n")
    result = offline.run("plan", "-c", "cluster.yml", timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cluster.yml: line 3 is not valid YAML"), lines
    (offline.root / "cluster.yml").write_text("cluster_name: demo\nworker_count: 3\n")
    result = offline.run("status", "-c", "cluster.yml", timeout=60)
    assert result.returncode == 2 and result.stderr.startswith("error: worker_count: not a sparklab key")


def test_a_config_file_that_is_not_utf8_exits_2_in_one_line(offline: Sandbox) -> None:
    (offline.root / "cluster.yml").write_bytes(b"cluster_name: d\xe9mo\n")
    result = offline.run("status", "-c", "cluster.yml", timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: cluster.yml: line 1 is not UTF-8 text (byte 0xe9) (fix: save the file as UTF-8)"]


def test_down_without_yes_and_without_terminal_refuses(offline: Sandbox) -> None:
    offline.env.update({"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"})
    result = offline.run("down", "--name", "demo", timeout=60, stdin="")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: down needs confirmation (fix: run it in a terminal, or add --yes)"


@pytest.mark.parametrize("verb", ["up", "provision"])
def test_up_without_credentials_fails_at_once_pointing_to_plan(offline: Sandbox, verb: str) -> None:
    listener = CountingListener()
    offline.env["AWS_ENDPOINT_URL"] = listener.url
    offline.env["SPARKLAB_CHECKIP_URL"] = listener.url
    started = time.monotonic()
    result = offline.run(verb, "--name", "demo", timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip()
    assert line.startswith("error: no AWS credentials found") and "AWS_PROFILE" in line
    assert "python3 runner.py plan" in line
    assert listener.connections == 0, "credential resolution must not touch the network"
    assert time.monotonic() - started < 30
    assert not (offline.sparklab_home / "demo" / "runs").exists()


@pytest.mark.parametrize(
    ("verb", "extra"),
    [
        (["down", "--yes"], "aws_teardown_cluster_name=b"),
        (["down", "--yes"], "aws_teardown_allow_other_owner=true"),
        (["provision"], "aws_security_group_admin_cidrs=[0.0.0.0/0]"),
        (["up"], "aws_identity_cluster_name=b"),
        (["wordcount", "--generate", "1MB"], "spark_wordcount_image=attacker/spark:latest"),
        (["wordcount", "--generate", "1MB"], "spark_wordcount_splitter_jar=/tmp/planted.jar"),
        (["wordcount", "--generate", "1MB"], "spark_wordcount_kubeconfig=/tmp/other"),
    ],
)
def test_verbs_that_create_delete_or_run_a_job_refuse_extra_vars_off_their_allow_list_before_any_aws_call(
        offline: Sandbox, verb: list[str], extra: str) -> None:
    listener = CountingListener()
    offline.env.update({"AWS_ENDPOINT_URL": listener.url, "SPARKLAB_CHECKIP_URL": listener.url,
                        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": FAKE_SECRET})
    if verb[0] == "wordcount":  # a cluster that is up: without the check the run would go on to AWS
        cluster = offline.sparklab_home / "a"
        cluster.mkdir(mode=0o700, parents=True)
        (cluster / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
    result = offline.run(*verb, "--name", "a", "-e", extra, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    key = extra.partition("=")[0]
    assert len(lines) == 1 and lines[0].startswith(f"error: -e {key}: not accepted by `{verb[0]}`"), lines
    assert "fix:" in lines[0]
    assert listener.connections == 0
    assert not (offline.sparklab_home / "a" / "audit.log").exists()
    assert not (offline.sparklab_home / "a" / "runs").exists()


def test_wordcount_passes_an_allowed_extra_var_on(offline: Sandbox) -> None:
    """An allowed key goes through the check: the run stops later, at the missing kubeconfig."""
    listener = CountingListener()
    offline.env.update({"AWS_ENDPOINT_URL": listener.url,
                        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": FAKE_SECRET})
    result = offline.run("wordcount", "--name", "a", "--generate", "1MB",
                         "-e", "spark_wordcount_timeout_seconds=600", timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no kubeconfig at" in result.stderr + result.stdout
    assert listener.connections == 0
