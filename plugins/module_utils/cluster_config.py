"""The sparklab cluster configuration contract: one schema, one validator.

Every cluster-wide input is a ``cluster_*`` variable. This module is the only place that lists
them (name, type, default, check, one-line fix). It is pure Python with no Ansible import so
that ``runner.py`` can load it by file path and validate a configuration before Ansible starts.

``validate(config)`` returns ``(resolved, warnings)`` or raises ``ConfigError`` whose message is
a single line naming the key and the fix.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

CHECKIP_URL_ENV = "SPARKLAB_CHECKIP_URL"
CHECKIP_URL_DEFAULT = "https://checkip.amazonaws.com"
HOME_ENV = "SPARKLAB_HOME"
HOME_DEFAULT = "~/.sparklab"
DERIVED_KEYS = (
    "cluster_home", "cluster_state_dir", "cluster_runs_dir", "cluster_admin_cidrs_effective",
    "cluster_job_app_name_prefix", "cluster_job_result_prefix", "cluster_job_run_id_pattern",
)
# Names shared by runner.py (sparklab/) and the roles; each is defined here only. The roles read
# them as the derived facts above; runner.py loads this file by path.
RUNS_DIR = "runs"  # <cluster_state_dir>/runs/<run folder>/
# A run id: UTC time plus 4 random hex digits, sortable and DNS-safe (20261127-093000-3fa2).
# A WordCount run's folder is its run id; a run of Ansible only adds the verb: <run id>-<verb>.
RUN_ID_PATTERN = r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$"
RUN_FOLDER_PATTERN = r"^(?P<run_id>[0-9]{8}-[0-9]{6}-[0-9a-f]{4})(?:-(?P<verb>[a-z]+))?$"
JOB_APP_NAME_PREFIX = "wordcount-"  # SparkApplication name: <prefix><run id>
# The WordCount driver prints its result as one line "<prefix> {json}" (errors: JOB_ERROR_PREFIX).
JOB_RESULT_PREFIX = "SPARKLAB_RESULT"
JOB_ERROR_PREFIX = "SPARKLAB_ERROR"

# Control-plane floor: kubeadm's preflight wants 2 vCPU and 1.7 GiB; sparklab also runs its
# add-ons (and with cluster_worker_count 0 the Spark job) there, so 2 GiB machines are refused.
CONTROL_PLANE_MIN_VCPU = 2
CONTROL_PLANE_MIN_MEM_GIB = 3.5
WORKER_MIN_VCPU = 2
WORKER_MIN_MEM_GIB = 2.0

# (vCPU, memory GiB) of common x86_64 types; used offline. Unknown types pass here and are
# checked against DescribeInstanceTypes by the provisioning play.
INSTANCE_TYPES: dict[str, tuple[int, float]] = {
    "t2.nano": (1, 0.5),
    "t2.micro": (1, 1.0),
    "t2.small": (1, 2.0),
    "t2.medium": (2, 4.0),
    "t2.large": (2, 8.0),
    "t2.xlarge": (4, 16.0),
    "t2.2xlarge": (8, 32.0),
    "t3.nano": (2, 0.5),
    "t3.micro": (2, 1.0),
    "t3.small": (2, 2.0),
    "t3.medium": (2, 4.0),
    "t3.large": (2, 8.0),
    "t3.xlarge": (4, 16.0),
    "t3.2xlarge": (8, 32.0),
    "t3a.nano": (2, 0.5),
    "t3a.micro": (2, 1.0),
    "t3a.small": (2, 2.0),
    "t3a.medium": (2, 4.0),
    "t3a.large": (2, 8.0),
    "t3a.xlarge": (4, 16.0),
    "t3a.2xlarge": (8, 32.0),
    "m5.large": (2, 8.0),
    "m5.xlarge": (4, 16.0),
    "m5.2xlarge": (8, 32.0),
    "m6i.large": (2, 8.0),
    "m6i.xlarge": (4, 16.0),
    "m6i.2xlarge": (8, 32.0),
    "m7i.large": (2, 8.0),
    "m7i.xlarge": (4, 16.0),
    "m7i-flex.large": (2, 8.0),
    "c5.large": (2, 4.0),
    "c5.xlarge": (4, 8.0),
    "c6i.large": (2, 4.0),
    "c6i.xlarge": (4, 8.0),
    "c7i.large": (2, 4.0),
    "c7i.xlarge": (4, 8.0),
    "r5.large": (2, 16.0),
    "r5.xlarge": (4, 32.0),
    "r6i.large": (2, 16.0),
    "r6i.xlarge": (4, 32.0),
}

_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
# Folders under SPARKLAB_HOME that are not clusters: `runner.py wordcount --local` keeps its runs in
# $SPARKLAB_HOME/local/, so a cluster of that name would share them.
LOCAL_RUNS_DIR = "local"
RESERVED_NAMES = (LOCAL_RUNS_DIR,)
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
_ITYPE_RE = re.compile(r"^([a-z]+[0-9]+[a-z0-9-]*)\.([0-9]*[a-z]+[0-9]*)$")
_AMI_RE = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
_K8S_RE = re.compile(r"^1\.[0-9]{2}\.[0-9]+$")
_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


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
    check: Callable[[Any, dict[str, Any]], str | None] | None = None
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_name(value: str, _cfg: dict[str, Any]) -> str | None:
    if not _NAME_RE.match(value):
        return "must match ^[a-z][a-z0-9-]{0,23}$ (lowercase letter first, at most 24 characters)"
    if value.endswith("-") or "--" in value:
        return "must not end with '-' or contain '--'"
    if value in RESERVED_NAMES:
        return f"'{value}' is reserved (the folder of `wordcount --local` runs); choose another name"
    return None


def _check_region(value: str, _cfg: dict[str, Any]) -> str | None:
    return None if _REGION_RE.match(value) else "is not an AWS region name like eu-west-1"


def _is_arm(itype: str) -> bool:
    family = itype.split(".", 1)[0]
    suffix = re.sub(r"^[a-z]+[0-9]+", "", family)
    return family.startswith("a1") or "g" in suffix


def _instance_type_check(min_vcpu: int, min_mem: float) -> Callable[[Any, dict[str, Any]], str | None]:
    def check(value: str, _cfg: dict[str, Any]) -> str | None:
        if not _ITYPE_RE.match(value):
            return "is not an EC2 instance type like t3.medium"
        if _is_arm(value):
            return "is an arm64 (Graviton) type; the Ubuntu image is amd64"
        spec = INSTANCE_TYPES.get(value)
        if spec and (spec[0] < min_vcpu or spec[1] < min_mem):
            have = f"{value} has {spec[0]} vCPU / {spec[1]:g} GiB"
            return f"{have}, needs at least {min_vcpu} vCPU / {min_mem:g} GiB"
        return None

    return check


def _parse_cidr(value: str) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return None
    return net if isinstance(net, ipaddress.IPv4Network) else None


# Admin CIDRs that together cover more addresses than one /8 count as "the whole internet":
# 0.0.0.0/1 + 128.0.0.0/1 is 0.0.0.0/0 written twice.
ADMIN_MAX_ADDRESSES = 2**24


def admin_address_count(value: list[Any]) -> int:
    """Addresses covered by the union of the valid IPv4 CIDRs in ``value`` (overlaps counted once)."""
    nets = [n for n in (_parse_cidr(str(item)) for item in value) if n is not None]
    return sum(n.num_addresses for n in ipaddress.collapse_addresses(nets))


def check_admin_cidrs(value: list[Any], allow_world: bool) -> str | None:
    """The problem with a list of admin CIDRs, or None (shared with the aws_security_group role)."""
    if not isinstance(value, list):
        return f"{_short(value)} is not a list of IPv4 CIDRs"
    for item in value:
        if _parse_cidr(str(item)) is None:
            return f"{_short(item)} is not an IPv4 CIDR with host bits zero, like 203.0.113.7/32"
    total = admin_address_count(value)
    if total > ADMIN_MAX_ADDRESSES and not allow_world:
        return (
            f"{', '.join(str(v) for v in value)} cover {total} addresses (more than a /8) and would open SSH,"
            " the API server and the dashboards to the whole internet;"
            " refused unless cluster_allow_world_admin_access: true"
        )
    return None


def strict_bool(value: Any) -> bool | None:
    """``value`` as a boolean (True/False, or a string such as ``"false"`` from ``-e``), else None.

    ``bool("false")`` is True: a flag that guards world access is never read that way.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


