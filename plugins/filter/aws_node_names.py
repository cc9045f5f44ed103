"""Filter: assign stable `<cluster>-<role>-<n>` names to a cluster's instances."""

from __future__ import annotations

import re

DOCUMENTATION = r"""
---
name: aws_node_names
short_description: Names for instances launched in a batch
description:
  - Instances launched together with O(exact_count) share one tag set. This filter returns, for each
    instance of one role that has no valid name yet, the name C(<cluster>-<role>-<n>) with the lowest
    free C(n) (starting at 1). Instances that already carry a valid, unique name keep it.
  - Instances are ordered by launch time, launch index and id, so the result is deterministic.
version_added: "0.1.0"
author:
  - sparklab maintainers
options:
  _input:
    description: Instances as returned by amazon.aws.ec2_instance_info.
    type: list
    elements: dict
    required: true
  cluster:
    description: Cluster name.
    type: str
    required: true
  role:
    description: Node role, control-plane or worker.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Name new workers
  amazon.aws.ec2_tag:
    resource: "{{ item.id }}"
    tags:
      Name: "{{ item.name }}"
  loop: "{{ instances | sparklab.cluster.aws_node_names('spark-lab', 'worker') }}"
"""

RETURN = r"""
_value:
  description: One C(id)/C(name) pair per instance that needs a name.
  type: list
  elements: dict
"""


def _sort_key(instance):
    return (
        str(instance.get("launch_time", "")),
        int(instance.get("ami_launch_index", 0) or 0),
        instance.get("instance_id", ""),
    )


def aws_node_names(instances, cluster, role):
    pattern = re.compile(rf"^{re.escape(cluster)}-{re.escape(role)}-([1-9][0-9]*)$")
    taken = set()
    unnamed = []
    for instance in sorted(instances or [], key=_sort_key):
        if (instance.get("tags") or {}).get("sparklab:role") != role:
            continue
        match = pattern.match((instance.get("tags") or {}).get("Name", ""))
        if match and int(match.group(1)) not in taken:
            taken.add(int(match.group(1)))
        else:
            unnamed.append(instance["instance_id"])
    result = []
    number = 1
    for instance_id in unnamed:
        while number in taken:
            number += 1
        taken.add(number)
        result.append({"id": instance_id, "name": f"{cluster}-{role}-{number}"})
    return result


def aws_nodes(instances, cluster):
    """All nodes as id/name/role/instance_type/public_ip/private_ip/public_dns/private_dns/state, names as
    they are after aws_node_names."""
    assigned = {}
    for role in ("control-plane", "worker"):
        assigned.update({n["id"]: n["name"] for n in aws_node_names(instances, cluster, role)})
    nodes = []
    for instance in instances or []:
        tags = instance.get("tags") or {}
        nodes.append(
            {
                "id": instance["instance_id"],
                "name": assigned.get(instance["instance_id"], tags.get("Name", "")),
                "role": tags.get("sparklab:role", ""),
                "instance_type": instance.get("instance_type", ""),
                "public_ip": instance.get("public_ip_address", ""),
                "private_ip": instance.get("private_ip_address", ""),
                "public_dns": instance.get("public_dns_name", ""),
                "private_dns": instance.get("private_dns_name", ""),
                "state": (instance.get("state") or {}).get("name", ""),
            }
        )
    return sorted(nodes, key=lambda n: (n["role"] != "control-plane", len(n["name"]), n["name"]))


class FilterModule:
    """sparklab AWS filters."""

    def filters(self):
        return {"aws_node_names": aws_node_names, "aws_nodes": aws_nodes}
