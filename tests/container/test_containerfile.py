"""The controller image: built from the repository's Containerfile, then run as a user runs it.

The base is the local Debian 13 image of ``scripts/build-base-image.sh trixie`` (the base is a build
argument; no registry is reachable here). pip installs from ``wheelhouse/``: the exact files of
``requirements.lock`` and ``requirements-local.lock`` for the base image's Python, downloaded on
this machine with their hashes checked, once per lock content, then installed offline in the build
(``PIP_NO_INDEX=1``), again with ``--require-hashes``. Docker's layer cache keeps the installed
virtualenv between runs while the locks and the base are unchanged.

Each command runs with ``--network none``: ``plan`` starts its AWS emulator inside the container on
127.0.0.1, and ``wordcount --local`` runs Spark there, so neither needs anything outside.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
IMAGE = "sparklab/controller:test"
LOCKS = ("requirements.lock", "requirements-local.lock")
WHEELHOUSE = REPO / "wheelhouse"
BUILD_TIMEOUT = 3600


def _run(cmd: list[str], timeout: float = 900, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


def _base_image() -> str:
    exported = os.environ.get("MOLECULE_IMAGE_TRIXIE")
    if exported:
        return exported
    built = _run(["bash", str(REPO / "scripts" / "build-base-image.sh"), "trixie"], timeout=1800)
    assert built.returncode == 0, built.stderr[-2000:]
    return built.stdout.strip().splitlines()[-1]


def _python_of(image: str) -> str:
    """The base image's python3 version, ``3.13``: the wheels must be for this one."""
    probe = _run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "python3", image, "-c",
                  "import sys; print('%d.%d' % sys.version_info[:2])"], timeout=120)
    assert probe.returncode == 0, probe.stderr
    return probe.stdout.strip()


def _fill_wheelhouse(python: str) -> None:
    """Download every locked file for ``python`` on Linux x86_64 (hash-checked), once per lock content.

    pyspark has only a source archive, which the image builds; its build backend (setuptools, wheel)
    goes into the wheelhouse too, since the build installs offline.
    """
    digest = hashlib.sha256(python.encode())
    for lock in LOCKS:
        digest.update((REPO / lock).read_bytes())
    marker = WHEELHOUSE / ".complete"
    if marker.exists() and marker.read_text() == digest.hexdigest():
        return
    platforms = [f"--platform={p}" for p in ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
                                             "manylinux2014_x86_64", "manylinux_2_5_x86_64",
                                             "manylinux1_x86_64", "linux_x86_64", "any")]
    tag = python.replace(".", "")
    common = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input",
              "--progress-bar", "off", "--dest", str(WHEELHOUSE), "--no-deps",
              f"--python-version={python}", "--implementation=cp", f"--abi=cp{tag}", "--abi=abi3",
              "--abi=none", *platforms]
    locked = _run([*common, "--require-hashes", *(a for lock in LOCKS for a in ("-r", str(REPO / lock)))],
                  timeout=3600)
    assert locked.returncode == 0, locked.stdout[-2000:] + locked.stderr[-2000:]
    backend = _run([*common, "--only-binary=:all:", "setuptools", "wheel"], timeout=600)
    assert backend.returncode == 0, backend.stdout[-2000:] + backend.stderr[-2000:]
    marker.write_text(digest.hexdigest())


def _user() -> tuple[int, int]:
    """The container's user: ours, except when the tests run as root (then the default 1000)."""
    return (os.getuid(), os.getgid()) if os.getuid() != 0 else (1000, 1000)


