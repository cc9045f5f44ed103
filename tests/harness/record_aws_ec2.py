"""Record what the aws_ec2 inventory plugin gives a cluster's nodes, for the cluster harness.

Run from the repository root: ``.venv/bin/python tests/harness/record_aws_ec2.py``. It provisions
the cluster ``harness`` (a control plane and two workers) with playbooks/provision.yml against moto on
127.0.0.1 (tests/helpers/awslab.py), runs the repository's inventory (``inventory/``: the aws_ec2
plugin configuration and the group tree) through ``ansible-inventory --list --export``, and writes
its groups and host variables to tests/harness/aws_ec2_inventory.json. The harness
(``NodeSet.inventory`` in nodes.py) builds its inventory from that record, with the containers'
names and addresses in place of the emulator's. Record again when the plugin configuration or the
instance settings change; tests/cluster/test_inventory_record.py checks that the record has every
variable and group the configuration composes.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "helpers"))
sys.path.insert(0, str(HERE.parents[1]))

from awslab import aws_lab  # noqa: E402

RECORD = HERE / "aws_ec2_inventory.json"
CLUSTER = "harness"


def main() -> int:
    with tempfile.TemporaryDirectory() as home, aws_lab(Path(home)) as aws:
        run = aws.playbook("provision", CLUSTER, workers=2)
        if run.rc != 0:
            print(run.stdout[-4000:], file=sys.stderr)
            return 1
        listed = aws.inventory(CLUSTER)
        if listed.rc != 0:
            print(listed.stderr[-4000:], file=sys.stderr)
            return 1
    group_vars = yaml.safe_load((HERE.parents[1] / "inventory" / "group_vars" / "cluster.yml").read_text())
    data = json.loads(listed.stdout.split("\n", 1)[1] if not listed.stdout.startswith("{") else listed.stdout)
    record = {
        "recorded_with": "tests/harness/record_aws_ec2.py: ansible-inventory --list -i inventory, "
        "amazon.aws.aws_ec2 against moto after playbooks/provision.yml (cluster harness, 2 workers); "
        "without the variables of inventory/group_vars",
        "groups": {
            name: sorted(group.get("hosts", [])) for name, group in data.items() if name != "_meta"
        },
        "children": {
            name: sorted(group["children"]) for name, group in data.items() if group.get("children")
        },
        # Without what inventory/group_vars adds (the harness links that folder as it is).
        "hostvars": {
            host: {key: value for key, value in hostvars.items() if key not in group_vars}
            for host, hostvars in data["_meta"]["hostvars"].items()
        },
    }
    RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {RECORD} ({len(record['hostvars'])} hosts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
