"""Docker images of the systemd containers that stand for nodes: the molecule base image of a Debian
suite (``scripts/build-base-image.sh``), and that image plus packages from the Debian archive, built
once and tagged by a hash of its recipe. Used by the cluster harness and by the SSH node of
tests/nodes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def docker(*args: str, stdin: bytes | None = None, check: bool = True) -> str:
    proc = subprocess.run(["docker", *args], input=stdin, capture_output=True, check=False, timeout=600)
    if check and proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} failed: {proc.stderr.decode()[-2000:]}")
    return proc.stdout.decode().strip()


def base_image(suite: str = "bookworm") -> str:
    """The molecule base image of ``suite``: the one `make test` exported, else built (or found) by
    ``scripts/build-base-image.sh``, which prints its tag (a hash of the recipe) last."""
    exported = os.environ.get(f"MOLECULE_IMAGE_{suite.upper()}")
    if exported:
        return exported
    built = subprocess.run(["bash", str(REPO / "scripts" / "build-base-image.sh"), suite],
                           check=True, capture_output=True, text=True)
    return built.stdout.strip().splitlines()[-1]


def image_with_packages(base: str, repository: str, packages: str, enable: str = "") -> str:
    """``base`` plus ``packages`` (apt, no recommends), with the systemd unit ``enable`` enabled if
    given: ``<repository>:<hash of the recipe>``, built only when no image has that tag."""
    recipe = f"{base}\napt-get install --no-install-recommends {packages}\n"
    if enable:
        recipe += f"systemctl enable {enable}\n"
    image = f"{repository}:{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"
    found = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False)
    if found.returncode == 0:
        return image
    name = f"{repository.replace('/', '-')}-build-{uuid.uuid4().hex[:8]}"
    steps = ["apt-get update -qq", "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq"
             f" --no-install-recommends {packages}"]
    if enable:
        steps.append(f"systemctl enable {enable}")
    steps.append("apt-get clean && rm -rf /var/lib/apt/lists/*")
    docker("run", "--name", name, base, "/bin/sh", "-c", " && ".join(steps))
    try:
        docker("commit", "--change", 'CMD ["/sbin/init"]', name, image)
    finally:
        docker("rm", "-f", name, check=False)
    return image
