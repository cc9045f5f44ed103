"""Validate the cluster_* configuration and return it, with defaults and derived values, as facts."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import load_extra_vars
from ansible_collections.sparklab.cluster.plugins.module_utils.admin_address import resolve_admin_cidrs
from ansible_collections.sparklab.cluster.plugins.module_utils.cluster_config import (
    DERIVED_KEYS,
    ConfigError,
    validate,
)

display = Display()


class ActionModule(ActionBase):
    """Run the sparklab configuration check on the controller; nothing is sent to a host."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("detect_admin_cidr",))
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        detect = args.get("detect_admin_cidr", True)
        if not isinstance(detect, bool):
            raise AnsibleActionFail("detect_admin_cidr must be a boolean")

        # Derived values are computed here, never taken from the command line (-e or -e @cluster.yml),
        # whose variables would win over the facts this action sets.
        extra_vars = load_extra_vars(self._loader)
        for name in DERIVED_KEYS:
            if name in extra_vars:
                message = f"{name}: is computed by sparklab and cannot be set (fix: remove it)"
                result.update(failed=True, msg=message, config_error=True)
                return result
        given: dict[str, Any] = {}
        for name in sorted(task_vars):
            if name.startswith("cluster_") and name not in ("cluster_admin_cidrs_effective",):
                given[name] = self._templar.template(task_vars[name])
        # Derived values come back in as facts on later runs in the same play; they are recomputed.
        for name in DERIVED_KEYS:
            given.pop(name, None)
        try:
            resolved, warnings = validate(given)
            if detect:
                resolve_admin_cidrs(resolved)
        except ConfigError as exc:
            result.update(failed=True, msg=str(exc), config_error=True)
            return result

        for warning in warnings:
            display.warning(warning)
        result.update(changed=False, ansible_facts=resolved, warnings_list=warnings)
        result["msg"] = f"configuration of cluster {resolved['cluster_name']} is valid"
        return result
