"""Run the project's playbooks with the real ansible-playbook of the virtualenv, as a user would.

Every run uses the repository's ``ansible.cfg`` (roles, the collection link, callbacks) with the
test's own inventory, and returns the exit code, the output and the per-host recap, so a test can
assert ``changed=0`` on a second run or the failing task of an interrupted one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK_BIN = Path(sys.executable).parent / "ansible-playbook"

_RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)"
)


@dataclass
class PlaybookResult:
    """What one ansible-playbook run printed and how it ended."""

    returncode: int
    stdout: str
    stderr: str
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        """Changed tasks summed over every host of the recap."""
        return sum(host["changed"] for host in self.recap.values())

    def tail(self, chars: int = 6000) -> str:
        """The end of the output, for assertion messages."""
        return (self.stdout + self.stderr)[-chars:]


def parse_recap(stdout: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP lines of the default callback, per host."""
    recap: dict[str, dict[str, int]] = {}
    in_recap = False
    for line in stdout.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        match = _RECAP.match(line.strip()) if in_recap else None
        if match:
            recap[match.group("host")] = {
                key: int(value) for key, value in match.groupdict().items() if key != "host"
            }
    return recap


def run_playbook(
    playbook: str | Path,
    inventory: Path,
    extra_vars: dict | None = None,
    *,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    workdir: Path,
    timeout: int = 900,
    repo: Path = REPO,
) -> PlaybookResult:
    """``ansible-playbook <playbook> -i <inventory> -e @vars.json [args]`` from the repository root
    (``repo``: a copy made by ``product_copy``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [str(PLAYBOOK_BIN), str(repo / playbook), "-i", str(inventory)]
    if extra_vars is not None:
        vars_file = workdir / "extra-vars.json"
        vars_file.write_text(json.dumps(extra_vars))
        command += ["-e", f"@{vars_file}"]
    command += args or []
    run_env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(repo / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        **workdir_env(workdir),
        PATH=f"{PLAYBOOK_BIN.parent}:{os.environ.get('PATH', '')}",
        **(env or {}),
    )
    proc = subprocess.run(
        command, cwd=repo, env=run_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, parse_recap(proc.stdout))


def workdir_env(workdir: Path) -> dict[str, str]:
    """Ansible's temporary files, home and SSH control sockets under ``workdir`` (not the user's
    ~/.ansible), and no warning about the implicit localhost or an inventory source not parsed."""
    return {
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-local"),
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(workdir / "cp"),
    }


def cluster_config(name: str = "harness", **overrides: object) -> dict:
    """A valid cluster.yml (the state folder follows SPARKLAB_HOME, which each test sets)."""
    return {
        "cluster_name": name,
        "cluster_admin_cidrs": ["203.0.113.4/32"],
        "cluster_worker_count": 2,
        **overrides,
    }


# What a playbook run reads from the checkout (the collection link is relative: it follows the copy).
PRODUCT_PARTS = (
    "ansible.cfg", "galaxy.yml", "meta", "site.yml", "playbooks", "roles", "plugins", "inventory",
    "collections",
)


def product_copy(dest: Path, edits: dict[str, Callable[[str], str]]) -> Path:
    """A copy of the product under ``dest`` with ``edits`` (relative path -> text edit) applied, for
    tests that inject a defect and expect a run to fail; an edit that changes nothing is an error."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in PRODUCT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part, symlinks=True)
        else:
            shutil.copy2(source, dest / part)
    for relative, edit in edits.items():
        path = dest / relative
        before = path.read_text()
        after = edit(before)
        if after == before:
            raise ValueError(f"the edit of {relative} changed nothing")
        path.write_text(after)
    return dest


def failed_tasks(stdout: str) -> dict[str, str]:
    """Task name -> the text of its first ``fatal:`` result, from the default callback's output."""
    failed: dict[str, str] = {}
    task, lines, collecting = "", [], False
    for line in stdout.splitlines() + ["TASK [end]"]:
        if line.startswith(("TASK [", "PLAY ", "RUNNING HANDLER [")):
            if collecting and task not in failed:
                failed[task] = "\n".join(lines)
            collecting, lines = False, []
            if line.startswith("TASK ["):
                task = line[6 : line.rfind("]")]
        elif line.startswith("fatal:"):
            collecting = True
        if collecting:
            lines.append(line)
    return failed
