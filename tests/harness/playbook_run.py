"""Run the project's playbooks with the real ansible-playbook of the virtualenv, as a user would.

Every run uses the repository's ``ansible.cfg`` (roles, the collection link, callbacks) with the
test's own inventory, and returns the exit code, the output and the per-host recap, so a test can
assert ``changed=0`` on a second run or the failing task of an interrupted one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
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
) -> PlaybookResult:
    """``ansible-playbook <playbook> -i <inventory> -e @vars.json [args]`` from the repository root."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [str(PLAYBOOK_BIN), str(REPO / playbook), "-i", str(inventory)]
    if extra_vars is not None:
        vars_file = workdir / "extra-vars.json"
        vars_file.write_text(json.dumps(extra_vars))
        command += ["-e", f"@{vars_file}"]
    command += args or []
    run_env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_LOCAL_TEMP=str(workdir / "ansible-local"),
        ANSIBLE_HOME=str(workdir / "ansible-home"),
        ANSIBLE_SSH_CONTROL_PATH_DIR=str(workdir / "cp"),
        PATH=f"{PLAYBOOK_BIN.parent}:{os.environ.get('PATH', '')}",
        **(env or {}),
    )
    proc = subprocess.run(
        command, cwd=REPO, env=run_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, parse_recap(proc.stdout))


def cluster_config(name: str = "harness", **overrides: object) -> dict:
    """A valid cluster.yml (the state folder follows SPARKLAB_HOME, which each test sets)."""
    return {
        "cluster_name": name,
        "cluster_admin_cidrs": ["203.0.113.4/32"],
        "cluster_worker_count": 2,
        **overrides,
    }
