"""The images a set of rendered Kubernetes objects deploys, and the pinning policy of
playbooks/vars/images.yml applied to them.

Images are found wherever a rendered object names one: every ``image`` key at any depth (pod
templates, init containers, a SparkApplication's spec, driver and executor), every container
argument after ``--helper-image``, and the same inside YAML documents carried as ConfigMap data
(local-path-provisioner's helper pod). A new chart, container or helper therefore shows up here
without anyone listing it.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def _load_pin_images() -> ModuleType:
    """scripts/pin-images as a module: the image-name rules are defined once, there."""
    loader = SourceFileLoader("pin_images", str(REPO / "scripts" / "pin-images"))
    spec = importlib.util.spec_from_loader("pin_images", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("pin_images", module)  # its dataclasses look their module up there
    loader.exec_module(module)
    return module


normalise = _load_pin_images().normalise
POLICY = REPO / "playbooks" / "vars" / "images.yml"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
IMAGE_ARGS = ("--helper-image",)


def image_name(reference: str) -> str:
    """The normalised name of a reference, without tag or digest."""
    ref = reference.split("@", 1)[0]
    if ref.rfind(":") > ref.rfind("/"):
        ref = ref[: ref.rfind(":")]
    return normalise(ref)


def _walk(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield value
            else:
                yield from _walk(value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, str):
                flag, _, inline = value.partition("=")
                if flag in IMAGE_ARGS:
                    yield inline if inline else node[i + 1]
            else:
                yield from _walk(value)


def helm_test_hook(obj: dict) -> bool:
    """True for a chart's `helm test` pod: rendered by `helm template`, created only by `helm test`,
    which sparklab never runs (kube-opex-analytics ships one that pulls busybox by no tag)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    hooks = {h.strip() for h in str(annotations.get("helm.sh/hook", "")).split(",")}
    return bool(hooks & {"test", "test-success"})


def images_in(objects: Iterable[dict]) -> set[str]:
    """Every image reference the objects name (ConfigMap data parsed as YAML where it is YAML);
    `helm test` pods are left out, every other hook (pre-install, post-upgrade, ...) is counted."""
    found: set[str] = set()
    for obj in objects:
        if helm_test_hook(obj):
            continue
        found.update(_walk(obj))
        if obj.get("kind") == "ConfigMap":
            for text in (obj.get("data") or {}).values():
                try:
                    docs = list(yaml.safe_load_all(text))
                except yaml.YAMLError:
                    continue
                for doc in docs:
                    found.update(_walk(doc))
    return found


@dataclass(frozen=True)
class Policy:
    pins: list[dict]
    unpinned: dict[str, dict]  # image name -> entry

    @classmethod
    def load(cls, path: Path = POLICY) -> Policy:
        data = yaml.safe_load(path.read_text())
        unpinned = {}
        for entry in data.get("unpinned") or []:
            if entry["image"] in unpinned:
                raise AssertionError(f"{path.name}: {entry['image']} is listed twice under unpinned")
            unpinned[entry["image"]] = entry
        return cls(pins=data.get("pins") or [], unpinned=unpinned)


def violations(references: Iterable[str], policy: Policy) -> list[str]:
    """What is wrong with the deployed references under the policy, one line each (empty: all good).

    - a reference without a sha256 digest whose image is not in ``unpinned`` (fail-closed: a new image
      is refused until it is pinned or its reason is written down);
    - an ``unpinned`` entry without a reason;
    - an ``unpinned`` entry for an image that is now deployed by digest, or no longer deployed at all
      (except the images kubeadm pulls itself, which no rendered object names);
    - an image deployed by tag that has no pin site, so scripts/pin-images could never pin it (unless
      its reason is that it cannot be pinned: kubeadm's images and the sandbox image).
    """
    references = set(references)
    problems = []
    by_tag = {image_name(r) for r in references if not DIGEST.search(r)}
    by_digest = {image_name(r) for r in references if DIGEST.search(r)}
    pinnable = {p["image"] for p in policy.pins}
    for ref in sorted(references):
        if not DIGEST.search(ref) and image_name(ref) not in policy.unpinned:
            problems.append(f"{ref} is deployed by tag and not listed under unpinned in {POLICY.name}")
    for image, entry in sorted(policy.unpinned.items()):
        if not str(entry.get("reason") or "").strip():
            problems.append(f"{image}: unpinned without a reason")
        if image in by_digest and image not in by_tag:
            problems.append(f"{image} is pinned by digest now: delete its unpinned entry")
        elif image not in by_tag and entry.get("deployed_by") != "kubeadm":
            problems.append(f"{image} is not deployed: delete its unpinned entry")
        elif image in by_tag and image not in pinnable and "kubeadm" not in entry.get("reason", ""):
            problems.append(f"{image} has no pin site in {POLICY.name}: scripts/pin-images cannot pin it")
    return problems


def site_value(site: dict, repo: Path = REPO) -> str:
    """The scalar a pin site names, as written in its file (tag or reference, digest included)."""
    node = yaml.safe_load((repo / site["file"]).read_text())
    for key in site["key"]:
        node = node[key]
    return str(node)


def product_pins(policy: Policy, repo: Path = REPO) -> dict[str, set[str]]:
    """Image name -> the digests the product pins it to (only sites written as tag@sha256:...)."""
    pins: dict[str, set[str]] = {}
    for site in policy.pins:
        value = site_value(site, repo)
        if DIGEST.search(value):
            pins.setdefault(site["image"], set()).add(value.rsplit("@", 1)[1])
    return pins
