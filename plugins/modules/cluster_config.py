"""Documentation stub: the work is done by the action plugin of the same name."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cluster_config
short_description: Validate the sparklab cluster configuration and return it as facts
description:
  - Reads every C(cluster_*) variable visible to the task, checks it against the sparklab schema
    (type, range, format, instance-type minimums, refusal of world-open admin CIDRs), fills the
    defaults and returns the complete configuration as facts.
  - Unknown C(cluster_*) keys are errors. Every error is one line naming the key and the fix.
  - Also returns the derived facts C(cluster_home), C(cluster_state_dir), C(cluster_runs_dir) and
    C(cluster_admin_cidrs_effective) (the caller's public IPv4 /32 when C(cluster_admin_cidrs) is empty),
    and the names that runner.py and the roles share, C(cluster_job_app_name_prefix),
    C(cluster_job_result_prefix) and C(cluster_job_run_id_pattern).
  - Runs on the controller only and makes no AWS call.
version_added: "0.1.0"
author:
  - sparklab maintainers (!UNKNOWN)
options:
  detect_admin_cidr:
    description:
      - When C(cluster_admin_cidrs) is empty, detect the caller's public IPv4 address from the
        URL in E(SPARKLAB_CHECKIP_URL) (default U(https://checkip.amazonaws.com)).
      - Set to V(false) where no admin CIDR is needed (teardown).
    type: bool
    default: true
notes:
  - Action plugin; the keys live in C(plugins/module_utils/config_schema.py), their check in
    C(plugins/module_utils/cluster_config.py).
"""

EXAMPLES = r"""
- name: Validate the cluster configuration
  sparklab.cluster.cluster_config:

- name: Validate the configuration without detecting the admin address
  sparklab.cluster.cluster_config:
    detect_admin_cidr: false
"""

RETURN = r"""
ansible_facts:
  description: Every cluster_* key with its value or default, plus the derived keys.
  returned: success
  type: dict
  sample:
    cluster_name: spark-lab
    cluster_state_dir: /home/user/.sparklab/spark-lab
warnings_list:
  description: Warnings about risky settings (world-open admin access, disabled TTL).
  returned: success
  type: list
  elements: str
"""
