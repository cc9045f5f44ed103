"""Admin CIDRs are judged by the total address space they cover; the Spark UI NodePort key."""

from __future__ import annotations

import pytest

from sparklab.config.load import schema
from sparklab.core.contract import module_utils

cc = schema()  # plugins/module_utils/cluster_config.py
checks = module_utils("config_checks")  # the rule of the keys and of the security-group role


@pytest.mark.parametrize(
    "cidrs",
    [
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
        ["10.0.0.0/7"],
        ["11.0.0.0/8", "12.0.0.0/8"],
    ],
)
def test_admin_cidrs_covering_more_than_a_slash_8_are_refused(cidrs: list[str]) -> None:
    with pytest.raises(cc.ConfigError) as err:
        cc.validate({"cluster_name": "a", "cluster_admin_cidrs": cidrs})
    message = str(err.value)
    assert message.startswith("cluster_admin_cidrs: ") and "whole internet" in message
    assert "cluster_allow_world_admin_access: true" in message and "\n" not in message


def test_overlapping_cidrs_are_counted_once_and_a_slash_8_passes() -> None:
    resolved, warnings = cc.validate(
        {"cluster_name": "a", "cluster_admin_cidrs": ["10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9"]}
    )
    assert checks.admin_address_count(resolved["cluster_admin_cidrs"]) == 2**24
    assert warnings == []


def test_split_world_is_allowed_only_with_the_override_and_then_warns() -> None:
    _, warnings = cc.validate(
        {
            "cluster_name": "a",
            "cluster_admin_cidrs": ["0.0.0.0/1", "128.0.0.0/1"],
            "cluster_allow_world_admin_access": True,
        }
    )
    assert any("WHOLE INTERNET" in w and "Spark UI (30040)" in w for w in warnings)


def test_check_admin_cidrs_is_the_rule_the_security_group_role_applies() -> None:
    assert checks.check_admin_cidrs(["203.0.113.7/32"], False) is None
    assert "whole internet" in checks.check_admin_cidrs(["0.0.0.0/0"], False)
    assert checks.check_admin_cidrs(["0.0.0.0/0"], True) is None
    assert "not an IPv4 CIDR" in checks.check_admin_cidrs(["10.0.0.1/8"], False)
    assert "not a list" in checks.check_admin_cidrs("0.0.0.0/0", False)


def test_spark_ui_node_port_defaults_to_30040_and_must_differ_from_the_dashboard() -> None:
    resolved, _ = cc.validate({"cluster_name": "a"})
    assert resolved["cluster_spark_ui_node_port"] == 30040
    for value, problem in ((30080, "same port as cluster_dashboard_node_port"), (8080, ""), (32768, "")):
        with pytest.raises(cc.ConfigError) as err:
            cc.validate({"cluster_name": "a", "cluster_spark_ui_node_port": value})
        message = str(err.value)
        assert message.startswith("cluster_spark_ui_node_port: ") and "(fix: " in message
        assert problem in message