# A public admin CIDR wider than this (a /16) is allowed but warned about: it opens SSH and the API
# server to far more machines than an office or a home.
ADMIN_WIDE_PUBLIC_ADDRESSES = 2**16


def wide_public_cidrs(value: list[Any]) -> list[str]:
    """The public (globally routable) IPv4 CIDRs of ``value`` wider than a /16."""
    nets = [n for n in (_parse_cidr(str(item)) for item in value) if n is not None]
    return [str(n) for n in nets if n.num_addresses > ADMIN_WIDE_PUBLIC_ADDRESSES and n.is_global]


def _check_admin_cidrs(value: list[Any], cfg: dict[str, Any]) -> str | None:
    return check_admin_cidrs(value, strict_bool(cfg.get("cluster_allow_world_admin_access")) is True)


def _check_distinct_port(other_key: str) -> Callable[[Any, dict[str, Any]], str | None]:
    def check(value: int, cfg: dict[str, Any]) -> str | None:
        if value == cfg.get(other_key):
            return f"is the same port as {other_key}"
        return None

    return check


def _check_private_cidr(minimum: int, maximum: int) -> Callable[[Any, dict[str, Any]], str | None]:
    def check(value: str, _cfg: dict[str, Any]) -> str | None:
        net = _parse_cidr(value)
        if net is None:
            return "is not an IPv4 CIDR with host bits zero"
        if not net.is_private:
            return "must be a private (RFC 1918) range"
        if not minimum <= net.prefixlen <= maximum:
            return f"prefix length must be /{minimum} to /{maximum}"
        return None

    return check


