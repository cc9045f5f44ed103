"""Check a node's SSH host key against the keys cloud-init printed to its console."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aws_console_host_keys
short_description: Check an SSH host key from ssh-keyscan against the instance's console
description:
  - Reads the instance's console with EC2 GetConsoleOutput (the latest output where the instance
    supports it) and compares the key ssh-keyscan returned with the keys and fingerprints
    cloud-init printed there at first boot (C(-----BEGIN SSH HOST KEY KEYS-----) and
    C(-----BEGIN SSH HOST KEY FINGERPRINTS-----) blocks).
  - Reads the console again every O(interval) seconds until the blocks appear, for at most
    O(wait_seconds); fails in one line when they never do, or at once when the key differs.
  - Read-only.
version_added: "0.2.0"
author:
  - sparklab maintainers (!UNKNOWN)
options:
  instance_id:
    description: The instance.
    type: str
    required: true
  keyscan:
    description: What C(ssh-keyscan -t ed25519 <address>) printed for that instance.
    type: str
    required: true
  wait_seconds:
    description: How long to wait for cloud-init's blocks on the console.
    type: int
    default: 420
  interval:
    description: Seconds between two reads of the console.
    type: int
    default: 15
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Check the scanned key
  sparklab.cluster.aws_console_host_keys:
    instance_id: i-0123456789abcdef0
    keyscan: "{{ keyscan.stdout }}"
"""

RETURN = r"""
fingerprint:
  description: SHA256 fingerprint of the checked key.
  returned: success
  type: str
waited:
  description: Seconds spent waiting for the console.
  returned: always
  type: int
"""


import base64
import contextlib
import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.sparklab.cluster.plugins.module_utils.host_keys import check

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore


@AWSRetry.jittered_backoff(retries=10)
def _console(client, instance_id, latest):
    params = {"InstanceId": instance_id}
    if latest:
        params["Latest"] = True
    return client.get_console_output(**params)


def read_console(client, instance_id):
    """The console text (the API returns it base64-encoded); the latest output where supported."""
    try:
        reply = _console(client, instance_id, True)
    except is_boto3_error_code(("UnsupportedOperation", "InvalidParameterCombination", "InvalidParameter")):
        reply = _console(client, instance_id, False)
    raw = reply.get("Output") or ""
    try:
        return base64.b64decode(raw).decode("utf-8", "replace")
    except ValueError:
        return raw


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "instance_id": {"type": "str", "required": True},
            "keyscan": {"type": "str", "required": True, "no_log": False},  # public host keys
            "wait_seconds": {"type": "int", "default": 420},
            "interval": {"type": "int", "default": 15},
        },
        supports_check_mode=True,
    )
    instance_id = module.params["instance_id"]
    client = module.client("ec2")
    started = time.monotonic()
    while True:
        try:
            console = read_console(client, instance_id)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"could not read the console of {instance_id}")
        verdict, detail = check(module.params["keyscan"], console)
        waited = int(time.monotonic() - started)
        if verdict == "match":
            module.exit_json(changed=False, fingerprint=detail, waited=waited)
        if verdict == "mismatch":
            module.fail_json(msg=f"{instance_id}: {detail}: the host key is not recorded (fix: terminate "
                                 "the node with `runner.py down` and provision again)", waited=waited)
        if waited + module.params["interval"] > module.params["wait_seconds"]:
            module.fail_json(msg=f"{instance_id}: the console shows no SSH host keys from cloud-init after "
                                 f"{waited} s, so the key ssh-keyscan returned cannot be checked and is not "
                                 "recorded (fix: run provision again in a few minutes; an image without "
                                 "cloud-init needs aws_instances_host_key_check: false)", waited=waited)
        time.sleep(module.params["interval"])


if __name__ == "__main__":
    main()
