"""The state folders: sparklab changes the mode only of folders it made, and a bad SPARKLAB_HOME or
configuration file is one line, exit 2, not a traceback or an endless read."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from runner_sandbox import Sandbox, base_env

from sparklab.config.load import MAX_CONFIG_BYTES, load_file
from sparklab.core.errors import BadInput
from sparklab.core.state import ClusterState


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_shared_existing_home_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"  # like SPARKLAB_HOME=/tmp
    shared.mkdir()
    shared.chmod(0o1777)
    state = ClusterState("demo", shared)
    state.ensure()
    state.new_run("status")
    assert _mode(shared) == 0o1777
    assert _mode(state.root) == 0o700 and _mode(state.runs) == 0o700


def test_a_cluster_folder_that_others_can_write_is_refused_not_repaired(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "demo").mkdir(parents=True)
    (home / "demo").chmod(0o777)
    with pytest.raises(BadInput) as info:
        ClusterState("demo", home).ensure()
    assert str(info.value).startswith(f"{home / 'demo'}: writable by other users")
    assert _mode(home / "demo") == 0o777


@pytest.mark.parametrize("args", [["down", "--yes", "--name", "demo"],
                                  ["wordcount", "--local", "--generate", "1MB"],
                                  ["status", "--name", "demo"]])
def test_a_sparklab_home_that_is_a_file_is_one_line_exit_2(tmp_path: Path, args: list[str]) -> None:
    sandbox = Sandbox(tmp_path, base_env(tmp_path))
    sandbox.sparklab_home.write_text("not a folder\n")
    result = sandbox.run(*args, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"error: SPARKLAB_HOME={sandbox.sparklab_home}: not a folder "
        "(fix: point SPARKLAB_HOME at a folder of your own, or unset it to use ~/.sparklab)"]


def test_an_endless_configuration_file_is_refused_at_the_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yml"
    big.write_text("cluster_name: demo\n#" + "#" * MAX_CONFIG_BYTES + "\n")
    with pytest.raises(BadInput) as info:
        load_file(big)
    assert str(info.value) == f"-c {big}: larger than 1 MiB (fix: pass -c <your cluster.yml>)"
    with pytest.raises(BadInput) as info:
        load_file(Path("/dev/zero"))  # before the limit this read until the kernel killed the process
    assert str(info.value) == "-c /dev/zero: larger than 1 MiB (fix: pass -c <your cluster.yml>)"


def test_a_negative_top_is_refused_in_one_line(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path, base_env(tmp_path))
    result = sandbox.run("wordcount", "--local", "--generate", "1MB", "--top", "-3", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines()[-1] == "error: --top -3: must be 1 or more (fix: --top 20)"
    assert not (sandbox.sparklab_home / "local").exists()
