"""The collection's filters as Ansible loads them (``ansible-test units``)."""

from __future__ import annotations

import re

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.sparklab.cluster.plugins.filter import (
    aws_cidrs,
    cluster_checks,
    cluster_paths,
    hourly_cost,
    spark_wordcount_fit,
    spark_wordcount_job,
)
from ansible_collections.sparklab.cluster.plugins.module_utils.cluster_names import RUN_ID_PATTERN

FILTERS = {
    aws_cidrs: {"aws_admin_cidr_problem"},
    cluster_paths: {"cluster_state_dir"},
    hourly_cost: {"hourly_cost"},
    spark_wordcount_job: {"spark_wordcount_result", "spark_wordcount_app_name", "spark_wordcount_run_id"},
}


@pytest.mark.parametrize("module", list(FILTERS), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_each_filter_file_offers_its_filters(module: object) -> None:
    assert FILTERS[module] <= set(module.FilterModule().filters())


def test_admin_cidrs_are_held_to_the_configuration_rule() -> None:
    assert aws_cidrs.aws_admin_cidr_problem(["203.0.113.7/32"], False) == ""
    assert "whole internet" in aws_cidrs.aws_admin_cidr_problem(["0.0.0.0/1", "128.0.0.0/1"], "false")
    assert aws_cidrs.aws_admin_cidr_problem(["0.0.0.0/0"], "yes") == ""
    assert "not true or false" in aws_cidrs.aws_admin_cidr_problem(["0.0.0.0/0"], "maybe")


def test_the_state_folder_follows_sparklab_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKLAB_HOME", "/srv/labs")
    assert cluster_paths.cluster_state_dir("demo") == "/srv/labs/demo"
    with pytest.raises(AnsibleFilterError, match="no cluster name"):
        cluster_paths.cluster_state_dir("")


def test_the_wordcount_job_names_and_result() -> None:
    run_id = "20260101-120000-ab12"
    assert spark_wordcount_job.spark_wordcount_app_name(run_id) == f"wordcount-{run_id}"
    assert re.match(RUN_ID_PATTERN, spark_wordcount_job.spark_wordcount_run_id(""))
    assert spark_wordcount_job.spark_wordcount_run_id("20260101-120000-ab12") == "20260101-120000-ab12"
    with pytest.raises(AnsibleFilterError, match="is no run id"):
        spark_wordcount_job.spark_wordcount_run_id("yesterday")
    log = 'INFO\nSPARKLAB_RESULT {"words": 4}\n'
    assert spark_wordcount_job.spark_wordcount_result(log) == {"words": 4}
    assert spark_wordcount_job.spark_wordcount_result(["no result"]) == {}


def test_cluster_checks_read_kubectl_lists() -> None:
    nodes = {"items": [
        {"metadata": {"name": "b"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        {"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}},
    ]}
    assert cluster_checks.ready_node_names(nodes) == ["b"]
    with pytest.raises(AnsibleFilterError, match="expected kubectl JSON output"):
        cluster_checks.ready_node_names("not json")


def test_kubernetes_quantities() -> None:
    assert spark_wordcount_fit.cpu_millis("250m") == 250 and spark_wordcount_fit.cpu_millis("1.5") == 1500
    assert spark_wordcount_fit.memory_bytes("128Mi") == 128 * 2**20
    with pytest.raises(ValueError, match="not a memory quantity"):
        spark_wordcount_fit.memory_bytes("12 parsecs")


def test_hourly_cost_refuses_nothing() -> None:
    with pytest.raises(AnsibleFilterError, match="expected instance types"):
        hourly_cost.hourly_cost(None, 30)