def _check_subnet(value: str, cfg: dict[str, Any]) -> str | None:
    base = _check_private_cidr(16, 28)(value, cfg)
    if base:
        return base
    vpc = _parse_cidr(str(cfg.get("cluster_vpc_cidr", "")))
    if vpc is not None and not _parse_cidr(value).subnet_of(vpc):  # type: ignore[union-attr]
        return f"must lie inside cluster_vpc_cidr {vpc}"
    return None


def _check_pod_service(other_key: str) -> Callable[[Any, dict[str, Any]], str | None]:
    def check(value: str, cfg: dict[str, Any]) -> str | None:
        base = _check_private_cidr(8, 24)(value, cfg)
        if base:
            return base
        net = _parse_cidr(value)
        for key in ("cluster_vpc_cidr", other_key):
            other = _parse_cidr(str(cfg.get(key, "")))
            if other is not None and net is not None and net.overlaps(other):
                return f"overlaps {key} {other}"
        return None

    return check


def _regex_check(
    pattern: re.Pattern[str], what: str, allow_empty: bool = False
) -> Callable[[Any, dict[str, Any]], str | None]:
    def check(value: str, _cfg: dict[str, Any]) -> str | None:
        if allow_empty and value == "":
            return None
        return None if pattern.match(value) else f"must be {what}"

    return check


