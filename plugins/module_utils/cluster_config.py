"""The sparklab cluster configuration contract: ``validate`` checks a configuration against the keys.

Every cluster-wide input is a ``cluster_*`` variable, listed once in ``config_schema``. This module
fills the defaults, reads strings from ``-e key=value`` as the keys' types, applies the checks,
adds the derived values the roles read (state folders, the job's shared names) and warns about
risky settings. It is pure Python with no Ansible import, so that runner.py can load it by file
path (``sparklab/core/contract.py``) and validate a configuration before Ansible starts.

``validate(config)`` returns ``(resolved, warnings)`` or raises ``ConfigError`` whose message is
a single line naming the key and the fix.
"""

from __future__ import annotations

import difflib
import os
import re
from typing import Any

from .cluster_names import HOME_ENV, JOB_APP_NAME_PREFIX, RUN_ID_PATTERN, RUNS_DIR, state_dir
from .config_checks import (
    ADMIN_MAX_ADDRESSES,
    admin_address_count,
    short_repr,
    strict_bool,
    wide_public_cidrs,
)
from .config_schema import SCHEMA, ConfigError, Key
from .driver_log import JOB_RESULT_PREFIX

DERIVED_KEYS = (
    "cluster_home", "cluster_state_dir", "cluster_runs_dir", "cluster_admin_cidrs_effective",
    "cluster_job_app_name_prefix", "cluster_job_result_prefix", "cluster_job_run_id_pattern",
)
# How alike a mistyped key must be to a real one to be suggested (difflib's ratio, without the
# shared cluster_ prefix, which would make any two keys look alike).
SUGGEST_CUTOFF = 0.75


def coerce(key: Key, value: Any) -> Any:
    """Return ``value`` as the key's type; strings from ``-e key=value`` are accepted."""
    if key.kind == "str":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConfigError(key.name, f"must be a string, got {short_repr(value)}", key.fix)
        return str(value).strip()
    if key.kind == "bool":
        flag = strict_bool(value)
        if flag is None:
            raise ConfigError(key.name, f"must be true or false, got {short_repr(value)}", key.fix)
        return flag
    if key.kind == "int":
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
            number = int(value)
        if number is None or not key.minimum <= number <= key.maximum:  # type: ignore[operator]
            raise ConfigError(
                key.name, f"must be an integer {key.minimum}..{key.maximum}, got {short_repr(value)}", key.fix
            )
        return number
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise ConfigError(key.name, f"must be a list, got {short_repr(value)}", key.fix)
    return list(value)


def closest_key(name: str) -> str | None:
    """The configuration key ``name`` (with or without ``cluster_``) was probably meant to be, if close."""
    bare = {key[len("cluster_"):]: key for key in SCHEMA}
    close = difflib.get_close_matches(name.removeprefix("cluster_"), list(bare), n=1, cutoff=SUGGEST_CUTOFF)
    return bare[close[0]] if close else None


def _unknown_key_error(name: str) -> ConfigError:
    close = closest_key(name)
    fix = f"did you mean {close}?" if close else "remove it; see cluster.example.yml for every key"
    return ConfigError(name, "unknown configuration key", fix)


def validate(
    config: dict[str, Any], environ: dict[str, str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Check every ``cluster_*`` key, fill defaults and derived values.

    Returns ``(resolved, warnings)``; raises ``ConfigError`` (one line) on the first mistake.
    Keys that do not start with ``cluster_`` are ignored. No network access happens here.
    """
    if not isinstance(config, dict):
        raise ConfigError("cluster.yml", "must be a mapping of cluster_* keys", "see cluster.example.yml")
    given = {k: v for k, v in config.items() if isinstance(k, str) and k.startswith("cluster_")}
    for name in sorted(given):
        if name in DERIVED_KEYS:
            raise ConfigError(name, "is computed by sparklab and cannot be set",
                              f"remove it; {HOME_ENV} moves the state, cluster_admin_cidrs sets admin access")
        if name not in SCHEMA:
            raise _unknown_key_error(name)

    resolved: dict[str, Any] = {}
    for key in SCHEMA.values():
        if key.name not in given or given[key.name] is None:
            if key.required:
                raise ConfigError(key.name, "is required", key.fix)
            default = key.default
            resolved[key.name] = list(default) if isinstance(default, list) else default
        else:
            resolved[key.name] = coerce(key, given[key.name])
    # The keys the user set are checked first: a conflict is blamed on what the user wrote.
    for key in sorted(SCHEMA.values(), key=lambda k: k.name not in given):
        if key.check is not None:
            problem = key.check(resolved[key.name], resolved)
            if problem:
                raise ConfigError(key.name, f"{problem}, got {short_repr(resolved[key.name])}", key.fix)

    home, state = state_dir(resolved["cluster_name"], environ)
    derived = {"cluster_home": home, "cluster_state_dir": state,
               "cluster_runs_dir": os.path.join(state, RUNS_DIR),
               "cluster_job_app_name_prefix": JOB_APP_NAME_PREFIX,
               "cluster_job_result_prefix": JOB_RESULT_PREFIX,
               "cluster_job_run_id_pattern": RUN_ID_PATTERN}
    resolved.update(derived)
    resolved["cluster_admin_cidrs_effective"] = list(resolved["cluster_admin_cidrs"])
    return resolved, _warnings(resolved)


def _warnings(resolved: dict[str, Any]) -> list[str]:
    warnings: list[str] = []
    wide = wide_public_cidrs(resolved["cluster_admin_cidrs"])
    if wide and admin_address_count(resolved["cluster_admin_cidrs"]) <= ADMIN_MAX_ADDRESSES:
        warnings.append(
            f"cluster_admin_cidrs: {', '.join(wide)} is a public range of more than 65536 addresses;"
            " SSH, the Kubernetes API and the dashboards open to all of them"
            " (a /32, or your office's range, is enough)"
        )
    if admin_address_count(resolved["cluster_admin_cidrs"]) > ADMIN_MAX_ADDRESSES:
        warnings.append(
            "cluster_allow_world_admin_access: SSH (22), the Kubernetes API (6443), the dashboard "
            f"({resolved['cluster_dashboard_node_port']}) and the Spark UI "
            f"({resolved['cluster_spark_ui_node_port']})"
            " will be reachable from THE WHOLE INTERNET"
        )
    if resolved["cluster_ttl_hours"] == 0:
        warnings.append(
            "cluster_ttl_hours: 0 disables the self-destruct timer; the nodes run and cost money "
            "until you run teardown"
        )
    return warnings
