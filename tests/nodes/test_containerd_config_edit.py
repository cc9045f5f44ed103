"""The containerd role's config editor on both configuration schemas, without containerd installed.

A stand-in `containerd` on PATH prints a trimmed default configuration of containerd 1.x
(schema 2) or 2.x (schema 3); the editor must set the runc cgroup driver, the sandbox image and
the CNI directory in the section each schema uses, and leave the rest alone: every other key of
the parsed configuration and every other line of the text stay as containerd printed them.
The molecule scenarios run the same editor on the real containerd 1.6 (Debian 12) and 2.1 (Debian 13).
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDITOR = ROOT / "roles" / "containerd" / "files" / "containerd_config.py"

SCHEMA_2 = """version = 2
root = "/var/lib/containerd"

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.6"

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          BinaryName = ""
          SystemdCgroup = false
"""

# containerd 2.1 and later list CNI directories in bin_dirs and omit SystemdCgroup by default.
SCHEMA_3 = """version = 3
root = '/var/lib/containerd'

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'

    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = 'registry.k8s.io/pause:3.10'

  [plugins.'io.containerd.cri.v1.runtime']
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['/usr/lib/cni']
      conf_dir = '/etc/cni/net.d'

    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      BinaryName = ''
"""


def fake_containerd(tmp_path: Path, default_config: str, version: str) -> dict[str, str]:
    (tmp_path / "default.toml").write_text(default_config)
    script = tmp_path / "containerd"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "containerd {version}"; exit 0; fi\n'
        f'cat "{tmp_path / "default.toml"}"\n'
    )
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}


def run_editor(env: dict[str, str], image: str = "registry.k8s.io/pause:3.10.1") -> dict:
    out = subprocess.run(
        [sys.executable, str(EDITOR), image, "true", "/opt/cni/bin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_schema_2_sets_cgroup_driver_sandbox_and_cni_in_grpc_cri_sections(tmp_path: Path) -> None:
    result = run_editor(fake_containerd(tmp_path, SCHEMA_2, "1.7.28"))
    cri = tomllib.loads(result["config"])["plugins"]["io.containerd.grpc.v1.cri"]

    assert result["schema"] == 2
    assert cri["containerd"]["runtimes"]["runc"]["options"] == {"BinaryName": "", "SystemdCgroup": True}
    assert cri["sandbox_image"] == "registry.k8s.io/pause:3.10.1"
    assert cri["cni"] == {"bin_dir": "/opt/cni/bin", "conf_dir": "/etc/cni/net.d"}


def test_schema_3_adds_missing_cgroup_key_and_uses_cri_v1_sections(tmp_path: Path) -> None:
    result = run_editor(fake_containerd(tmp_path, SCHEMA_3, "2.1.5"))
    plugins = tomllib.loads(result["config"])["plugins"]
    runtime = plugins["io.containerd.cri.v1.runtime"]

    assert result["schema"] == 3
    assert runtime["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    pinned = plugins["io.containerd.cri.v1.images"]["pinned_images"]
    assert pinned["sandbox"] == "registry.k8s.io/pause:3.10.1"
    assert runtime["cni"]["bin_dirs"] == ["/opt/cni/bin"]
    assert "io.containerd.grpc.v1.cri" not in plugins


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """Lines removed from and added to the default text by the editor (the header comment excluded)."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    removed = [line[2:] for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ") and not line.startswith("+ # Managed by")]
    return removed, added


def test_schema_2_edit_changes_only_the_three_settings(tmp_path: Path) -> None:
    result = run_editor(fake_containerd(tmp_path, SCHEMA_2, "1.7.28"))
    expected = copy.deepcopy(tomllib.loads(SCHEMA_2))
    cri = expected["plugins"]["io.containerd.grpc.v1.cri"]
    cri["sandbox_image"] = "registry.k8s.io/pause:3.10.1"
    cri["cni"]["bin_dir"] = "/opt/cni/bin"
    cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] = True

    assert tomllib.loads(result["config"]) == expected
    assert changed_lines(SCHEMA_2, result["config"]) == (
        [
            '    sandbox_image = "registry.k8s.io/pause:3.6"',
            '      bin_dir = "/usr/lib/cni"',
            "          SystemdCgroup = false",
        ],
        [
            '    sandbox_image = "registry.k8s.io/pause:3.10.1"',
            '      bin_dir = "/opt/cni/bin"',
            "          SystemdCgroup = true",
        ],
    )


def test_schema_3_edit_changes_only_the_three_settings(tmp_path: Path) -> None:
    result = run_editor(fake_containerd(tmp_path, SCHEMA_3, "2.1.5"))
    expected = copy.deepcopy(tomllib.loads(SCHEMA_3))
    images = expected["plugins"]["io.containerd.cri.v1.images"]
    runtime = expected["plugins"]["io.containerd.cri.v1.runtime"]
    images["pinned_images"]["sandbox"] = "registry.k8s.io/pause:3.10.1"
    runtime["cni"]["bin_dirs"] = ["/opt/cni/bin"]
    runtime["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] = True

    assert tomllib.loads(result["config"]) == expected
    assert changed_lines(SCHEMA_3, result["config"]) == (
        [
            "      sandbox = 'registry.k8s.io/pause:3.10'",
            "      bin_dirs = ['/usr/lib/cni']",
        ],
        [
            "      sandbox = 'registry.k8s.io/pause:3.10.1'",
            "      bin_dirs = ['/opt/cni/bin']",
            "      SystemdCgroup = true",
        ],
    )


def test_editing_twice_gives_the_same_text(tmp_path: Path) -> None:
    env = fake_containerd(tmp_path, SCHEMA_2, "1.6.20")
    assert run_editor(env)["config"] == run_editor(env)["config"]


def test_unknown_schema_is_refused_with_a_message(tmp_path: Path) -> None:
    env = fake_containerd(tmp_path, "version = 4\n", "3.0.0")
    with pytest.raises(subprocess.CalledProcessError) as failure:
        run_editor(env)
    assert "version 4 is not supported" in failure.value.stderr
