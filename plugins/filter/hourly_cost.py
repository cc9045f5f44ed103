"""Filter: approximate hourly cost of a set of EC2 nodes, from the collection's one price table."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.sparklab.cluster.plugins.module_utils.prices import hourly_estimate

DOCUMENTATION = r"""
---
name: hourly_cost
short_description: Approximate hourly cost of sparklab nodes
description:
  - Estimates the USD per hour of EC2 nodes, each with one gp3 root volume and one public IPv4
    address, from approximate eu-west-1 on-demand list prices (2025) kept in the collection.
  - Instance types missing from the table count as 0 and are listed in RV(_value.unpriced).
  - The same table and arithmetic serve C(runner.py plan) and C(runner.py status).
version_added: "0.1.0"
author:
  - sparklab maintainers
options:
  _input:
    description:
      - The nodes' instance types, either a dict of instance type to count or a list with one
        instance type per node.
    type: raw
    required: true
  root_volume_gib:
    description: Size of each node's gp3 root volume in GiB.
    type: float
    required: true
"""

EXAMPLES = r"""
- name: Print the default cluster's hourly cost
  ansible.builtin.debug:
    msg: "{{ ({'t3.medium': 1, 't3.large': 2} | sparklab.cluster.hourly_cost(30)).usd_per_hour }}"

- name: Print the cost of the nodes found
  ansible.builtin.debug:
    msg: "{{ nodes | map(attribute='instance_type') | sparklab.cluster.hourly_cost(30) }}"
"""

RETURN = r"""
_value:
  description: The estimate.
  type: dict
  contains:
    usd_per_hour:
      description: Total USD per hour of the priced items.
      type: float
    unpriced:
      description: Instance types that are not in the price table (counted as 0).
      type: list
      elements: str
    nodes:
      description: Number of nodes.
      type: int
    lines:
      description:
        - Line items with C(item), C(instance_type), C(quantity), C(unit_usd_per_hour) and
          C(usd_per_hour); the prices are null for an unpriced type.
      type: list
      elements: dict
    region:
      description: Region the prices are for.
      type: str
    dated:
      description: When the prices were taken.
      type: str
    label:
      description: One-line description of the prices.
      type: str
"""


def hourly_cost(instances, root_volume_gib):
    if instances is None:
        raise AnsibleFilterError("hourly_cost: expected instance types, got nothing")
    try:
        gib = float(root_volume_gib)
        return hourly_estimate(instances, gib)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"hourly_cost: {exc}") from exc


class FilterModule:
    """sparklab cost filter."""

    def filters(self):
        return {"hourly_cost": hourly_cost}
