"""The containerd role's minimum version check, executed by ansible-playbook on this machine.

`roles/containerd/tasks/version.yml` runs through `include_role` against localhost. A stand-in
`dpkg-query` on PATH answers with the package version a node would report (Debian and Ubuntu
version strings as their archives publish them); everything else is the real role and the table
in `roles/containerd/vars/main.yml`, which copies the "Kubernetes Support" table of containerd's
RELEASES.md (containerd/containerd tag v2.3.4, the same rows at main 301026e5): a branch a row does
not list is refused, however new. The molecule scenario nodes_single runs the same check against the
real dpkg of Debian 12 (refused).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PLAYBOOK = """\
- name: Run the containerd version check
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Include the version tasks of the containerd role
      ansible.builtin.include_role:
        name: containerd
        tasks_from: version
"""


def run_check(
    tmp_path: Path, package_version: str, kubernetes: str, *extra: str
) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dpkg-query"
    fake.write_text(f"#!/bin/sh\necho '{package_version} installed'\n")
    fake.chmod(0o755)
    playbook = tmp_path / "check.yml"
    playbook.write_text(PLAYBOOK)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    }
    extra_vars = {"cluster_kubernetes_version": kubernetes, **dict(e.split("=", 1) for e in extra)}
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-e", json.dumps(extra_vars)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )


def check_result(proc: subprocess.CompletedProcess) -> dict:
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    check = next(t for t in tasks if "version | Check" in t["task"]["name"])
    return check["hosts"]["localhost"]


@pytest.mark.parametrize(
    ("package_version", "kubernetes", "message"),
    [
        # Debian 12 bookworm's package: older than every supported minor accepts.
        (
            "1.6.20~ds1-1+deb12u3",
            "1.32.4",
            "containerd 1.6.20 is installed, but Kubernetes 1.32 needs containerd 1.6.36 or newer",
        ),
        (
            "1.7.27-0ubuntu1~22.04.1",
            "1.35.1",
            "containerd 1.7.27 is installed, but Kubernetes 1.35 needs containerd 1.7.28 or newer",
        ),
        (
            "2.1.4~ds1-1",
            "1.35.2",
            "containerd 2.1.4 is installed, but Kubernetes 1.35 needs containerd 2.1.5 or newer",
        ),
    ],
)
def test_too_old_containerd_is_refused_in_one_line_naming_both_versions(
    tmp_path: Path, package_version: str, kubernetes: str, message: str
) -> None:
    proc = run_check(tmp_path, package_version, kubernetes)
    result = check_result(proc)

    assert proc.returncode != 0
    assert result["failed"] is True
    hint = " (roles/containerd/vars/main.yml): set containerd_package_version"
    assert result["msg"].startswith(message + hint)
    assert "\n" not in result["msg"]


@pytest.mark.parametrize(
    ("package_version", "kubernetes", "message"),
    [
        # The rows drop branches: 1.36 (and 1.37, which has no row yet) list 2.3 and 2.2 only, so
        # Ubuntu 24.04 noble-security's 1.7.28 and Debian forky's 2.1.9 are refused for 1.37, and
        # 1.6 is refused for 1.35 although it is newer than that row's oldest entry (1.7.28).
        ("1.6.20~ds1-1+deb12u3", "1.37.1",  # Debian 12 bookworm's package
         "containerd 1.6.20 is installed, but Kubernetes 1.37 runs only on containerd 2.3.0+ or 2.2.0+"),
        ("1.7.24~ds1-6+deb13u1", "1.37.1",  # Debian 13 trixie's own package
         "containerd 1.7.24 is installed, but Kubernetes 1.37 runs only on containerd 2.3.0+ or 2.2.0+"),
        ("1.7.28-0ubuntu1~24.04.2", "1.37.1",
         "containerd 1.7.28 is installed, but Kubernetes 1.37 runs only on containerd 2.3.0+ or 2.2.0+"),
        ("2.1.9+ds1-5", "1.37.1",
         "containerd 2.1.9 is installed, but Kubernetes 1.37 runs only on containerd 2.3.0+ or 2.2.0+"),
        ("1.6.39-1", "1.35.2",
         "containerd 1.6.39 is installed, but Kubernetes 1.35 runs only on containerd "
         "2.2.0+, 2.1.5+ or 1.7.28+"),
        ("2.4.0-1", "1.36.0",
         "containerd 2.4.0 is installed, but Kubernetes 1.36 runs only on containerd 2.3.0+ or 2.2.0+"),
    ],
)
def test_a_branch_the_support_table_does_not_list_is_refused_in_one_line(
    tmp_path: Path, package_version: str, kubernetes: str, message: str
) -> None:
    proc = run_check(tmp_path, package_version, kubernetes)
    result = check_result(proc)

    assert proc.returncode != 0
    assert result["failed"] is True
    hint = " (containerd RELEASES.md, roles/containerd/vars/main.yml): set containerd_package_version"
    assert result["msg"].startswith(message + hint), result["msg"]
    assert "\n" not in result["msg"]


@pytest.mark.parametrize(
    ("package_version", "kubernetes"),
    [
        ("2.2.1-0ubuntu1~24.04.2", "1.36.0"),  # Ubuntu 24.04 noble-updates
        ("1.7.24~ds1-6+deb13u1", "1.33.5"),  # Debian 13 trixie's own package, on a minor it supports
        ("2.2.1-0ubuntu1~24.04.2", "1.37.1"),  # Ubuntu 24.04 noble-updates
        ("1:2.3.0-1", "1.36.0"),  # an epoch is not part of the upstream version
        ("1.6.39-1", "1.34.2"),
    ],
)
def test_supported_containerd_passes(tmp_path: Path, package_version: str, kubernetes: str) -> None:
    proc = run_check(tmp_path, package_version, kubernetes)

    assert proc.returncode == 0, proc.stdout[-2000:]
    assert check_result(proc).get("failed", False) is False


def test_unknown_kubernetes_minor_is_refused_with_the_table_to_extend(tmp_path: Path) -> None:
    proc = run_check(tmp_path, "2.3.0-1", "1.38.0")

    assert proc.returncode != 0
    message = check_result(proc)["msg"]
    assert message.startswith("No minimum containerd version recorded for Kubernetes 1.38: add its row")


def test_switching_the_check_off_lets_an_old_containerd_through(tmp_path: Path) -> None:
    proc = run_check(tmp_path, "1.6.20~ds1-1+deb12u3", "1.37.1", "containerd_minimum_version_check=false")

    assert proc.returncode == 0, proc.stdout[-2000:]
    assert check_result(proc)["skipped"] is True
