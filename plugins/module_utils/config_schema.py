"""The configuration keys: every ``cluster_*`` input with its type, default, check and fix.

This is the only list of them; ``cluster_config.validate`` applies it, runner.py's flags and the
documentation's tables are read from it. Standard library only, no Ansible import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config_checks import (
    AMI_RE,
    DNS_LABEL_RE,
    K8S_VERSION_RE,
    USER_RE,
    Check,
    check_admin_cidrs_key,
    check_distinct_port,
    check_name,
    check_pod_service,
    check_private_cidr,
    check_region,
    check_subnet,
    instance_type_check,
    regex_check,
)
from .instance_types import (
    CONTROL_PLANE_MIN_MEM_GIB,
    CONTROL_PLANE_MIN_VCPU,
    WORKER_MIN_MEM_GIB,
    WORKER_MIN_VCPU,
)


class ConfigError(ValueError):
    """A configuration mistake the user can fix; ``str()`` is one line."""

    def __init__(self, key: str, problem: str, fix: str) -> None:
        self.key = key
        self.problem = problem
        self.fix = fix
        super().__init__(f"{key}: {problem} (fix: {fix})")


@dataclass(frozen=True)
class Key:
    """One configuration key: its type, default, check and the fix shown when it is wrong."""

    name: str
    kind: str  # str | int | bool | list
    default: Any
    doc: str
    fix: str
    check: Check | None = None
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False


SCHEMA: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "cluster_name",
            "str",
            None,
            "Identity of the cluster inside an AWS account and region.",
            "set cluster_name: spark-lab in cluster.yml",
            check_name,
            required=True,
        ),
        Key(
            "cluster_aws_region",
            "str",
            "eu-west-1",
            "AWS region for every resource.",
            "set cluster_aws_region: eu-west-1",
            check_region,
        ),
        Key(
            "cluster_admin_cidrs",
            "list",
            [],
            "IPv4 CIDRs allowed to reach SSH, the API server and the "
            "dashboard; empty = the caller's public IPv4 /32, detected at run time.",
            "set cluster_admin_cidrs: ['203.0.113.7/32'] (your public IP)",
            check_admin_cidrs_key,
        ),
        Key(
            "cluster_allow_world_admin_access",
            "bool",
            False,
            "DANGER: allow /0 in cluster_admin_cidrs.",
            "set cluster_allow_world_admin_access: false",
        ),
        Key(
            "cluster_control_plane_instance_type",
            "str",
            "t3.medium",
            "Instance type of the control plane.",
            "set cluster_control_plane_instance_type: t3.medium",
            instance_type_check(CONTROL_PLANE_MIN_VCPU, CONTROL_PLANE_MIN_MEM_GIB),
        ),
        Key(
            "cluster_worker_instance_type",
            "str",
            "t3.large",
            "Instance type of the workers.",
            "set cluster_worker_instance_type: t3.large",
            instance_type_check(WORKER_MIN_VCPU, WORKER_MIN_MEM_GIB),
        ),
        Key(
            "cluster_worker_count",
            "int",
            2,
            "Number of workers (0: everything runs on the control plane).",
            "set cluster_worker_count: 2",
            minimum=0,
            maximum=50,
        ),
        Key(
            "cluster_root_volume_gib",
            "int",
            30,
            "Size of each node's encrypted gp3 root volume.",
            "set cluster_root_volume_gib: 30",
            minimum=20,
            maximum=1024,
        ),
        Key(
            "cluster_ttl_hours",
            "int",
            8,
            "Hours until every node powers itself off and terminates (0 disables the safety net).",
            "set cluster_ttl_hours: 8",
            minimum=0,
            maximum=168,
        ),
        Key(
            "cluster_ami_id",
            "str",
            "",
            "AMI override; empty = Canonical's current Ubuntu 24.04 amd64.",
            "set cluster_ami_id: '' to use the current Ubuntu 24.04 image",
            regex_check(AMI_RE, "empty or an AMI id like ami-0123456789abcdef0", allow_empty=True),
        ),
        Key(
            "cluster_vpc_cidr",
            "str",
            "10.42.0.0/16",
            "CIDR of the cluster's own VPC.",
            "set cluster_vpc_cidr: 10.42.0.0/16",
            check_private_cidr(16, 28),
        ),
        Key(
            "cluster_subnet_cidr",
            "str",
            "10.42.0.0/24",
            "CIDR of the public subnet (inside the VPC).",
            "set cluster_subnet_cidr: 10.42.0.0/24",
            check_subnet,
        ),
        Key(
            "cluster_kubernetes_version",
            "str",
            "1.37.1",
            "Kubernetes version (full patch release).",
            "set cluster_kubernetes_version: 1.37.1",
            regex_check(K8S_VERSION_RE, "a full version like 1.37.1"),
        ),
        Key(
            "cluster_pod_cidr",
            "str",
            "10.244.0.0/16",
            "Pod network (Flannel's default).",
            "set cluster_pod_cidr: 10.244.0.0/16",
            check_pod_service("cluster_service_cidr"),
        ),
        Key(
            "cluster_service_cidr",
            "str",
            "10.96.0.0/12",
            "Service network.",
            "set cluster_service_cidr: 10.96.0.0/12",
            check_pod_service("cluster_pod_cidr"),
        ),
        Key(
            "cluster_dashboard_node_port",
            "int",
            30080,
            "NodePort of the kube-opex-analytics dashboard.",
            "set cluster_dashboard_node_port: 30080",
            minimum=30000,
            maximum=32767,
        ),
        Key(
            "cluster_spark_ui_node_port",
            "int",
            30040,
            "NodePort of the running job's Spark UI (opened to the admin CIDRs only).",
            "set cluster_spark_ui_node_port: 30040",
            check_distinct_port("cluster_dashboard_node_port"),
            minimum=30000,
            maximum=32767,
        ),
        Key(
            "cluster_ssh_user",
            "str",
            "ubuntu",
            "Login user of the image.",
            "set cluster_ssh_user: ubuntu",
            regex_check(USER_RE, "a Linux user name"),
        ),
        Key(
            "cluster_spark_namespace",
            "str",
            "spark-jobs",
            "Namespace the Spark job runs in.",
            "set cluster_spark_namespace: spark-jobs",
            regex_check(DNS_LABEL_RE, "a DNS label"),
        ),
    )
}
