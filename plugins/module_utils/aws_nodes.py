"""Node names and the node list of a sparklab cluster, from DescribeInstances / RunInstances items.

Pure functions over boto3 instance dicts (no AWS call, nothing of Ansible), used by the ``aws_nodes``
module. A node is named ``<cluster>-<role>-<n>``; an instance that already carries a valid name that
no earlier instance of its role holds keeps it, every other one gets the lowest free ``n``.
"""

from __future__ import annotations

import re
from typing import Any

from .aws_scan import ROLE_TAG  # the tags are aws_scan's, the scanner's and the front end's too

ROLES = ("control-plane", "worker")


def tags_of(instance: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in instance.get("Tags") or []}


def _launch_order(instance: dict[str, Any]) -> tuple[str, int, str]:
    return (
        str(instance.get("LaunchTime", "")),
        int(instance.get("AmiLaunchIndex", 0) or 0),
        str(instance.get("InstanceId", "")),
    )


def name_number(name: str, cluster: str, role: str) -> int | None:
    """``n`` of a valid ``<cluster>-<role>-<n>`` name, else None."""
    match = re.fullmatch(rf"{re.escape(cluster)}-{re.escape(role)}-([1-9][0-9]*)", name)
    return int(match.group(1)) if match else None


def ranked(instances: list[dict[str, Any]], cluster: str, role: str) -> list[dict[str, Any]]:
    """The role's instances, validly and uniquely named first (by number), then the rest by launch order.

    Keeping the first ``count`` of this list keeps the lowest names; the surplus is the highest names
    and the unnamed instances an interrupted run may have left.
    """
    named: dict[int, dict[str, Any]] = {}
    rest = []
    for instance in sorted(instances, key=_launch_order):
        if tags_of(instance).get(ROLE_TAG) != role:
            continue
        number = name_number(tags_of(instance).get("Name", ""), cluster, role)
        if number is not None and number not in named:
            named[number] = instance
        else:
            rest.append(instance)
    return [named[n] for n in sorted(named)] + rest


def assign_names(kept: list[dict[str, Any]], new_ids: list[str], cluster: str, role: str) -> dict[str, str]:
    """Names for the kept instances without a valid unique name and for new instance ids, in order:
    ``{instance id: name}`` for every instance whose Name tag has to be set."""
    taken: set[int] = set()
    unnamed = []
    for instance in kept:
        number = name_number(tags_of(instance).get("Name", ""), cluster, role)
        if number is not None and number not in taken:
            taken.add(number)
        else:
            unnamed.append(instance["InstanceId"])
    result = {}
    number = 1
    for instance_id in unnamed + list(new_ids):
        while number in taken:
            number += 1
        taken.add(number)
        result[instance_id] = f"{cluster}-{role}-{number}"
    return result


def free_names(kept: list[dict[str, Any]], count: int, cluster: str, role: str) -> list[str]:
    """The ``count`` names that new instances of the role will get next to ``kept``."""
    placeholders = [f"new-{i}" for i in range(count)]
    names = assign_names(kept, placeholders, cluster, role)
    return [names[p] for p in placeholders]


def node(instance: dict[str, Any], name: str = "") -> dict[str, Any]:
    tags = tags_of(instance)
    return {
        "id": instance["InstanceId"],
        "name": name or tags.get("Name", ""),
        "role": tags.get(ROLE_TAG, ""),
        "instance_type": instance.get("InstanceType", ""),
        "public_ip": instance.get("PublicIpAddress", ""),
        "private_ip": instance.get("PrivateIpAddress", ""),
        "public_dns": instance.get("PublicDnsName", ""),
        "private_dns": instance.get("PrivateDnsName", ""),
        "state": (instance.get("State") or {}).get("Name", ""),
    }


def node_list(instances: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Every instance as a node (``names`` overrides the Name tag), control plane first, then by name."""
    nodes = [node(i, names.get(i["InstanceId"], "")) for i in instances]
    return sorted(nodes, key=lambda n: (n["role"] != "control-plane", len(n["name"]), n["name"]))