SCHEMA: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "cluster_name",
            "str",
            None,
            "Identity of the cluster inside an AWS account and region.",
            "set cluster_name: spark-lab in cluster.yml",
            _check_name,
            required=True,
        ),
        Key(
            "cluster_aws_region",
            "str",
            "eu-west-1",
            "AWS region for every resource.",
            "set cluster_aws_region: eu-west-1",
            _check_region,
        ),
        Key(
            "cluster_admin_cidrs",
            "list",
            [],
            "IPv4 CIDRs allowed to reach SSH, the API server and the "
            "dashboard; empty = the caller's public IPv4 /32, detected at run time.",
            "set cluster_admin_cidrs: ['203.0.113.7/32'] (your public IP)",
            _check_admin_cidrs,
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
            _instance_type_check(CONTROL_PLANE_MIN_VCPU, CONTROL_PLANE_MIN_MEM_GIB),
        ),
        Key(
            "cluster_worker_instance_type",
            "str",
            "t3.large",
            "Instance type of the workers.",
            "set cluster_worker_instance_type: t3.large",
            _instance_type_check(WORKER_MIN_VCPU, WORKER_MIN_MEM_GIB),
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
            _regex_check(_AMI_RE, "empty or an AMI id like ami-0123456789abcdef0", allow_empty=True),
        ),
        Key(
            "cluster_vpc_cidr",
            "str",
            "10.42.0.0/16",
            "CIDR of the cluster's own VPC.",
            "set cluster_vpc_cidr: 10.42.0.0/16",
            _check_private_cidr(16, 28),
        ),
        Key(
            "cluster_subnet_cidr",
            "str",
            "10.42.0.0/24",
            "CIDR of the public subnet (inside the VPC).",
            "set cluster_subnet_cidr: 10.42.0.0/24",
            _check_subnet,
        ),
        Key(
            "cluster_kubernetes_version",
            "str",
            "1.37.1",
            "Kubernetes version (full patch release).",
            "set cluster_kubernetes_version: 1.37.1",
            _regex_check(_K8S_RE, "a full version like 1.37.1"),
        ),
        Key(
            "cluster_pod_cidr",
            "str",
            "10.244.0.0/16",
            "Pod network (Flannel's default).",
            "set cluster_pod_cidr: 10.244.0.0/16",
            _check_pod_service("cluster_service_cidr"),
        ),
        Key(
            "cluster_service_cidr",
            "str",
            "10.96.0.0/12",
            "Service network.",
            "set cluster_service_cidr: 10.96.0.0/12",
            _check_pod_service("cluster_pod_cidr"),
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
            _check_distinct_port("cluster_dashboard_node_port"),
            minimum=30000,
            maximum=32767,
        ),
        Key(
            "cluster_ssh_user",
            "str",
            "ubuntu",
            "Login user of the image.",
            "set cluster_ssh_user: ubuntu",
            _regex_check(_USER_RE, "a Linux user name"),
        ),
        Key(
            "cluster_spark_namespace",
            "str",
            "spark-jobs",
            "Namespace the Spark job runs in.",
            "set cluster_spark_namespace: spark-jobs",
            _regex_check(_DNS_LABEL_RE, "a DNS label"),
        ),
    )
}


def _coerce(key: Key, value: Any) -> Any:
    """Return ``value`` as the key's type; strings from ``-e key=value`` are accepted."""
    if key.kind == "str":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConfigError(key.name, f"must be a string, got {_short(value)}", key.fix)
        return str(value).strip()
    if key.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ConfigError(key.name, f"must be true or false, got {_short(value)}", key.fix)
    if key.kind == "int":
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
            number = int(value)
        if number is None or not key.minimum <= number <= key.maximum:  # type: ignore[operator]
            raise ConfigError(
                key.name, f"must be an integer {key.minimum}..{key.maximum}, got {_short(value)}", key.fix
            )
        return number
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(key.name, f"must be a list, got {_short(value)}", key.fix)
    return list(value)


def sparklab_home(environ: dict[str, str] | None = None) -> str:
    """The state root: ``$SPARKLAB_HOME`` or ``~/.sparklab``, with ``~`` expanded, absolute."""
    env = os.environ if environ is None else environ
    return os.path.abspath(os.path.expanduser(env.get(HOME_ENV) or HOME_DEFAULT))


REGION_FILE = "region"  # <cluster_state_dir>/region: the region the folder belongs to


def cluster_dir(home: str, name: str, region: str = "") -> str:
    """The state folder of cluster ``name`` in ``region`` under ``home``: one per name and region.

    ``<home>/<name>`` belongs to the region its ``region`` file records; a folder without one (new,
    or written before regions were recorded) is taken by the region that asks. Any other region of
    the same name has ``<home>/<name>@<region>`` (``@`` is never part of a name) beside it.
    """
    first = os.path.join(home, name)
    try:
        with open(os.path.join(first, REGION_FILE), encoding="utf-8") as handle:
            recorded = handle.read().strip()
    except OSError:
        recorded = ""
    if not region or not recorded or recorded == region:
        return first
    return os.path.join(home, f"{name}@{region}")


