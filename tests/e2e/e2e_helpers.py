"""Pure helpers of the real-AWS end-to-end test; they are unit-tested here without AWS."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PHASE_LINE = re.compile(
    r"\] phase \d+/\d+ (?P<phase>[a-z]+) (?:done in|\w+ after) "
    r"(?:(?P<min>\d+)m(?P<sec2>\d{2})s|(?P<sec>[\d.]+)s) \("
)


def phase_seconds(output: str) -> dict[str, int]:
    """Seconds per phase from runner.py's milestones (``... [ok] phase 2/4 nodes done in 3m05s (...)``)."""
    out: dict[str, int] = {}
    for line in output.splitlines():
        match = _PHASE_LINE.search(line.strip())
        if not match:
            continue
        if match.group("sec") is not None:
            seconds = int(float(match.group("sec")))
        else:
            seconds = int(match.group("min")) * 60 + int(match.group("sec2"))
        out[match.group("phase")] = seconds
    return out


def live_tagged_arns(pages: list[dict[str, Any]], terminated_instances: set[str]) -> list[str]:
    """ARNs from Resource Groups Tagging API pages, minus instances already terminated.

    The tagging API keeps listing a terminated instance for a while after teardown; it costs
    nothing and is not a leftover. Everything else listed is.
    """
    left = []
    for page in pages:
        for item in page.get("ResourceTagMappingList", []):
            arn = item["ResourceARN"]
            if ":instance/" in arn and arn.rsplit("/", 1)[1] in terminated_instances:
                continue
            left.append(arn)
    return left


def nodes_with_metrics(node_metrics: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """NodeMetricsList -> {node: (cpu, memory)} for nodes that report both."""
    out = {}
    for item in node_metrics.get("items", []):
        usage = item.get("usage") or {}
        if usage.get("cpu") and usage.get("memory"):
            out[item["metadata"]["name"]] = (usage["cpu"], usage["memory"])
    return out


def dashboard_has_cpu_and_memory(
    nodes_json: Any, expected_nodes: Iterable[str] | None = None
) -> bool:
    """kube-opex-analytics ``/dataset/nodes.json``: every node reports non-zero CPU and memory usage.

    kube-opex-analytics (``backend.py`` at v25.10.1) creates each node with ``cpuUsage`` and
    ``memUsage`` set to 0.0 and writes both keys at once, before its first poll of the metrics API:
    the keys alone prove nothing, only values above zero do. With ``expected_nodes`` every one of
    those nodes must be listed (a node the dashboard has not seen yet fails the check).
    """
    if not isinstance(nodes_json, dict) or not nodes_json:
        return False
    if expected_nodes is not None and not set(expected_nodes) <= set(nodes_json):
        return False
    return all(
        isinstance(node, dict) and _positive(node.get("cpuUsage")) and _positive(node.get("memUsage"))
        for node in nodes_json.values()
    )


def _positive(value: Any) -> bool:
    """A usage number above zero (bools and strings are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def pulled_digests(pods: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """Image name -> the digests the kubelets report having run, from pod statuses as the API
    returns them (camelCase dicts). containerd reports ``imageID`` as ``<name>@sha256:<digest>``, the
    digest of what the tag resolved to when pulled (the index of a multi-platform image); an
    ``imageID`` without a name (a bare image id) is reported under the image's own name as is."""
    from deployed_images import image_name

    found: dict[str, set[str]] = {}
    for pod in pods:
        status = pod.get("status") or {}
        for container in (status.get("initContainerStatuses") or []) + (
            status.get("containerStatuses") or []
        ):
            image_id = str(container.get("imageID") or "").removeprefix("docker-pullable://")
            if not image_id:
                continue  # not pulled yet
            name = image_name(container["image"])
            found.setdefault(name, set()).add(image_id.rsplit("@", 1)[1] if "@" in image_id else image_id)
    return found


def pin_mismatches(
    pulled: dict[str, set[str]], pins: dict[str, set[str]], required: Iterable[str]
) -> list[str]:
    """One line per pinned image that ran with another digest, and per required pinned image that no
    pod ran (the check would otherwise pass by seeing nothing)."""
    problems = [
        f"{name} ran as {sorted(digests - pins[name])}, pinned to {sorted(pins[name])}"
        for name, digests in sorted(pulled.items())
        if name in pins and digests - pins[name]
    ]
    problems += [
        f"{name} is pinned but no pod ran it" for name in sorted(set(required) & set(pins) - set(pulled))
    ]
    return problems
