"""Launch, name and terminate the EC2 instances of a sparklab cluster in batches."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_nodes
short_description: The nodes of a sparklab cluster, launched and terminated in batches
description:
  - Identity is by tags only. An instance belongs to the cluster when its C(sparklab:cluster) tag is
    O(cluster), and to a role by its C(sparklab:role) tag; pending, running, stopping and stopped
    instances count, terminated ones never do. A re-run never duplicates nodes, also when O(image_id)
    changes.
  - With O(state=present), every role of O(groups) ends with exactly its O(groups[].count) instances,
    named C(<cluster>-<role>-<n>). Missing instances of a role are launched by one RunInstances call
    with every tag (O(tags), the role, and the name when one instance is launched) set at creation on
    the instance and its volume through TagSpecifications, and a ClientToken derived from the request
    and the instances that exist, so a retried or resumed request cannot launch twice. Each new
    instance of a batch of several then gets its own Name tag (one CreateTags call each, the only
    per-node call). Surplus instances (the unnamed ones first, then the highest names) are terminated
    by one TerminateInstances call. Waits with one DescribeInstances call per poll for all instances.
  - Every instance is launched with IMDSv2 only (hop limit 1), an encrypted gp3 root volume deleted on
    termination, in O(subnet_id) (whose C(MapPublicIpOnLaunch) gives it a public IPv4) with
    O(security_group_id) only, no instance profile, and C(InstanceInitiatedShutdownBehavior=terminate).
  - Existing instances are never modified, except that a missing or different cluster tag from O(tags)
    is set, one CreateTags call per distinct change.
  - With O(state=absent), every instance of the cluster is terminated by one TerminateInstances call
    (up to 100 ids per call) and waited for until terminated.
  - Supports check mode (reports what would change, calls only DescribeInstances).
version_added: "0.2.0"
author:
  - sparklab maintainers (!UNKNOWN)
options:
  cluster:
    description: The cluster name (value of the C(sparklab:cluster) tag).
    type: str
    required: true
  state:
    description:
      - C(present) launches, names and trims to O(groups).
      - C(absent) terminates every instance of the cluster.
    type: str
    choices: [present, absent]
    default: present
  groups:
    description: One entry per role. Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      role:
        description: Value of the C(sparklab:role) tag.
        type: str
        required: true
        choices: [control-plane, worker]
      count:
        description: Number of instances of the role (0 terminates them all).
        type: int
        required: true
      instance_type:
        description: Instance type of new instances of the role.
        type: str
        required: true
  tags:
    description:
      - Tags of every instance and volume.
      - Must contain C(sparklab:cluster) with the value O(cluster).
    type: dict
    default: {}
  image_id:
    description: Image of new instances.
    type: str
  key_name:
    description: EC2 key pair of new instances.
    type: str
  subnet_id:
    description: Subnet of new instances (a public IPv4 each when its C(MapPublicIpOnLaunch) is on).
    type: str
  security_group_id:
    description: The one security group of new instances.
    type: str
  root_volume_gib:
    description: Root volume size of new instances, in GiB.
    type: int
    default: 30
  root_device_name:
    description: Device name of the image's root volume.
    type: str
    default: /dev/sda1
  user_data:
    description: User data of new instances (plain text; boto3 encodes it).
    type: str
    default: ""
  wait_timeout:
    description: Seconds to wait for new instances to run, or for terminated ones to be gone.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two DescribeInstances calls while waiting.
    type: int
    default: 5
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: One control plane and three workers
  sparklab.cluster.aws_nodes:
    cluster: spark-lab
    groups:
      - {role: control-plane, count: 1, instance_type: t3.large}
      - {role: worker, count: 3, instance_type: t3.large}
    tags: {"sparklab:cluster": spark-lab}
    image_id: ami-0123456789abcdef0
    key_name: sparklab-spark-lab
    subnet_id: subnet-0123456789abcdef0
    security_group_id: sg-0123456789abcdef0
  register: nodes

- name: Terminate every node of the cluster
  sparklab.cluster.aws_nodes:
    cluster: spark-lab
    state: absent
"""

