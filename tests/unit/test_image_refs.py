"""The images each node pulls ahead (roles/image_prepull), read from the pin sites of
playbooks/vars/images.yml by plugins/module_utils/image_refs.py and the prepull_images lookup."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
import yaml
from local_play import run_local_play

REPO = Path(__file__).resolve().parents[2]
IMAGES_YML = REPO / "playbooks" / "vars" / "images.yml"
_SPEC = importlib.util.spec_from_file_location("image_refs", REPO / "plugins/module_utils/image_refs.py")
image_refs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(image_refs)  # type: ignore[union-attr]
DIGEST = "sha256:" + "ab" * 32


def test_the_product_pulls_each_default_image_once_by_digest_where_pinned() -> None:
    refs = image_refs.deployed_references(IMAGES_YML)
    defaults = yaml.safe_load((REPO / "roles/spark_wordcount/defaults/main.yml").read_text())
    spark = defaults["spark_wordcount_image"]
    metrics = yaml.safe_load((REPO / "playbooks/vars/releases/metrics_server.yml").read_text())
    metrics_tag = metrics["sparklab_release_metrics_server"]["values"]["image"]["tag"]
    assert "@sha256:" in metrics_tag
    assert f"registry.k8s.io/metrics-server/metrics-server@{metrics_tag.split('@')[1]}" in refs
    assert f"docker.io/apache/spark:{spark.rsplit(':', 1)[1]}" in refs
    # The defaults deploy kube-opex-analytics v25.10.1 (image 25.10.0); the other known tag is not pulled.
    opex = [r for r in refs if "kube-opex-analytics" in r]
    assert opex == ["docker.io/rchakode/kube-opex-analytics:25.10.0"]
    assert len(refs) == len(set(refs)) == 8
    assert all(":" in r.split("/")[-1] or "@sha256:" in r for r in refs)
    assert image_refs.deployed_references(IMAGES_YML, every_node_only=True) == [
        "ghcr.io/flannel-io/flannel:v0.28.9", "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3"]


def _policy(tmp_path: Path, pins: list[dict], files: dict[str, object]) -> Path:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(yaml.safe_dump(content))
    path = tmp_path / "playbooks" / "vars" / "images.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"pins": pins}))
    return path


def test_references_and_tags_with_and_without_digest_and_skipped_sites(tmp_path: Path) -> None:
    pins = [
        {"image": "docker.io/a/app", "file": "d.yml", "key": ["app"], "holds": "reference"},
        {"image": "docker.io/a/app", "file": "s.yml", "key": ["spec", "default"], "holds": "reference"},
        {"image": "ghcr.io/b/tool", "file": "d.yml", "key": ["tool", "tag"], "holds": "tag"},
        {"image": "ghcr.io/b/tool", "file": "d.yml", "key": ["other", "tag"], "holds": "tag",
         "prepull": False},
        {"image": "quay.io/c/net", "file": "d.yml", "key": ["net"], "holds": "tag", "every_node": True},
    ]
    files = {"d.yml": {"app": "a/app:1.2", "tool": {"tag": f"v3@{DIGEST}"}, "other": {"tag": "v4"}, "net": 7},
             "s.yml": {"spec": {"default": "a/app:1.2"}}}
    path = _policy(tmp_path, pins, files)
    assert image_refs.deployed_references(path) == [
        "docker.io/a/app:1.2", f"ghcr.io/b/tool@{DIGEST}", "quay.io/c/net:7"]
    assert image_refs.deployed_references(path, skip=["docker.io/a/app"]) == [
        f"ghcr.io/b/tool@{DIGEST}", "quay.io/c/net:7"]
    assert image_refs.deployed_references(path, every_node_only=True) == ["quay.io/c/net:7"]


@pytest.mark.parametrize(("value", "holds", "error"), [
    ("{{ some_var }}", "tag", "is not a literal"),
    ("a/app", "reference", "has no tag"),
    ("v1@md5:00", "tag", "is not sha256"),
    ("v1", "digest", "holds must be tag or reference"),
])
def test_a_site_that_holds_no_usable_reference_is_named(value: str, holds: str, error: str) -> None:
    with pytest.raises(image_refs.ImageRefError, match=error):
        image_refs.reference("docker.io/a/app", holds, value)


def test_a_missing_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    pins = [{"image": "docker.io/a/app", "file": "d.yml", "key": ["app", "tag"], "holds": "tag"}]
    path = _policy(tmp_path, pins, {"d.yml": {"app": {}}})
    with pytest.raises(image_refs.ImageRefError, match=r"d\.yml: no key app\.tag"):
        image_refs.deployed_references(path)


def test_the_lookup_gives_nodes_yml_the_same_lists_as_the_module(tmp_path: Path) -> None:
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "Show", "ansible.builtin.debug": {"msg": {
            "workers": "{{ lookup('sparklab.cluster.prepull_images', wantlist=true) }}",
            "control_plane":
                "{{ lookup('sparklab.cluster.prepull_images', every_node_only=true, wantlist=true) }}",
        }}}],
    }]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"))
    proc = run_local_play(play, env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    msg = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"]
    assert msg == {"workers": image_refs.deployed_references(IMAGES_YML),
                   "control_plane": image_refs.deployed_references(IMAGES_YML, every_node_only=True)}