def state_dir(name: str, environ: dict[str, str] | None = None, region: str = "") -> tuple[str, str]:
    """Return (cluster_home, cluster_state_dir) for a cluster name in a region (see cluster_dir)."""
    home = sparklab_home(environ)
    return home, cluster_dir(home, name, region)


def new_run_id(now: float | None = None) -> str:
    """A new run id (see RUN_ID_PATTERN) for the UTC time ``now`` (default: the current time)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


def run_folder_name(run_id: str, verb: str = "") -> str:
    """The folder of a run under RUNS_DIR: the run id, plus ``-<verb>`` for a run of Ansible only."""
    if not re.match(RUN_ID_PATTERN, run_id):
        raise ValueError(f"invalid run id {run_id!r}: expected YYYYMMDD-HHMMSS-xxxx")
    return f"{run_id}-{verb}" if verb else run_id


def read_driver_log(lines: Iterable[str]) -> dict[str, Any]:
    """What the WordCount driver reported in its log, for the role and for runner.py alike.

    The result is the JSON object of the last ``JOB_RESULT_PREFIX`` line; the error, the ``error``
    of the last ``JOB_ERROR_PREFIX`` line (its text when it is not JSON). Returns ``{"result": dict
    or None, "error": str or None, "problem": ""}``, ``problem`` saying in one line why there is no
    result when there is none.
    """
    result_line = error_line = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(JOB_RESULT_PREFIX + " "):
            result_line = stripped[len(JOB_RESULT_PREFIX) + 1 :]
        elif stripped.startswith(JOB_ERROR_PREFIX + " "):
            error_line = stripped[len(JOB_ERROR_PREFIX) + 1 :]
    error = None
    if error_line is not None:
        try:
            parsed = json.loads(error_line)
        except ValueError:
            parsed = None
        error = str(parsed.get("error", error_line)) if isinstance(parsed, dict) else error_line
    found: dict[str, Any] = {"result": None, "error": error, "problem": ""}
    if result_line is None:
        found["problem"] = (f"the job failed: {error}" if error is not None
                            else f"no {JOB_RESULT_PREFIX} line in the driver log: the job did not finish")
        return found
    try:
        result = json.loads(result_line)
    except ValueError as err:
        found["problem"] = f"unreadable {JOB_RESULT_PREFIX} line: {err}"
        return found
    if not isinstance(result, dict):
        found["problem"] = f"unreadable {JOB_RESULT_PREFIX} line: not a JSON object"
        return found
    found["result"] = result
    return found


# How alike a mistyped key must be to a real one to be suggested (difflib's ratio, without the
# shared cluster_ prefix, which would make any two keys look alike).
SUGGEST_CUTOFF = 0.75


def closest_key(name: str) -> str | None:
    """The configuration key ``name`` (with or without ``cluster_``) was probably meant to be, if close."""
    bare = {key[len("cluster_"):]: key for key in SCHEMA}
    close = difflib.get_close_matches(name.removeprefix("cluster_"), list(bare), n=1, cutoff=SUGGEST_CUTOFF)
    return bare[close[0]] if close else None


def _unknown_key_error(name: str) -> ConfigError:
    close = closest_key(name)
    fix = f"did you mean {close}?" if close else "remove it; see cluster.example.yml for every key"
    return ConfigError(name, "unknown configuration key", fix)


def validate(
    config: dict[str, Any], environ: dict[str, str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Check every ``cluster_*`` key, fill defaults and derived values.

    Returns ``(resolved, warnings)``; raises ``ConfigError`` (one line) on the first mistake.
    Keys that do not start with ``cluster_`` are ignored. No network access happens here.
    """
    if not isinstance(config, dict):
        raise ConfigError("cluster.yml", "must be a mapping of cluster_* keys", "see cluster.example.yml")
    given = {k: v for k, v in config.items() if isinstance(k, str) and k.startswith("cluster_")}
    for name in sorted(given):
        if name in DERIVED_KEYS:
            raise ConfigError(name, "is computed by sparklab and cannot be set",
                              f"remove it; {HOME_ENV} moves the state, cluster_admin_cidrs sets admin access")
        if name not in SCHEMA:
            raise _unknown_key_error(name)

    resolved: dict[str, Any] = {}
    for key in SCHEMA.values():
        if key.name not in given or given[key.name] is None:
            if key.required:
                raise ConfigError(key.name, "is required", key.fix)
            default = key.default
            resolved[key.name] = list(default) if isinstance(default, list) else default
        else:
            resolved[key.name] = _coerce(key, given[key.name])
    # The keys the user set are checked first: a conflict is blamed on what the user wrote.
    for key in sorted(SCHEMA.values(), key=lambda k: k.name not in given):
        if key.check is not None:
            problem = key.check(resolved[key.name], resolved)
            if problem:
                raise ConfigError(key.name, f"{problem}, got {_short(resolved[key.name])}", key.fix)

    home, state = state_dir(resolved["cluster_name"], environ, resolved["cluster_aws_region"])
    derived = {"cluster_home": home, "cluster_state_dir": state,
               "cluster_runs_dir": os.path.join(state, RUNS_DIR),
               "cluster_job_app_name_prefix": JOB_APP_NAME_PREFIX,
               "cluster_job_result_prefix": JOB_RESULT_PREFIX,
               "cluster_job_run_id_pattern": RUN_ID_PATTERN}
    resolved.update(derived)
    resolved["cluster_admin_cidrs_effective"] = list(resolved["cluster_admin_cidrs"])
    return resolved, _warnings(resolved)


