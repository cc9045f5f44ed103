"""Find the availability zones that offer a set of instance types, and the types' sizes."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_placement_info
short_description: Availability zones offering every given instance type, with vCPU and memory
description:
  - Calls DescribeInstanceTypeOfferings (location type availability-zone) and DescribeInstanceTypes
    for the given instance types. Returns the zones that offer all of them (sorted) and, per type,
    its default vCPU count, memory in MiB and supported architectures.
  - Read-only.
version_added: "0.1.0"
author:
  - sparklab maintainers (!UNKNOWN)
options:
  instance_types:
    description: Instance types that must all be offered in the zone.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find zones offering both instance types
  sparklab.cluster.aws_placement_info:
    instance_types: [t3.medium, t3.large]
  register: placement
"""

RETURN = r"""
zones:
  description: Availability zones offering every requested type, sorted.
  returned: always
  type: list
  elements: str
instance_types:
  description:
    - Per requested type, C(vcpus), C(memory_mib) and C(architectures).
    - A type AWS does not know is missing.
  returned: always
  type: dict
"""


import contextlib

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore


@AWSRetry.jittered_backoff(retries=10)
def _offerings(client, types):
    paginator = client.get_paginator("describe_instance_type_offerings")
    return paginator.paginate(
        LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": types}]
    ).build_full_result()


@AWSRetry.jittered_backoff(retries=10)
def _types(client, types):
    return client.describe_instance_types(InstanceTypes=types)


def main():
    module = AnsibleAWSModule(
        argument_spec={"instance_types": {"type": "list", "elements": "str", "required": True}},
        supports_check_mode=True,
    )
    types = sorted(set(module.params["instance_types"]))
    client = module.client("ec2")
    try:
        offers = _offerings(client, types).get("InstanceTypeOfferings", [])
        specs = {}
        try:
            described = _types(client, types).get("InstanceTypes", [])
        except is_boto3_error_code("InvalidInstanceType"):
            # One unknown type fails the whole call: describe each alone, so that only the unknown
            # one is missing (the role then names its configuration key, never a valid type's).
            described = []
            for itype in types:
                try:
                    described += _types(client, [itype]).get("InstanceTypes", [])
                except is_boto3_error_code("InvalidInstanceType"):
                    continue
        for item in described:
            specs[item["InstanceType"]] = {
                "vcpus": item.get("VCpuInfo", {}).get("DefaultVCpus", 0),
                "memory_mib": item.get("MemoryInfo", {}).get("SizeInMiB", 0),
                "architectures": item.get("ProcessorInfo", {}).get("SupportedArchitectures", []),
            }
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="could not describe instance type offerings")
    zones_by_type = {t: set() for t in types}
    for offer in offers:
        zones_by_type.setdefault(offer["InstanceType"], set()).add(offer["Location"])
    zones = sorted(set.intersection(*zones_by_type.values())) if zones_by_type else []
    module.exit_json(changed=False, zones=zones, instance_types=specs)


if __name__ == "__main__":
    main()
