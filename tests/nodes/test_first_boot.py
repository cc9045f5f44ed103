"""node_prep waits for cloud-init and for the boot-time apt runs before it uses apt.

The role's boot tasks are executed by ansible-playbook on localhost with two stand-ins first on
PATH, written by the test:
- ``cloud-init``: answers ``status --wait`` with a given exit code. Upstream cloud-init
  (cloudinit/cmd/status.py) exits 0 when done, 2 when done with recoverable errors, 1 on a
  critical failure.
- ``systemctl``: answers ``is-active <units>`` as systemd does (prints one state per unit, exit 0
  while at least one unit is active), "active" for the first N calls, then "inactive".
What only a real Ubuntu instance proves: that cloud-init and apt-daily really finish (tests/e2e).
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
from local_play import run_local_play

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

CLOUD_INIT = """#!/bin/sh
echo "cloud-init $*" >> "$STANDIN_DIR/calls.log"
echo "status: done"
exit "$(cat "$STANDIN_DIR/cloud-init-rc")"
"""

SYSTEMCTL = """#!/bin/sh
echo "systemctl $*" >> "$STANDIN_DIR/calls.log"
count=$(cat "$STANDIN_DIR/systemctl-count" 2>/dev/null || echo 0)
echo $((count + 1)) > "$STANDIN_DIR/systemctl-count"
shift
if [ "$count" -lt "$(cat "$STANDIN_DIR/active-calls")" ]; then
  for unit in "$@"; do echo active; done
  exit 0
fi
for unit in "$@"; do echo inactive; done
exit 3
"""


def _run_boot(
    tmp_path: Path, *, cloud_init_rc: int | None, active_calls: int, retries: int
) -> tuple[int, str, list[str]]:
    standin = tmp_path / "bin"
    standin.mkdir(exist_ok=True)
    if cloud_init_rc is not None:
        (standin / "cloud-init").write_text(CLOUD_INIT)
        (standin / "cloud-init").chmod(0o755)
        (tmp_path / "cloud-init-rc").write_text(str(cloud_init_rc))
    (standin / "systemctl").write_text(SYSTEMCTL)
    (standin / "systemctl").chmod(0o755)
    (tmp_path / "active-calls").write_text(str(active_calls))
    (tmp_path / "play.yml").write_text(
        textwrap.dedent(
            f"""\
            - name: Run the first-boot tasks of node_prep
              hosts: localhost
              gather_facts: false
              tasks:
                - name: Wait for cloud-init and the apt runs of the boot
                  ansible.builtin.include_role:
                    name: {REPO}/roles/node_prep
                    tasks_from: boot
                  vars:
                    node_prep_apt_units_wait_retries: {retries}
            """
        )
    )
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "STANDIN_DIR": str(tmp_path),
        # No system directory that could hold a real cloud-init: only the stand-ins and the venv.
        "PATH": f"{standin}:{VENV_BIN}:/bin",
    }
    proc = run_local_play(tmp_path / "play.yml", env)
    log = tmp_path / "calls.log"
    calls = log.read_text().splitlines() if log.exists() else []
    return proc.returncode, proc.stdout, calls


def _task_states(out: str) -> dict[str, dict]:
    result = json.loads(out[out.find("{") :])
    # The json callback names a role's task "<role> : <task name>".
    return {
        t["task"]["name"].split(" : ")[-1]: t["hosts"]["localhost"]
        for p in result["plays"]
        for t in p["tasks"]
    }


UNITS = "systemctl is-active apt-daily.service apt-daily-upgrade.service"


@pytest.mark.slow
def test_waits_for_cloud_init_and_for_the_apt_units_to_become_inactive(tmp_path: Path) -> None:
    rc, out, calls = _run_boot(tmp_path, cloud_init_rc=2, active_calls=1, retries=3)
    assert rc == 0, out
    # cloud-init first (done with recoverable errors is done), then the units until inactive.
    assert calls == ["cloud-init status --wait", UNITS, UNITS]
    assert _task_states(out)["boot | Stop when the automatic apt runs are still going"].get("skipped") is True


@pytest.mark.slow
def test_without_cloud_init_only_the_apt_units_are_checked(tmp_path: Path) -> None:
    rc, out, calls = _run_boot(tmp_path, cloud_init_rc=None, active_calls=0, retries=3)
    assert rc == 0, out
    assert calls == [UNITS]
    assert _task_states(out)["boot | Wait for cloud-init to finish"].get("skipped") is True


@pytest.mark.slow
def test_a_failed_cloud_init_stops_the_role(tmp_path: Path) -> None:
    rc, out, calls = _run_boot(tmp_path, cloud_init_rc=1, active_calls=0, retries=3)
    assert rc != 0
    assert calls == ["cloud-init status --wait"]


@pytest.mark.slow
def test_apt_units_still_running_after_the_wait_stop_the_role_with_their_names(tmp_path: Path) -> None:
    rc, out, calls = _run_boot(tmp_path, cloud_init_rc=0, active_calls=100, retries=1)
    assert rc != 0
    assert calls == ["cloud-init status --wait", UNITS, UNITS]
    message = _task_states(out)["boot | Stop when the automatic apt runs are still going"]["msg"]
    assert "apt-daily.service, apt-daily-upgrade.service still running after 10 s" in message
    assert "node_prep_apt_units_wait_retries" in message
