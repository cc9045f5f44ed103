"""The one scanner of a sparklab cluster's AWS resources (tag names, resource table, bucket name).

Used by the ``aws_cluster_scan`` module (owner check before provisioning, audit after teardown) and
by ``sparklab/cluster/aws.py`` (``status``, ``plan``, the summary after ``down`` or Ctrl-C), so both see the
same inventory. It only reads; it takes boto3 clients and imports nothing of Ansible, so the front
end loads it by file path without an installed collection.

A cluster is identified by its name, its account and its region. EC2 resources are found by the tag
``sparklab:cluster=<name>`` in the region of the client. S3 has no server-side tag filter and bucket
names are global, so the bucket is looked up by its exact name ``sparklab-<name>-<account>-<region>``
only; it belongs to the cluster if its cluster tag says so, or if it has no tags at all (a bucket
created by an interrupted run before it was tagged: it is adopted and tagged by the next ``up``).
A bucket tagged for another cluster never matches.

The name is predictable (account ids are not secret), so anyone can create it first. A bucket is
only ever read, adopted, written or deleted after :func:`bucket_ownership` found it is the caller's
account's, and every S3 call on it names that account (``ExpectedBucketOwner``): AWS then refuses
the call with 403 if the bucket changed hands in between.
"""

from __future__ import annotations

import re
from typing import Any

CLUSTER_TAG = "sparklab:cluster"
OWNER_TAG = "sparklab:owner"
CREATOR_TAG = "sparklab:creator"
EXPIRES_TAG = "sparklab:expires-at"
ROLE_TAG = "sparklab:role"
BUCKET_KIND = "s3-bucket"

GONE_STATES = {
    "instance": ("terminated",),
    "volume": ("deleting", "deleted"),
    "vpc": (),
    "subnet": (),
}

# (kind, describe call, result key, id key, state key, detail key); instances first.
EC2_TYPES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("instance", "describe_instances", "Reservations", "InstanceId", "State", "InstanceType"),
    ("vpc", "describe_vpcs", "Vpcs", "VpcId", "State", "CidrBlock"),
    ("subnet", "describe_subnets", "Subnets", "SubnetId", "State", "CidrBlock"),
    ("internet-gateway", "describe_internet_gateways", "InternetGateways", "InternetGatewayId", "", ""),
    ("route-table", "describe_route_tables", "RouteTables", "RouteTableId", "", ""),
    ("security-group", "describe_security_groups", "SecurityGroups", "GroupId", "", "GroupName"),
    ("key-pair", "describe_key_pairs", "KeyPairs", "KeyName", "", ""),
    ("volume", "describe_volumes", "Volumes", "VolumeId", "State", "Size"),
    ("elastic-ip", "describe_addresses", "Addresses", "AllocationId", "", "PublicIp"),
    ("network-interface", "describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId", "Status",
     ""),
)
KINDS = tuple(t[0] for t in EC2_TYPES) + (BUCKET_KIND,)


def bucket_name(cluster: str, account: str, region: str) -> str:
    """The job-data bucket of a cluster: one per account and region."""
    return f"sparklab-{cluster}-{account}-{region}"