@pytest.fixture(scope="module")
def image() -> str:
    base = _base_image()
    _fill_wheelhouse(_python_of(base))
    uid, gid = _user()
    started = time.monotonic()
    built = _run(["docker", "build", "-f", "Containerfile", "-t", IMAGE, "--build-arg", f"BASE_IMAGE={base}",
                  "--build-arg", "PIP_NO_INDEX=1", "--build-arg", f"UID={uid}", "--build-arg", f"GID={gid}",
                  "."], timeout=BUILD_TIMEOUT, cwd=REPO)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-2000:]
    print(f"image {IMAGE} built in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return IMAGE


@pytest.fixture
def mounts(tmp_path: Path) -> dict[str, Path]:
    """A user's SPARKLAB_HOME and working folder, writable by the container's user."""
    uid, gid = _user()
    folders = {"home": tmp_path / "sparklab-home", "work": tmp_path / "work"}
    for folder in folders.values():
        folder.mkdir()
        if os.getuid() == 0:
            os.chown(folder, uid, gid)
    return folders


def _sparklab(image: str, mounts: dict[str, Path], *args: str,
              timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """``docker run`` as the README shows it, without the network and without ~/.aws."""
    return _run(["docker", "run", "--rm", "--network", "none",
                 "-v", f"{mounts['home']}:/sparklab", "-v", f"{mounts['work']}:/work", "-w", "/work",
                 image, *args], timeout=timeout)


def test_the_image_answers_version_as_the_checkout_does(image: str, mounts: dict[str, Path]) -> None:
    inside = _sparklab(image, mounts, "--version")
    here = _run([sys.executable, str(REPO / "runner.py"), "--version"])
    assert inside.returncode == 0, inside.stderr
    assert here.returncode == 0, here.stderr
    assert inside.stdout == here.stdout
    assert re.match(r"sparklab \d+\.\d+\.\d+ ", inside.stdout)


def test_the_image_holds_sparklab_and_no_local_state(image: str) -> None:
    listing = _run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "ls", image, "-A",
                    "/opt/sparklab"], timeout=120)
    assert listing.returncode == 0, listing.stderr
    names = set(listing.stdout.split())
    assert {"runner.py", "sparklab", "playbooks", "roles", "plugins", "venv", "requirements.lock"} <= names
    assert names.isdisjoint({".venv", "cluster.yml", "state", ".git", "wheelhouse", "tests", ".sparklab",
                             ".aws", ".cache"}), names
    who = _run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "id", image, "-u"], timeout=120)
    assert who.stdout.strip() == str(_user()[0])
    assert who.stdout.strip() != "0"


def test_plan_runs_its_emulator_inside_the_container(image: str, mounts: dict[str, Path]) -> None:
    plan = _sparklab(image, mounts, "plan", "--name", "demo", "--plain", timeout=1800)
    out = plan.stdout
    assert plan.returncode == 0, out[-3000:] + plan.stderr[-3000:]
    assert "first run" not in plan.stderr  # the image's virtualenv, not one built at run time
    assert re.search(r"^`up` would create these 13 resources in eu-west-1 \(as created in the emulator\):$",
                     out, re.MULTILINE), out[-3000:]
    assert re.search(r"^next: python3 runner.py up --name demo$", out, re.MULTILINE), out[-3000:]
    assert not (mounts["work"] / ".venv").exists()


def test_wordcount_local_runs_spark_inside_the_container(image: str, mounts: dict[str, Path]) -> None:
    run = _sparklab(image, mounts, "wordcount", "--local", "--generate", "5MB", "--plain", timeout=2400)
    out = run.stdout
    assert run.returncode == 0, out[-3000:] + run.stderr[-3000:]
    assert "first run" not in run.stderr
    chart = re.search(r"^chart: /sparklab/local/runs/([0-9a-f-]+)/usage\.png$", out, re.MULTILINE)
    assert chart, out[-3000:]
    run_dir = mounts["home"] / "local" / "runs" / chart.group(1)
    assert (run_dir / "usage.png").stat().st_size > 10_000
    summary = (run_dir / "summary.txt").read_text()
    assert "state COMPLETED" in summary and "on this machine (local Spark)" in summary
    top = re.search(r"^top words: (\S+) ", summary, re.MULTILINE)
    assert top and top.group(1) in out
    result = json.loads((run_dir / "result.json").read_text())
    assert result["word_splitter"] == "jvm"  # built by the image's javac
    assert result["bytes"] >= 5 * 10**6 and result["top"][0][0] == top.group(1)
