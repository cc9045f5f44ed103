"""Create the cluster's S3 bucket in the caller's account, or confirm that the caller's account owns it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_owned_bucket
short_description: Make sure a bucket of a predictable name is the caller's account's before it is used
description:
  - Bucket names are global and sparklab's are predictable, so another account may create the name
    first. C(amazon.aws.s3_bucket) adopts any existing bucket it can reach and has no expected-owner
    option; this module runs before it.
  - Looks the bucket up with HeadBucket and C(ExpectedBucketOwner) (the caller's account, from STS) and
    in the caller's own bucket list. A bucket that exists and is not the caller's fails the task, and
    nothing is written to it.
  - A missing bucket is created in the caller's account (CreateBucket fails if another account takes
    the name in between), then checked again.
  - Supports check mode (only looks).
version_added: "0.2.0"
author:
  - sparklab maintainers (!UNKNOWN)
options:
  name:
    description: The bucket name.
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Claim the job bucket
  sparklab.cluster.aws_owned_bucket:
    name: sparklab-spark-lab-123456789012-eu-west-1
"""

RETURN = r"""
account:
  description: The caller's account id, the bucket's expected owner.
  returned: always
  type: str
owner:
  description: C(own) after success.
  returned: success
  type: str
"""


import contextlib

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.sparklab.cluster.plugins.module_utils import aws_scan

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore


def _refuse(module, name, account):
    module.fail_json(
        msg=f"cluster_name: S3 bucket {name} exists but belongs to another AWS account (not {account}); "
        "sparklab never uses it (fix: choose another cluster_name; nothing was written to it)"
    )


def main():
    module = AnsibleAWSModule(
        argument_spec={"name": {"type": "str", "required": True}}, supports_check_mode=True
    )
    name = module.params["name"]
    retry = AWSRetry.jittered_backoff(retries=10)
    try:
        account = aws_scan.caller_account(module.client("sts"), retry)
        s3 = module.client("s3")
        owner = aws_scan.bucket_ownership(s3, name, account, retry)
        if owner == aws_scan.BUCKET_FOREIGN:
            _refuse(module, name, account)
        if owner == aws_scan.BUCKET_OWN or module.check_mode:
            module.exit_json(changed=owner != aws_scan.BUCKET_OWN, account=account, owner=owner)
        spec = {"Bucket": name}
        if module.region != "us-east-1":
            spec["CreateBucketConfiguration"] = {"LocationConstraint": module.region}
        try:
            retry(s3.create_bucket)(**spec)
        except botocore.exceptions.ClientError as e:
            if aws_scan.error_code(e) != "BucketAlreadyOwnedByYou":
                if aws_scan.error_code(e) == "BucketAlreadyExists":
                    _refuse(module, name, account)
                raise
        if aws_scan.bucket_ownership(s3, name, account, retry) != aws_scan.BUCKET_OWN:
            _refuse(module, name, account)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"could not create or check S3 bucket {name}")
    module.exit_json(changed=True, account=account, owner=aws_scan.BUCKET_OWN)


if __name__ == "__main__":
    main()
