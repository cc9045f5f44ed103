"""The checks of the configuration keys: each takes a value and the whole configuration, and returns
the problem in a few words, or None.

``check_admin_cidrs`` and ``strict_bool`` are also the rule of the ``aws_admin_cidr_problem``
filter that the security-group role applies. Standard library only, no Ansible import.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from .cluster_names import LOCAL_RUNS_DIR
from .instance_types import instance_type_problem

Check = Callable[[Any, dict[str, Any]], "str | None"]

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
# Folders under SPARKLAB_HOME that are not clusters (the runs of `wordcount --local`).
RESERVED_NAMES = (LOCAL_RUNS_DIR,)
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
AMI_RE = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
K8S_VERSION_RE = re.compile(r"^1\.[0-9]{2}\.[0-9]+$")
USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
TRUE_WORDS = frozenset(("true", "yes", "on", "1"))
FALSE_WORDS = frozenset(("false", "no", "off", "0"))
# Admin CIDRs that together cover more addresses than one /8 count as "the whole internet":
# 0.0.0.0/1 + 128.0.0.0/1 is 0.0.0.0/0 written twice.
ADMIN_MAX_ADDRESSES = 2**24
# A public admin CIDR wider than this (a /16) is allowed but warned about: it opens SSH and the API
# server to far more machines than an office or a home.
ADMIN_WIDE_PUBLIC_ADDRESSES = 2**16


def short_repr(value: Any) -> str:
    """``repr(value)``, cut to 60 characters for a one-line message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def strict_bool(value: Any) -> bool | None:
    """``value`` as a boolean (True/False, or a string such as ``"false"`` from ``-e``), else None.

    ``bool("false")`` is True: a flag that guards world access is never read that way.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    return None


def check_name(value: str, _cfg: dict[str, Any]) -> str | None:
    if not NAME_RE.match(value):
        return "must match ^[a-z][a-z0-9-]{0,23}$ (lowercase letter first, at most 24 characters)"
    if value.endswith("-") or "--" in value:
        return "must not end with '-' or contain '--'"
    if value in RESERVED_NAMES:
        return f"'{value}' is reserved (the folder of `wordcount --local` runs); choose another name"
    return None


def check_region(value: str, _cfg: dict[str, Any]) -> str | None:
    return None if REGION_RE.match(value) else "is not an AWS region name like eu-west-1"


def instance_type_check(min_vcpu: int, min_mem: float) -> Check:
    def check(value: str, _cfg: dict[str, Any]) -> str | None:
        return instance_type_problem(value, min_vcpu, min_mem)

    return check


def parse_cidr(value: str) -> ipaddress.IPv4Network | None:
    """``value`` as an IPv4 network with host bits zero, else None."""
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return None
    return net if isinstance(net, ipaddress.IPv4Network) else None


def admin_address_count(value: list[Any]) -> int:
    """Addresses covered by the union of the valid IPv4 CIDRs in ``value`` (overlaps counted once)."""
    nets = [n for n in (parse_cidr(str(item)) for item in value) if n is not None]
    return sum(n.num_addresses for n in ipaddress.collapse_addresses(nets))


def check_admin_cidrs(value: list[Any], allow_world: bool) -> str | None:
    """The problem with a list of admin CIDRs, or None (shared with the aws_security_group role)."""
    if not isinstance(value, list):
        return f"{short_repr(value)} is not a list of IPv4 CIDRs"
    for item in value:
        if parse_cidr(str(item)) is None:
            return f"{short_repr(item)} is not an IPv4 CIDR with host bits zero, like 203.0.113.7/32"
    total = admin_address_count(value)
    if total > ADMIN_MAX_ADDRESSES and not allow_world:
        return (
            f"{', '.join(str(v) for v in value)} cover {total} addresses (more than a /8) and would open SSH,"
            " the API server and the dashboards to the whole internet;"
            " refused unless cluster_allow_world_admin_access: true"
        )
    return None


def wide_public_cidrs(value: list[Any]) -> list[str]:
    """The public (globally routable) IPv4 CIDRs of ``value`` wider than a /16."""
    nets = [n for n in (parse_cidr(str(item)) for item in value) if n is not None]
    return [str(n) for n in nets if n.num_addresses > ADMIN_WIDE_PUBLIC_ADDRESSES and n.is_global]


def check_admin_cidrs_key(value: list[Any], cfg: dict[str, Any]) -> str | None:
    """``cluster_admin_cidrs``, with world access as ``cluster_allow_world_admin_access`` says."""
    return check_admin_cidrs(value, strict_bool(cfg.get("cluster_allow_world_admin_access")) is True)


def check_distinct_port(other_key: str) -> Check:
    def check(value: int, cfg: dict[str, Any]) -> str | None:
        if value == cfg.get(other_key):
            return f"is the same port as {other_key}"
        return None

    return check


def check_private_cidr(minimum: int, maximum: int) -> Check:
    def check(value: str, _cfg: dict[str, Any]) -> str | None:
        net = parse_cidr(value)
        if net is None:
            return "is not an IPv4 CIDR with host bits zero"
        if not net.is_private:
            return "must be a private (RFC 1918) range"
        if not minimum <= net.prefixlen <= maximum:
            return f"prefix length must be /{minimum} to /{maximum}"
        return None

    return check


def check_subnet(value: str, cfg: dict[str, Any]) -> str | None:
    base = check_private_cidr(16, 28)(value, cfg)
    if base:
        return base
    vpc = parse_cidr(str(cfg.get("cluster_vpc_cidr", "")))
    if vpc is not None and not parse_cidr(value).subnet_of(vpc):  # type: ignore[union-attr]
        return f"must lie inside cluster_vpc_cidr {vpc}"
    return None


def check_pod_service(other_key: str) -> Check:
    def check(value: str, cfg: dict[str, Any]) -> str | None:
        base = check_private_cidr(8, 24)(value, cfg)
        if base:
            return base
        net = parse_cidr(value)
        for key in ("cluster_vpc_cidr", other_key):
            other = parse_cidr(str(cfg.get(key, "")))
            if other is not None and net is not None and net.overlaps(other):
                return f"overlaps {key} {other}"
        return None

    return check


def regex_check(pattern: re.Pattern[str], what: str, allow_empty: bool = False) -> Check:
    def check(value: str, _cfg: dict[str, Any]) -> str | None:
        if allow_empty and value == "":
            return None
        return None if pattern.match(value) else f"must be {what}"

    return check
