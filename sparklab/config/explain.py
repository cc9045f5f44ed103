"""A bad ``cluster_*`` value explained in one line, with a fix that passes every check.

:func:`validate_offline` is the shared schema's check plus the region against botocore's own list
(no network). When it fails, :func:`explain` names the key, the problem and where the value came
from (``cluster.yml`` or a ``--flag``), and proposes a value derived from the bad one, the
default, or a common alternative, the first that passes the checks with the rest of the input.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any


def known_regions() -> frozenset[str]:
    """Every region in botocore's own partition data (offline: a file in the installed botocore)."""
    import botocore

    path = Path(botocore.__file__).parent / "data" / "partitions.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return frozenset(name for part in data["partitions"] for name in part["regions"] if "global" not in name)


def validate_offline(mod: ModuleType, given: dict[str, Any],
              environ: dict[str, str] | None) -> tuple[dict[str, Any], list[str]]:
    """The shared schema's checks, then the region against botocore's list (no network)."""
    resolved, warnings = mod.validate(given, environ)
    region = resolved["cluster_aws_region"]
    if region not in known_regions():
        import botocore

        problem = f"is not an AWS region known to botocore {botocore.__version__}, got {region!r}"
        raise mod.ConfigError("cluster_aws_region", problem, mod.SCHEMA["cluster_aws_region"].fix)
    return resolved, warnings


def _name_from(value: Any) -> list[Any]:
    slug = re.sub(r"[^a-z0-9-]+", "-", str(value).lower())
    slug = re.sub(r"-{2,}", "-", re.sub(r"^[^a-z]+", "", slug))[:24].strip("-")
    return [slug] if slug else []


def _cidr_from(value: Any) -> list[Any]:
    try:
        return [str(ipaddress.ip_network(str(value), strict=False))]
    except ValueError:
        return []


def _int_from(key: Any) -> Callable[[Any], list[Any]]:
    def candidates(value: Any) -> list[Any]:
        try:
            return [min(max(int(str(value).strip()), key.minimum), key.maximum)]
        except ValueError:
            return []

    return candidates


# Values tried, in order, as the fix for a bad value: derived from it first, then the default.
_ALTERNATIVES = {
    "cluster_pod_cidr": ["10.244.0.0/16", "172.16.0.0/16", "192.168.0.0/16"],
    "cluster_service_cidr": ["10.96.0.0/12", "172.20.0.0/16", "192.168.128.0/17"],
}


def _candidates(mod: ModuleType, key: str, value: Any) -> list[Any]:
    spec = mod.SCHEMA.get(key)
    if spec is None or value is None:
        return []
    found: list[Any] = []
    if key == "cluster_name":
        found += _name_from(value)
    elif key == "cluster_aws_region":
        found += difflib.get_close_matches(str(value), sorted(known_regions()), n=3)
    elif key.endswith("_cidr"):
        found += _cidr_from(value)
    elif spec.kind == "int":
        found += _int_from(spec)(value)
    found += [spec.default] if spec.default is not None else []
    found += _ALTERNATIVES.get(key, [])
    if key == "cluster_name":
        found.append("spark-lab")
    return found


def suggest(mod: ModuleType, key: str, given: dict[str, Any], environ: dict[str, str] | None) -> Any:
    """A value of ``key`` that passes its checks with the rest of ``given``; None if none found."""
    for candidate in _candidates(mod, key, given.get(key)):
        if candidate == given.get(key):
            continue
        try:
            validate_offline(mod, {**given, key: candidate}, environ)
        except mod.ConfigError as exc:
            if exc.key == key:
                continue
        return candidate
    return None


def _as_flag_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def explain(mod: ModuleType, exc: Any, given: dict[str, Any], origins: dict[str, str],
            environ: dict[str, str] | None) -> str:
    """One line: the key, the problem, where the value came from, and a fix with a value that passes."""
    key = exc.key
    origin = origins.get(key)
    fix = exc.fix
    value = suggest(mod, key, given, environ) if key in mod.SCHEMA else None
    if origin is None:
        spec = mod.SCHEMA.get(key)
        where = " (the default)" if spec is not None and not spec.required and key not in given else ""
    elif origin.startswith("--"):
        where = f" (from {origin})"
        if value is not None:
            fix = f"use {origin} {shlex.quote(_as_flag_value(value))}"
    else:
        where = f" ({origin})"
        if value is not None:
            fix = f"set {key}: {json.dumps(value)} {origin}"
    return f"{key}: {exc.problem}{where} (fix: {fix})"