RETURN = r"""
nodes:
  description: The cluster's live instances after the change, control plane first, then by name.
  returned: always
  type: list
  elements: dict
  contains:
    id: {description: Instance id., type: str}
    name: {description: Node name (<cluster>-<role>-<n>)., type: str}
    role: {description: Value of the sparklab:role tag., type: str}
    instance_type: {description: Instance type., type: str}
    public_ip: {description: Public IPv4 address (empty if none yet)., type: str}
    private_ip: {description: Private IPv4 address., type: str}
    public_dns: {description: Public DNS name., type: str}
    private_dns: {description: Private DNS name., type: str}
    state: {description: Instance state., type: str}
launched:
  description: Ids of the instances launched (names that would be launched, in check mode).
  returned: always
  type: list
  elements: str
named:
  description: Instance id to the name this run gave it (at launch, or by CreateTags).
  returned: always
  type: dict
terminated:
  description: Ids of the instances terminated (or that would be, in check mode).
  returned: always
  type: list
  elements: str
"""


import contextlib
import hashlib
import json
import time

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.sparklab.cluster.plugins.module_utils import aws_nodes as names
from ansible_collections.sparklab.cluster.plugins.module_utils.aws_scan import CLUSTER_TAG, ROLE_TAG

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

LIVE_STATES = ["pending", "running", "stopping", "stopped"]
TERMINATE_BATCH = 100  # TerminateInstances takes up to 1000 ids; AWS recommends smaller batches


@AWSRetry.jittered_backoff(retries=10)
def _describe(client, filters):
    pages = client.get_paginator("describe_instances").paginate(Filters=filters).build_full_result()
    return [i for r in pages.get("Reservations", []) for i in r.get("Instances", [])]


@AWSRetry.jittered_backoff(retries=10)
def _run_instances(client, spec):
    return client.run_instances(**spec)


# A new instance may not be visible to CreateTags yet (eventual consistency): retry on NotFound.
@AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=["InvalidInstanceID.NotFound"])
def _create_tags(client, ids, tags):
    client.create_tags(Resources=ids, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


# An instance still stopping may refuse termination for a moment.
@AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=["IncorrectInstanceState"])
def _terminate(client, ids):
    client.terminate_instances(InstanceIds=ids)


def _cluster_instances(client, cluster, states):
    filters = [
        {"Name": f"tag:{CLUSTER_TAG}", "Values": [cluster]},
        {"Name": "instance-state-name", "Values": states},
    ]
    # Never trust a filter alone: the tag value is checked again.
    return [i for i in _describe(client, filters) if names.tags_of(i).get(CLUSTER_TAG) == cluster]


def _wait(module, client, ids, done, what):
    """Poll all ``ids`` with one DescribeInstances call per round until ``done(states)`` holds."""
    ids = sorted(ids)
    deadline = time.monotonic() + module.params["wait_timeout"]
    while True:
        found = _describe(client, [{"Name": "instance-id", "Values": ids}])
        states = {i["InstanceId"]: i["State"]["Name"] for i in found}
        if done(ids, states):
            return found
        if time.monotonic() >= deadline:
            pending = ", ".join(f"{i} ({states.get(i, 'not visible')})" for i in ids if not done([i], states))
            module.fail_json(
                msg=f"instances of cluster {module.params['cluster']} did not {what} within "
                f"{module.params['wait_timeout']} s: {pending}"
            )
        time.sleep(module.params["poll_interval"])


def _all_gone(want, states):
    return all(states.get(i, "terminated") == "terminated" for i in want)


def _all_running(want, states):
    return all(states.get(i) == "running" for i in want)


def _terminate_all(module, client, ids):
    for start in range(0, len(ids), TERMINATE_BATCH):
        _terminate(client, ids[start : start + TERMINATE_BATCH])
    # Terminated instances stay visible for about an hour; one that is no longer visible is gone too.
    _wait(module, client, ids, _all_gone, "terminate")


