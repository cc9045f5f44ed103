"""The caller's public IPv4 address, asked of a what-is-my-IP service over HTTP.

An empty ``cluster_admin_cidrs`` opens the cluster to this address only (as a /32). The only
network access of the configuration check; tests point ``SPARKLAB_CHECKIP_URL`` at 127.0.0.1.
Standard library only, no Ansible import.
"""

from __future__ import annotations

import ipaddress
import os
import urllib.error
import urllib.request
from typing import Any

from .config_checks import short_repr
from .config_schema import ConfigError

CHECKIP_URL_ENV = "SPARKLAB_CHECKIP_URL"
CHECKIP_URL_DEFAULT = "https://checkip.amazonaws.com"


def detect_admin_cidr(url: str | None = None, timeout: float = 5.0) -> str:
    """Return the caller's public IPv4 as a /32, from a what-is-my-IP service.

    The service URL comes from ``SPARKLAB_CHECKIP_URL`` (tests point it at 127.0.0.1).
    """
    url = url or os.environ.get(CHECKIP_URL_ENV) or CHECKIP_URL_DEFAULT
    fix = "set cluster_admin_cidrs: ['<your public IPv4>/32'] in cluster.yml"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            text = response.read(64).decode("ascii", "replace").strip()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            "cluster_admin_cidrs", f"is empty and detecting your public IPv4 at {url} failed ({reason})", fix
        ) from None
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        raise ConfigError(
            "cluster_admin_cidrs", f"is empty and {url} answered {short_repr(text)}, not an IPv4 address", fix
        ) from None
    return f"{address}/32"


def resolve_admin_cidrs(resolved: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    """Fill ``cluster_admin_cidrs_effective`` (detects the caller's /32 when the list is empty)."""
    if not resolved["cluster_admin_cidrs"]:
        resolved["cluster_admin_cidrs_effective"] = [detect_admin_cidr(url)]
    return resolved
