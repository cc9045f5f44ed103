"""List every AWS resource that carries a sparklab cluster tag."""

from __future__ import annotations

import contextlib

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

DOCUMENTATION = r"""
---
module: aws_cluster_scan
short_description: Find every AWS resource of one sparklab cluster by its tags
description:
  - Scans every resource type sparklab creates (instances, volumes, VPCs, subnets, route tables,
    internet gateways, security groups, key pairs, S3 buckets) for the tag
    C(sparklab:cluster=<cluster>) and returns them with their C(sparklab:owner) tags.
  - Read-only. Used for the owner check before provisioning and for the audit after teardown.
  - Instances and volumes that are already terminated or deleted are not counted.
version_added: "0.1.0"
author:
  - sparklab maintainers
options:
  cluster:
    description: The cluster name (value of the C(sparklab:cluster) tag).
    type: str
    required: true
  bucket_prefix:
    description:
      - Only buckets whose names start with this prefix are inspected (S3 has no server-side tag
        filter); defaults to C(sparklab-<cluster>-).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Scan the cluster's resources
  sparklab.cluster.aws_cluster_scan:
    cluster: spark-lab
  register: scan
"""

RETURN = r"""
resources:
  description: One entry per resource found.
  returned: always
  type: list
  elements: dict
  contains:
    type: {description: Resource type, e.g. vpc, instance, bucket., type: str}
    id: {description: Resource id or name., type: str}
    owner: {description: Value of the sparklab:owner tag (empty if missing)., type: str}
    state: {description: State where the type has one., type: str}
    expires_at: {description: Value of the sparklab:expires-at tag., type: str}
count:
  description: Number of resources found.
  returned: always
  type: int
owners:
  description: Distinct sparklab:owner values found.
  returned: always
  type: list
  elements: str
"""


CLUSTER_TAG = "sparklab:cluster"
OWNER_TAG = "sparklab:owner"
EXPIRES_TAG = "sparklab:expires-at"
GONE_INSTANCE_STATES = ("terminated",)

# (type, describe call, result key, id key, state key)
EC2_TYPES = (
    ("instance", "describe_instances", "Reservations", "InstanceId", "State"),
    ("volume", "describe_volumes", "Volumes", "VolumeId", "State"),
    ("vpc", "describe_vpcs", "Vpcs", "VpcId", "State"),
    ("subnet", "describe_subnets", "Subnets", "SubnetId", "State"),
    ("route-table", "describe_route_tables", "RouteTables", "RouteTableId", None),
    ("internet-gateway", "describe_internet_gateways", "InternetGateways", "InternetGatewayId", None),
    ("security-group", "describe_security_groups", "SecurityGroups", "GroupId", None),
    ("key-pair", "describe_key_pairs", "KeyPairs", "KeyName", None),
)


def _tags(items):
    return {t["Key"]: t["Value"] for t in items or []}


def _entry(kind, ident, tags, state):
    return {
        "type": kind,
        "id": ident,
        "owner": tags.get(OWNER_TAG, ""),
        "expires_at": tags.get(EXPIRES_TAG, ""),
        "state": state,
    }


def _state(item, key):
    if not key:
        return ""
    value = item.get(key, "")
    return value.get("Name", "") if isinstance(value, dict) else str(value)


@AWSRetry.jittered_backoff(retries=10)
def _describe(client, call, filters):
    if client.can_paginate(call):
        return client.get_paginator(call).paginate(Filters=filters).build_full_result()
    return getattr(client, call)(Filters=filters)


def scan_ec2(client, cluster):
    found = []
    filters = [{"Name": f"tag:{CLUSTER_TAG}", "Values": [cluster]}]
    for kind, call, result_key, id_key, state_key in EC2_TYPES:
        items = _describe(client, call, filters).get(result_key, [])
        if kind == "instance":
            items = [i for r in items for i in r.get("Instances", [])]
        for item in items:
            state = _state(item, state_key)
            if kind == "instance" and state in GONE_INSTANCE_STATES:
                continue
            if kind == "volume" and state in ("deleted", "deleting"):
                continue
            tags = _tags(item.get("Tags"))
            found.append(_entry(kind, item[id_key], tags, state))
    return found


def scan_buckets(client, cluster, prefix):
    found = []
    list_buckets = AWSRetry.jittered_backoff(retries=10)(client.list_buckets)
    get_tagging = AWSRetry.jittered_backoff(retries=10)(client.get_bucket_tagging)
    for bucket in list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if not name.startswith(prefix):
            continue
        try:
            tags = _tags(get_tagging(Bucket=name).get("TagSet"))
        except is_boto3_error_code(["NoSuchTagSet", "NoSuchBucket"]):
            tags = {}
        if tags.get(CLUSTER_TAG, cluster) == cluster:
            found.append(_entry("bucket", name, tags, ""))
    return found


def main():
    module = AnsibleAWSModule(
        argument_spec={"cluster": {"type": "str", "required": True}, "bucket_prefix": {"type": "str"}},
        supports_check_mode=True,
    )
    cluster = module.params["cluster"]
    prefix = module.params["bucket_prefix"] or f"sparklab-{cluster}-"
    try:
        resources = scan_ec2(module.client("ec2"), cluster)
        resources += scan_buckets(module.client("s3"), cluster, prefix)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"could not scan the resources of cluster {cluster}")
    owners = sorted({r["owner"] for r in resources})
    module.exit_json(changed=False, resources=resources, count=len(resources), owners=owners)


if __name__ == "__main__":
    main()