def _wanted_tags(module):
    return {str(k): str(v) for k, v in module.params["tags"].items()}


def _launch_spec(module, role, instance_type, count, name):
    p = module.params
    tags = dict(_wanted_tags(module), **{ROLE_TAG: role})
    if name:
        tags["Name"] = name
    tag_list = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    return {
        "ImageId": p["image_id"],
        "InstanceType": instance_type,
        "KeyName": p["key_name"],
        "MinCount": count,
        "MaxCount": count,
        "UserData": p["user_data"],
        "InstanceInitiatedShutdownBehavior": "terminate",
        # The subnet's own MapPublicIpOnLaunch gives the public IPv4 (a NetworkInterfaces entry with
        # AssociatePublicIpAddress would exclude SecurityGroupIds, and then moto leaves the instance's
        # groups empty where AWS reports the interface's).
        "SubnetId": p["subnet_id"],
        "SecurityGroupIds": [p["security_group_id"]],
        "BlockDeviceMappings": [
            {
                "DeviceName": p["root_device_name"],
                "Ebs": {
                    "VolumeSize": p["root_volume_gib"],
                    "VolumeType": "gp3",
                    "Encrypted": True,
                    "DeleteOnTermination": True,
                },
            }
        ],
        "MetadataOptions": {
            "HttpEndpoint": "enabled",
            "HttpTokens": "required",
            "HttpPutResponseHopLimit": 1,
            "InstanceMetadataTags": "disabled",
        },
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": tag_list},
            {"ResourceType": "volume", "Tags": tag_list},
        ],
    }


