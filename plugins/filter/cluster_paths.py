"""Filter: a cluster's state folder on this machine, by the rule runner.py and every playbook use."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.sparklab.cluster.plugins.module_utils.cluster_names import state_dir

DOCUMENTATION = r"""
---
name: cluster_state_dir
short_description: The state folder of a cluster on the controller
description:
  - Returns C($SPARKLAB_HOME/<cluster name>), with C(SPARKLAB_HOME) read from the controller's
    environment (default C(~/.sparklab)), C(~) expanded and the path made absolute.
  - The rule is C(state_dir) in C(plugins/module_utils/cluster_names.py), the one that gives the
    C(cluster_state_dir) fact of the configuration check and the state folder of runner.py. The
    inventory uses this filter because connection variables are needed before any task has run.
version_added: "0.2.0"
author:
  - sparklab maintainers
options:
  _input:
    description: The cluster name.
    type: str
    required: true
"""

EXAMPLES = r"""
ansible_ssh_private_key_file: "{{ cluster_name | sparklab.cluster.cluster_state_dir }}/id_ed25519"
"""

RETURN = r"""
_value:
  description: The absolute path of the cluster's state folder.
  type: str
"""


def cluster_state_dir(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise AnsibleFilterError("cluster_state_dir: no cluster name "
                                 "(fix: -e @cluster.yml with cluster_name, or set SPARKLAB_CLUSTER_NAME)")
    return state_dir(name)[1]


class FilterModule:
    """The cluster's state folder for the inventory's connection settings."""

    def filters(self) -> dict[str, Any]:
        return {"cluster_state_dir": cluster_state_dir}
