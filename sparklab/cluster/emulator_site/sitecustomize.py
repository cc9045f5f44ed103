"""Shortened consistency pauses for Ansible's AWS modules, in `runner.py plan` only.

`plan` puts this folder on PYTHONPATH of the playbook it runs against the local emulator, so Python
imports this file when each module process starts. Two amazon.aws modules pause for AWS's eventual
consistency whatever the answer: ``ec2_vpc_route_table`` sleeps 5 s after any change and
``ec2_security_group`` sleeps 3 s after creating a group before it reads the group back (amazon.aws
11.4.0, plugins/modules/ec2_vpc_route_table.py ``ensure_route_table_present`` and
plugins/modules/ec2_security_group.py ``create_security_group``). The emulator answers
consistently at once, so their pauses are cut to 0.05 s. Only calls made from those two modules'
own code are shortened: botocore's retry back-off, Ansible's own waits and every API call stay as
they are.
"""

from __future__ import annotations

import sys
import time

PAUSING_MODULES = frozenset({
    "ansible_collections.amazon.aws.plugins.modules.ec2_vpc_route_table",
    "ansible_collections.amazon.aws.plugins.modules.ec2_security_group",
})
EMULATOR_PAUSE = 0.05
_sleep = time.sleep


def _sleep_for_emulator(seconds: float) -> None:
    spec = sys._getframe(1).f_globals.get("__spec__")
    if getattr(spec, "name", None) in PAUSING_MODULES:
        seconds = min(seconds, EMULATOR_PAUSE)
    _sleep(seconds)


time.sleep = _sleep_for_emulator
