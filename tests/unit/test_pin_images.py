"""scripts/pin-images against a real OCI registry (Debian's docker-registry, distribution 2.8) on
127.0.0.1: every image the product pins is pushed under its own name and tag as a two-platform
OCI index, the script runs on a copy of the pin sites with every registry host mapped to the local
registry, and each written digest must be the Docker-Content-Digest the registry answers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from oci_registry import Pusher, bearer_gate, local_registry

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "pin-images"
HOSTS = ("ghcr.io", "docker.io", "registry.k8s.io")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def scalar(root: Path, site: dict) -> str:
    node = load(root / site["file"])
    for key in site["key"]:
        node = node[key]
    return node


def repository(image: str) -> str:
    """Repository path inside the registry: the image name without its host."""
    return image.split("/", 1)[1]


def tag_of(root: Path, site: dict) -> str:
    value = scalar(root, site).split("@", 1)[0]
    return value if site["holds"] == "tag" else value.rsplit(":", 1)[1]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of images.yml and every file it names (nothing else of the repository)."""
    root = tmp_path / "checkout"
    files = {"playbooks/vars/images.yml"} | {
        s["file"] for s in load(REPO / "playbooks/vars/images.yml")["pins"]
    }
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, root / rel)
    return root


@pytest.fixture
def registry(tmp_path: Path):
    with local_registry(tmp_path / "registry") as url:
        yield url


def pin_images(root: Path, endpoint: str, *extra: str) -> subprocess.CompletedProcess[str]:
    mapping = [arg for host in HOSTS for arg in ("--registry-map", f"{host}={endpoint}")]
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(root), *mapping, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def push_all(root: Path, pusher: Pusher, salt: str = "") -> dict[tuple[str, str], str]:
    """Push one distinct image per (image, tag) the sites pin; return the registry's digests."""
    pushed = {}
    for site in load(root / "playbooks/vars/images.yml")["pins"]:
        key = (site["image"], tag_of(root, site))
        if key not in pushed:
            pusher.push_index(repository(key[0]), key[1], f"{key[0]}:{key[1]}{salt}")
            pushed[key] = pusher.head_digest(repository(key[0]), key[1])
    return pushed


def test_pin_images_writes_the_registry_digest_of_every_pinned_tag(checkout: Path, registry: str) -> None:
    sites = load(checkout / "playbooks/vars/images.yml")["pins"]
    before = {s["file"]: (checkout / s["file"]).read_text() for s in sites}
    tags = {(s["file"], tuple(s["key"])): tag_of(checkout, s) for s in sites}
    pushed = push_all(checkout, Pusher(registry))
    assert len(set(pushed.values())) == len(pushed) >= 8  # one distinct index per image and tag

    proc = pin_images(checkout, registry)
    assert proc.returncode == 0, proc.stderr

    for site in sites:
        tag = tags[(site["file"], tuple(site["key"]))]
        value = scalar(checkout, site)
        prefix = tag if site["holds"] == "tag" else f"{value.split(':', 1)[0]}:{tag}"
        assert value == f"{prefix}@{pushed[(site['image'], tag)]}", site
    # Only the pinned scalars changed: same line count, and each changed line is a pin site's line.
    for file, text in before.items():
        old, new = text.splitlines(), (checkout / file).read_text().splitlines()
        assert len(old) == len(new), file
        changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
        assert all(b.startswith(a.split("@", 1)[0].rstrip()) and "@sha256:" in b for a, b in changed), changed
    assert "now pinned: delete ghcr.io/flannel-io/flannel from `unpinned`" in proc.stdout

    # A second run changes nothing, and --check agrees with the registry.
    again = pin_images(checkout, registry)
    assert again.returncode == 0 and "written" not in again.stdout, again.stdout
    check = pin_images(checkout, registry, "--check")
    assert check.returncode == 0 and check.stdout.count(": pinned") == len(sites), check.stdout


def test_check_reports_a_tag_that_moved_and_writes_nothing(checkout: Path, registry: str) -> None:
    pusher = Pusher(registry)
    push_all(checkout, pusher)
    assert pin_images(checkout, registry).returncode == 0
    pinned = (checkout / "roles/spark_wordcount/defaults/main.yml").read_text()
    # Someone pushes other content under the same Spark tag.
    moved = pusher.push_index("apache/spark", "4.0.3-python3", "apache/spark rebuilt")

    proc = pin_images(checkout, registry, "--check")
    assert proc.returncode == 1
    (line,) = [x for x in proc.stdout.splitlines() if "DIFFERS" in x and "defaults/main.yml" in x]
    assert line.startswith(f"docker.io/apache/spark:4.0.3-python3 -> {moved}")
    assert (checkout / "roles/spark_wordcount/defaults/main.yml").read_text() == pinned


def test_anonymous_bearer_token_flow(checkout: Path, registry: str) -> None:
    pushed = push_all(checkout, Pusher(registry))
    with bearer_gate(registry) as gate:
        proc = pin_images(checkout, gate["url"])
    assert proc.returncode == 0, proc.stderr
    assert scalar(
        checkout, {"file": "roles/spark_wordcount/defaults/main.yml", "key": ["spark_wordcount_image"]}
    ) == (f"apache/spark:4.0.3-python3@{pushed[('docker.io/apache/spark', '4.0.3-python3')]}")
    scopes = {r["scope"] for r in gate["token_requests"]}
    assert "repository:apache/spark:pull" in scopes and "repository:library/busybox:pull" in scopes
    assert all(r["service"] == "sparklab-test" for r in gate["token_requests"])


def test_a_digest_header_that_is_not_the_manifest_hash_is_refused(checkout: Path, registry: str) -> None:
    push_all(checkout, Pusher(registry))
    before = {p: p.read_text() for p in checkout.rglob("*.yml")}
    with bearer_gate(registry, lie_about_digest=True) as gate:
        proc = pin_images(checkout, gate["url"])
    assert proc.returncode == 1
    assert "is not the manifest's SHA-256" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert {p: p.read_text() for p in checkout.rglob("*.yml")} == before


def test_a_tag_missing_from_the_registry_fails_in_one_line(checkout: Path, registry: str) -> None:
    proc = pin_images(checkout, registry)
    assert proc.returncode == 1
    assert proc.stderr.startswith("pin-images: ") and "HTTP 404" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_bad_registry_map_is_refused_before_any_request(checkout: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(checkout), "--registry-map", "ghcr.io"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "pin-images: --registry-map 'ghcr.io': expected HOST=http(s)://ADDRESS "
        "(fix: e.g. ghcr.io=http://127.0.0.1:5000)"
    )


@pytest.mark.parametrize(
    ("written", "full"),
    [
        ("busybox", "docker.io/library/busybox"),
        ("apache/spark", "docker.io/apache/spark"),
        ("docker.io/library/busybox", "docker.io/library/busybox"),
        ("ghcr.io/flannel-io/flannel", "ghcr.io/flannel-io/flannel"),
        ("localhost/tool", "localhost/tool"),
        ("127.0.0.1:5000/tool", "127.0.0.1:5000/tool"),
    ],
)
def test_image_names_expand_as_containerd_expands_them(written: str, full: str) -> None:
    from deployed_images import image_name, normalise

    assert normalise(written) == full
    assert image_name(f"{written}:1.0@sha256:{'0' * 64}") == full
