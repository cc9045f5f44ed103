"""Filter: the problem with a list of admin CIDRs, by the same rule as the configuration check."""

from __future__ import annotations

from typing import Any

from ansible_collections.sparklab.cluster.plugins.module_utils.config_checks import (
    check_admin_cidrs,
    strict_bool,
)

DOCUMENTATION = r"""
---
name: aws_admin_cidr_problem
short_description: Check the CIDRs a security group would open to administrators
description:
  - Returns an empty string when the list is acceptable, else one sentence saying what is wrong,
    an entry that is not an IPv4 CIDR with host bits zero, or a list whose union covers more
    addresses than one /8 (for example C(0.0.0.0/1) and C(128.0.0.0/1)) while world access is not
    allowed.
  - The rule is C(check_admin_cidrs) in C(plugins/module_utils/config_checks.py), the one the
    configuration check applies, so a value passed straight to the role is held to it too.
version_added: "0.2.0"
author:
  - sparklab maintainers
options:
  _input:
    description: The admin CIDRs.
    type: list
    elements: str
    required: true
  allow_world:
    description:
      - Value of C(cluster_allow_world_admin_access). Read strictly (C(true)/C(false) or the strings
        C(true), C(yes), C(on), C(1), C(false), C(no), C(off), C(0)); anything else is a problem.
    type: raw
    default: false
"""

EXAMPLES = r"""
- name: Check the admin CIDRs
  ansible.builtin.assert:
    that: cidrs | sparklab.cluster.aws_admin_cidr_problem(false) == ''
"""

RETURN = r"""
_value:
  description: Empty when acceptable, else the problem.
  type: str
"""


def aws_admin_cidr_problem(cidrs: Any, allow_world: Any = False) -> str:
    allow = strict_bool(allow_world)  # "false" from -e is false, never bool("false")
    if allow is None:
        return f"cluster_allow_world_admin_access is {allow_world!r}, not true or false"
    return check_admin_cidrs(cidrs if isinstance(cidrs, list) else [cidrs], allow) or ""


class FilterModule:
    """Admin CIDR check for the security-group role."""

    def filters(self) -> dict[str, Any]:
        return {"aws_admin_cidr_problem": aws_admin_cidr_problem}