def tag_dict(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def _state(item: dict[str, Any], key: str) -> str:
    if not key:
        return ""
    value = item.get(key, "")
    return str(value.get("Name", "")) if isinstance(value, dict) else str(value)


def _entry(kind: str, ident: str, tags: dict[str, str], state: str = "", detail: str = "") -> dict[str, Any]:
    return {
        "type": kind,
        "id": ident,
        "owner": tags.get(OWNER_TAG, ""),
        "creator": tags.get(CREATOR_TAG, ""),
        "expires_at": tags.get(EXPIRES_TAG, ""),
        "state": state,
        "detail": detail,
        "untagged": not tags,
    }


def _items(client: Any, call: str, result_key: str, filters: list[dict[str, Any]], retry: Any) -> list[Any]:
    if client.can_paginate(call):
        pages = retry(lambda: client.get_paginator(call).paginate(Filters=filters).build_full_result())()
    else:
        pages = retry(lambda: getattr(client, call)(Filters=filters))()
    items = pages.get(result_key, [])
    if call == "describe_instances":
        items = [i for r in items for i in r.get("Instances", [])]
    return list(items)


def _instance_fields(item: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    launched = item.get("LaunchTime")
    return {
        "name": tags.get("Name", item["InstanceId"]),
        "role": tags.get(ROLE_TAG, ""),
        "instance_type": item.get("InstanceType", ""),
        "public_ip": item.get("PublicIpAddress", ""),
        "private_ip": item.get("PrivateIpAddress", ""),
        "launched": launched.isoformat() if hasattr(launched, "isoformat") else str(launched or ""),
    }


def scan_ec2(ec2: Any, cluster: str, retry: Any = None) -> list[dict[str, Any]]:
    """Every live EC2 resource tagged ``sparklab:cluster=<cluster>`` in the client's region."""
    retry = retry or (lambda f: f)
    filters = [{"Name": f"tag:{CLUSTER_TAG}", "Values": [cluster]}]
    found = []
    for kind, call, result_key, id_key, state_key, detail_key in EC2_TYPES:
        for item in _items(ec2, call, result_key, filters, retry):
            state = _state(item, state_key)
            if state in GONE_STATES.get(kind, ()):
                continue
            tags = tag_dict(item.get("Tags") or item.get("TagSet"))  # network interfaces say TagSet
            if tags.get(CLUSTER_TAG) != cluster:  # never trust a filter alone
                continue
            detail = str(item.get(detail_key, "")) if detail_key else ""
            entry = _entry(kind, str(item[id_key]), tags, state, detail)
            if kind == "instance":
                entry.update(_instance_fields(item, tags))
            found.append(entry)
    return found


BUCKET_OWN = "own"
BUCKET_ABSENT = "absent"
BUCKET_FOREIGN = "foreign"


def error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def bucket_ownership(s3: Any, name: str, account: str, retry: Any = None) -> str:
    """Whether bucket ``name`` is the caller's (``own``), missing (``absent``) or not the caller's
    (``foreign``: another account's, or one the caller may not even look at).

    HeadBucket with ``ExpectedBucketOwner`` (AWS answers 403 for another account's bucket), then the
    caller's own bucket list, which holds only buckets of the caller's account (on AWS and on an
    emulator that ignores the header alike).
    """
    from botocore.exceptions import ClientError

    retry = retry or (lambda f: f)
    try:
        retry(lambda: s3.head_bucket(Bucket=name, ExpectedBucketOwner=account))()
    except ClientError as exc:
        code = error_code(exc)
        if code in ("404", "NoSuchBucket", "NotFound"):
            return BUCKET_ABSENT
        if code in ("403", "AccessDenied", "Forbidden"):
            return BUCKET_FOREIGN
        raise
    pages = retry(lambda: s3.get_paginator("list_buckets").paginate(Prefix=name).build_full_result())()
    mine = {b.get("Name") for b in pages.get("Buckets", [])}
    return BUCKET_OWN if name in mine else BUCKET_FOREIGN


def scan_bucket(s3: Any, cluster: str, account: str, region: str, retry: Any = None) -> list[dict[str, Any]]:
    """The cluster's bucket, by its exact name, if it is the caller's account's and this cluster's
    or untagged. Another account's bucket of that name is never listed (see :func:`bucket_ownership`)."""
    from botocore.exceptions import ClientError

    retry = retry or (lambda f: f)
    name = bucket_name(cluster, account, region)
    if bucket_ownership(s3, name, account, retry) != BUCKET_OWN:
        return []
    try:
        tagging = retry(lambda: s3.get_bucket_tagging(Bucket=name, ExpectedBucketOwner=account))()
        tags = tag_dict(tagging.get("TagSet"))
    except ClientError as exc:
        code = error_code(exc)
        if code in ("NoSuchTagSet",):
            tags = {}
        elif code in ("NoSuchBucket", "404", "NotFound", "AccessDenied", "403"):
            return []  # absent, or another account's bucket
        else:
            raise
    if tags and tags.get(CLUSTER_TAG) != cluster:
        return []
    return [_entry(BUCKET_KIND, name, tags)]


def caller_account(sts: Any, retry: Any = None) -> str:
    retry = retry or (lambda f: f)
    return str(retry(sts.get_caller_identity)()["Account"])


def scan(
    ec2: Any, s3: Any, cluster: str, account: str, region: str, retry: Any = None
) -> list[dict[str, Any]]:
    """Every live resource of one cluster (account + region): EC2 by tag, then the bucket by name."""
    return scan_ec2(ec2, cluster, retry) + scan_bucket(s3, cluster, account, region, retry)


def cluster_names(ec2: Any, retry: Any = None) -> list[str]:
    """Every cluster name on an EC2 resource tagged ``sparklab:cluster`` in the client's region."""
    retry = retry or (lambda f: f)
    filters = [{"Name": "key", "Values": [CLUSTER_TAG]}]
    pages = retry(lambda: ec2.get_paginator("describe_tags").paginate(Filters=filters).build_full_result())()
    tags = pages.get("Tags", [])
    return sorted({t["Value"] for t in tags if t.get("Key") == CLUSTER_TAG and t.get("Value")})


# The line of roles/aws_instances/templates/user-data.sh.j2 that arms a node's expiry timer.
TIMER_LINE = re.compile(r"^OnCalendar=([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}:[0-9]{2}:[0-9]{2}) UTC$", re.M)


def armed_expiry(user_data: str) -> str:
    """The expiry (``YYYY-MM-DDTHH:MM:SSZ``) whose timer a node's user data arms, or ``""`` for none."""
    match = TIMER_LINE.search(user_data)
    return f"{match.group(1)}T{match.group(2)}Z" if match else ""


def node_user_data(ec2: Any, instance_id: str, retry: Any = None) -> str:
    """A node's user data as text (DescribeInstanceAttribute userData; empty when it has none)."""
    import base64

    retry = retry or (lambda f: f)
    attr = retry(lambda: ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData"))()
    raw = (attr.get("UserData") or {}).get("Value", "")
    return base64.b64decode(raw).decode("utf-8", "replace") if raw else ""


def earliest(values: list[str]) -> str:
    """The earliest non-empty ISO timestamp (``never`` sorts after any date)."""
    dates = sorted(v for v in values if v and v != "never")
    return dates[0] if dates else ("never" if "never" in values else "")
