"""The collection as Galaxy users get it: ``ansible-galaxy collection build`` of the repository holds
the roles, playbooks, plugins and their documentation, and none of the front end's files (runner.py,
the sparklab package, its lock files, the controller image's Containerfile, the job examples)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FRONT_END = ("runner.py", "sparklab/", "requirements.txt", "requirements.lock", "requirements-dev.txt",
             "requirements-dev.lock", "requirements-local.txt", "requirements-local.lock", "Containerfile",
             ".dockerignore", "examples/", "tests/", "molecule/", "bench/", "scripts/")


def test_the_built_collection_holds_the_collection_and_none_of_the_front_end(tmp_path: Path) -> None:
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    subprocess.run([str(galaxy), "collection", "build", "--force", "--output-path", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, text=True)
    [archive] = tmp_path.glob("sparklab-cluster-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = {member.name + ("/" if member.isdir() else "") for member in tar.getmembers()}
    assert {"MANIFEST.json", "playbooks/site.yml", "roles/", "plugins/modules/"} <= names
    shipped = sorted(name for name in names if name.startswith(FRONT_END))
    assert shipped == []
