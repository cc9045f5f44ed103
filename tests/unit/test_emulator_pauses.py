"""`plan`'s sitecustomize shortens only the fixed pauses of the two amazon.aws modules it names.

The pauses are read from the installed amazon.aws (the pinned 11.4.0): if an upgrade moves or
drops them, the first test says so. The second runs the sitecustomize in a fresh Python, as a
module process of `plan` would load it, and records what reaches the real ``time.sleep``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from sparklab.cluster.emulator import SITE_DIR

# Located by path: importing ansible_collections here would fix that package to site-packages in
# this process, and later in-process renders could no longer find sparklab.cluster.
MODULES = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections/amazon/aws/plugins/modules"


def test_the_shortened_pauses_exist_in_the_pinned_amazon_aws() -> None:
    route_table = (MODULES / "ec2_vpc_route_table.py").read_text()
    group = (MODULES / "ec2_security_group.py").read_text()
    assert "from time import sleep" in route_table and "        sleep(5)\n" in route_table
    assert "from time import sleep" in group and "        sleep(3)\n" in group


def test_only_calls_from_the_two_modules_are_shortened() -> None:
    probe = """
import importlib.machinery, json, time
import sitecustomize
calls = []
sitecustomize._sleep = calls.append
for name in ("ansible_collections.amazon.aws.plugins.modules.ec2_vpc_route_table",
             "ansible_collections.amazon.aws.plugins.modules.ec2_security_group",
             "ansible_collections.amazon.aws.plugins.modules.ec2_instance",
             "botocore.retryhandler"):
    exec("from time import sleep\\nsleep(5)", {"__spec__": importlib.machinery.ModuleSpec(name, None)})
print(json.dumps(calls))
"""
    env = dict(os.environ, PYTHONPATH=str(SITE_DIR))
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [0.05, 0.05, 5, 5]
