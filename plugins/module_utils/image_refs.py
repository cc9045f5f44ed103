"""The image references the product deploys, read from the pin sites of playbooks/vars/images.yml.

images.yml names every place an image reference (or its tag) is written; this module reads those
places and gives the references a node pulls: ``<name>@sha256:<digest>`` for a site pinned by
digest, ``<name>:<tag>`` otherwise, each once, in the order of images.yml. A site marked
``prepull: false`` (an alternative the defaults do not deploy) is left out; ``every_node: true`` marks
the images of DaemonSets, which run on the control plane as well as on the workers.

Pure Python with no Ansible import: the ``sparklab.cluster.prepull_images`` lookup and the tests
both load it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


class ImageRefError(ValueError):
    """A pin site that does not hold what images.yml says it holds."""


def load_yaml(path: Path) -> Any:
    """A YAML file's data. PyYAML is imported here, not at the top: it is on the controller (the
    lookup runs there), but a module_utils file must import on a node with the standard library."""
    import yaml

    return yaml.safe_load(path.read_text())


def site_value(root: Path, site: Mapping[str, Any]) -> str:
    """The scalar a pin site names, as written in its file."""
    node: Any = load_yaml(root / str(site["file"]))
    for key in site["key"]:
        if not isinstance(node, dict) or key not in node:
            where = ".".join(map(str, site["key"]))
            raise ImageRefError(f"{site['file']}: no key {where} (fix: the key in images.yml)")
        node = node[key]
    if not isinstance(node, str | int | float) or isinstance(node, bool):
        raise ImageRefError(f"{site['file']}: {'.'.join(map(str, site['key']))} is not a scalar")
    return str(node)


def reference(image: str, holds: str, value: str) -> str:
    """The pull reference of ``image`` from a site's value: by digest when the value has one."""
    value, _at, digest = value.partition("@")
    if digest:
        if not digest.startswith("sha256:"):
            raise ImageRefError(f"{image}: digest {digest!r} is not sha256:<hex>")
        return f"{image}@{digest}"
    if holds == "reference":
        colon = value.rfind(":")
        if colon <= value.rfind("/"):
            raise ImageRefError(f"{image}: reference {value!r} has no tag")
        value = value[colon + 1 :]
    elif holds != "tag":
        raise ImageRefError(f"{image}: holds must be tag or reference, not {holds!r}")
    if "{{" in value or not value:
        raise ImageRefError(f"{image}: tag {value!r} is not a literal")
    return f"{image}:{value}"


def deployed_references(
    images_yml: Path, skip: Iterable[str] = (), every_node_only: bool = False
) -> list[str]:
    """Every reference the pin sites of ``images_yml`` name, once each; ``skip``: image names to leave
    out; ``every_node_only``: only the sites marked ``every_node: true``.

    The files a site names are relative to the folder that holds ``playbooks/`` (two levels above
    images.yml), which is the repository root or the installed collection's root.
    """
    root = images_yml.resolve().parents[2]
    policy = load_yaml(images_yml) or {}
    skipped = set(skip)
    refs: list[str] = []
    for site in policy.get("pins") or []:
        if site.get("prepull", True) is False or site["image"] in skipped:
            continue
        if every_node_only and site.get("every_node") is not True:
            continue
        ref = reference(str(site["image"]), str(site["holds"]), site_value(root, site))
        if ref not in refs:
            refs.append(ref)
    return refs
