"""List every AWS resource that carries a sparklab cluster tag."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_cluster_scan
short_description: Find every AWS resource of one sparklab cluster by its tags
description:
  - Scans every EC2 resource type sparklab creates or could leave (instances, volumes, VPCs, subnets,
    route tables, internet gateways, security groups, key pairs, elastic IPs, network interfaces) for
    the tag C(sparklab:cluster=<cluster>) in the region, and the job bucket by its exact name
    C(sparklab-<cluster>-<account>-<region>) (this cluster's, or untagged), and only when the caller's
    account owns it (HeadBucket with C(ExpectedBucketOwner), then the caller's own bucket list).
  - RV(bucket_owner) says whether a bucket of that name exists in another account (C(foreign));
    the playbooks then refuse to go on, since the name is predictable and anyone may have made it.
  - The scanner is C(plugins/module_utils/aws_scan.py), shared with the Python front end.
  - Read-only. Used for the owner check before provisioning and for the audit after teardown.
  - Instances and volumes that are already terminated or deleted are not counted.
version_added: "0.1.0"
author:
  - sparklab maintainers (!UNKNOWN)
options:
  cluster:
    description: The cluster name (value of the C(sparklab:cluster) tag).
    type: str
    required: true
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
    type: {description: "Resource type, for example vpc, instance, s3-bucket.", type: str}
    id: {description: Resource id or name., type: str}
    owner: {description: Value of the sparklab:owner tag (empty if missing)., type: str}
    creator:
      description: Value of the sparklab:creator tag, the full caller ARN (empty if missing).
      type: str
    state: {description: State where the type has one., type: str}
    expires_at: {description: Value of the sparklab:expires-at tag., type: str}
    untagged: {description: True for the bucket with the exact name but no tags (to be adopted)., type: bool}
count:
  description: Number of resources found.
  returned: always
  type: int
account:
  description: The caller's account id.
  returned: always
  type: str
bucket:
  description: The exact name of the cluster's bucket in this account and region.
  returned: always
  type: str
bucket_owner:
  description:
    - C(own) when the caller's account owns the bucket, C(absent) when no bucket has that name,
      C(foreign) when it exists and is not the caller's (another account's, or not even readable).
  returned: always
  type: str
  choices: [own, absent, foreign]
owners:
  description: Distinct sparklab:owner values found (untagged resources not counted).
  returned: always
  type: list
  elements: str
"""


import contextlib

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.sparklab.cluster.plugins.module_utils import aws_scan

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore


def main():
    module = AnsibleAWSModule(
        argument_spec={"cluster": {"type": "str", "required": True}},
        supports_check_mode=True,
    )
    cluster = module.params["cluster"]
    retry = AWSRetry.jittered_backoff(retries=10)
    try:
        account = aws_scan.caller_account(module.client("sts"), retry)
        s3 = module.client("s3")
        resources = aws_scan.scan(module.client("ec2"), s3, cluster, account, module.region, retry)
        bucket = aws_scan.bucket_name(cluster, account, module.region)
        bucket_owner = aws_scan.bucket_ownership(s3, bucket, account, retry)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"could not scan the resources of cluster {cluster}")
    owners = sorted({r["owner"] for r in resources if not r["untagged"]})
    module.exit_json(
        changed=False,
        resources=resources,
        count=len(resources),
        owners=owners,
        account=account,
        bucket=bucket,
        bucket_owner=bucket_owner,
    )


if __name__ == "__main__":
    main()