def _client_token(spec, kept, salt):
    """Same request over the same existing instances, same token: AWS then returns the first launch
    instead of launching again (a request retried after a lost response, or a run resumed before the
    first launch is visible). ``salt`` holds the ids a stale token returned."""
    material = json.dumps([spec, sorted(i["InstanceId"] for i in kept), salt], sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()  # 64 characters, the ClientToken maximum


def _launch(module, client, spec, kept):
    salt = []
    for _attempt in range(3):
        response = _run_instances(client, dict(spec, ClientToken=_client_token(spec, kept, salt)))
        launched = response.get("Instances", [])
        stale = [i["InstanceId"] for i in launched if i["State"]["Name"] in ("shutting-down", "terminated")]
        if not stale:
            return sorted(launched, key=lambda i: int(i.get("AmiLaunchIndex", 0) or 0))
        # The token was used before by a launch whose instances are gone since: a new token.
        salt += stale
    module.fail_json(msg=f"RunInstances kept returning terminated instances {', '.join(salt)}")
    return []


def _retag(module, client, kept):
    """Set missing or different cluster tags on existing instances: one call per distinct change."""
    wanted = _wanted_tags(module)
    changes = {}
    for instance in kept:
        diff = {k: v for k, v in wanted.items() if names.tags_of(instance).get(k) != v}
        if diff:
            changes.setdefault(json.dumps(diff, sort_keys=True), []).append(instance["InstanceId"])
    if not module.check_mode:
        for diff, ids in changes.items():
            _create_tags(client, ids, json.loads(diff))
    return bool(changes)


def present(module, client):
    p = module.params
    cluster = p["cluster"]
    existing = _cluster_instances(client, cluster, LIVE_STATES)
    plans = []
    for group in p["groups"]:
        ordered = names.ranked(existing, cluster, group["role"])
        kept, surplus = ordered[: group["count"]], ordered[group["count"] :]
        plans.append((group, kept, surplus, group["count"] - len(kept)))
    kept_all = [i for _g, kept, _s, _n in plans for i in kept]
    terminate_ids = sorted(i["InstanceId"] for _g, _k, surplus, _n in plans for i in surplus)
    renames = {}
    for group, kept, _s, _n in plans:
        renames.update(names.assign_names(kept, [], cluster, group["role"]))
    retagged = _retag(module, client, kept_all)
    launched, named = [], {}
    if module.check_mode:
        launched = [
            n for g, kept, _s, missing in plans for n in names.free_names(kept, missing, cluster, g["role"])
        ]
        changed = bool(launched or terminate_ids or renames or retagged)
        nodes = names.node_list(kept_all, renames)
        module.exit_json(
            changed=changed, nodes=nodes, launched=launched, named=renames, terminated=terminate_ids
        )

    at_launch = set()
    for group, kept, _s, missing in plans:
        if missing <= 0:
            continue
        first = names.free_names(kept, 1, cluster, group["role"])[0] if missing == 1 else ""
        spec = _launch_spec(module, group["role"], group["instance_type"], missing, first)
        ids = [i["InstanceId"] for i in _launch(module, client, spec, kept)]
        launched += ids
        if first:
            named[ids[0]] = first
            at_launch.add(ids[0])
        else:
            named.update(names.assign_names(kept, ids, cluster, group["role"]))
    named.update(renames)
    # A batch of several shares one tag set: each of its instances gets its own name here.
    for instance_id, name in sorted(named.items(), key=lambda item: item[1]):
        if instance_id not in at_launch:
            _create_tags(client, [instance_id], {"Name": name})
    if terminate_ids:
        _terminate_all(module, client, terminate_ids)
    if launched:
        _wait(module, client, launched, _all_running, "run")
    changed = bool(launched or terminate_ids or renames or retagged)
    final = _cluster_instances(client, cluster, LIVE_STATES) if changed else kept_all
    # Tags can take a moment to show in DescribeInstances: the names set here are applied over them.
    nodes = names.node_list(final, named)
    module.exit_json(changed=changed, nodes=nodes, launched=launched, named=named, terminated=terminate_ids)


def absent(module, client):
    cluster = module.params["cluster"]
    found = _cluster_instances(client, cluster, LIVE_STATES + ["shutting-down"])
    ids = sorted(i["InstanceId"] for i in found)
    to_terminate = sorted(i["InstanceId"] for i in found if i["State"]["Name"] != "shutting-down")
    if not module.check_mode and ids:
        if to_terminate:
            _terminate_all(module, client, to_terminate)
        else:
            _wait(module, client, ids, _all_gone, "terminate")
    module.exit_json(changed=bool(to_terminate), nodes=[], launched=[], named={}, terminated=to_terminate)


def main():
    argument_spec = {
        "cluster": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "groups": {
            "type": "list",
            "elements": "dict",
            "options": {
                "role": {"type": "str", "required": True, "choices": list(names.ROLES)},
                "count": {"type": "int", "required": True},
                "instance_type": {"type": "str", "required": True},
            },
        },
        "tags": {"type": "dict", "default": {}},
        "image_id": {"type": "str"},
        "key_name": {"type": "str", "no_log": False},
        "subnet_id": {"type": "str"},
        "security_group_id": {"type": "str"},
        "root_volume_gib": {"type": "int", "default": 30},
        "root_device_name": {"type": "str", "default": "/dev/sda1"},
        "user_data": {"type": "str", "default": ""},
        "wait_timeout": {"type": "int", "default": 600},
        "poll_interval": {"type": "int", "default": 5},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[
            ("state", "present", ["groups", "image_id", "key_name", "subnet_id", "security_group_id"])
        ],
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] == "present":
        if p["tags"].get(CLUSTER_TAG) != p["cluster"]:
            module.fail_json(
                msg=f"tags: must contain sparklab:cluster={p['cluster']} (every node is tagged at launch)"
            )
        bad = [g["role"] for g in p["groups"] if g["count"] < 0]
        if bad:
            module.fail_json(msg=f"groups: the count of {', '.join(bad)} is negative (fix: 0 or more)")
    client = module.client("ec2")
    try:
        if p["state"] == "present":
            present(module, client)
        else:
            absent(module, client)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e, msg=f"could not {'launch' if p['state'] == 'present' else 'terminate'} the nodes"
        )


if __name__ == "__main__":
    main()