def _warnings(resolved: dict[str, Any]) -> list[str]:
    warnings: list[str] = []
    wide = wide_public_cidrs(resolved["cluster_admin_cidrs"])
    if wide and admin_address_count(resolved["cluster_admin_cidrs"]) <= ADMIN_MAX_ADDRESSES:
        warnings.append(
            f"cluster_admin_cidrs: {', '.join(wide)} is a public range of more than 65536 addresses;"
            " SSH, the Kubernetes API and the dashboards open to all of them"
            " (a /32, or your office's range, is enough)"
        )
    if admin_address_count(resolved["cluster_admin_cidrs"]) > ADMIN_MAX_ADDRESSES:
        warnings.append(
            "cluster_allow_world_admin_access: SSH (22), the Kubernetes API (6443), the dashboard "
            f"({resolved['cluster_dashboard_node_port']}) and the Spark UI "
            f"({resolved['cluster_spark_ui_node_port']})"
            " will be reachable from THE WHOLE INTERNET"
        )
    if resolved["cluster_ttl_hours"] == 0:
        warnings.append(
            "cluster_ttl_hours: 0 disables the self-destruct timer; the nodes run and cost money "
            "until you run teardown"
        )
    return warnings


def detect_admin_cidr(url: str | None = None, timeout: float = 5.0) -> str:
    """Return the caller's public IPv4 as a /32, from a what-is-my-IP service.

    The service URL comes from ``SPARKLAB_CHECKIP_URL`` (tests point it at 127.0.0.1).
    """
    url = url or os.environ.get(CHECKIP_URL_ENV) or CHECKIP_URL_DEFAULT
    fix = "set cluster_admin_cidrs: ['<your public IPv4>/32'] in cluster.yml"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            text = response.read(64).decode("ascii", "replace").strip()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            "cluster_admin_cidrs", f"is empty and detecting your public IPv4 at {url} failed ({reason})", fix
        ) from None
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        raise ConfigError(
            "cluster_admin_cidrs", f"is empty and {url} answered {_short(text)}, not an IPv4 address", fix
        ) from None
    return f"{address}/32"


def resolve_admin_cidrs(resolved: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    """Fill ``cluster_admin_cidrs_effective`` (detects the caller's /32 when the list is empty)."""
    if not resolved["cluster_admin_cidrs"]:
        resolved["cluster_admin_cidrs_effective"] = [detect_admin_cidr(url)]
    return resolved


def example_yaml() -> str:
    """Render the commented example configuration from the schema (used by a test)."""
    lines = ["---", "# sparklab cluster configuration: every key with its default."]
    for key in SCHEMA.values():
        lines.append(f"# {key.doc}")
        value = "spark-lab" if key.required else key.default
        lines.append(f"{key.name}: {_yaml_scalar(value)}")
    return "\n".join(lines) + "\n"


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return f'"{value}"'
