"""runner.py verbs end to end: the real runner.py, ansible-runner and playbooks against moto."""

from __future__ import annotations

import os
import re
import signal
import stat
import time
from pathlib import Path

import pytest
from local_services import tagged_resources
from runner_sandbox import CALLER_ADDRESS, FAKE_ACCESS_KEY, FAKE_SECRET, REGION, Sandbox

NO_SSH = ("-e", "aws_instances_wait_for_ssh=false")
ANSI = re.compile(r"\x1b\[")


def _every_file(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists()
            for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


def _assert_no_secret(*roots: Path) -> list[Path]:
    """Assert no file under ``roots`` holds the fake credentials; return every file scanned."""
    files = _every_file(*roots)
    for path in files:
        data = path.read_bytes()
        for needle in (FAKE_SECRET, FAKE_ACCESS_KEY):
            assert needle.encode() not in data, f"credential value written to {path}"
    return files


@pytest.mark.slow
@pytest.mark.xdist_group("runner-provision")
def test_provision_status_down_leaves_nothing_and_writes_no_secret(with_aws: Sandbox, emulator) -> None:
    cluster = "rt-cycle"
    args = ("--name", cluster, "--worker-count", "1", *NO_SSH)

    up = with_aws.run("provision", *args)
    assert up.returncode == 0, up.stdout + up.stderr
    # Non-TTY progress: plain, timestamped lines with the phase and each finished task; no colours.
    assert re.search(r"^\[\s*\d+s\] phase 1/1: provision$", up.stdout, re.M), up.stdout
    assert re.search(r"^\[\s*[\d:]+s?\] provision \| task \d+ of \d+ \| .+: (ok|changed) ", up.stdout, re.M)
    assert not ANSI.search(up.stdout)
    created = tagged_resources(emulator.endpoint_url, REGION, cluster)
    assert any(r.startswith("instance") for r in created) and len(created) >= 8, created
    assert f"admin access (SSH, API server, dashboard) from {CALLER_ADDRESS}/32" in up.stdout

    status = with_aws.run("status", *args)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"{cluster}-control-plane-1" in status.stdout and f"{cluster}-worker-1" in status.stdout
    assert "expires at:" in status.stdout and "per hour" in status.stdout and "cost so far" in status.stdout

    down = with_aws.run("down", "--yes", *args)
    assert down.returncode == 0, down.stdout + down.stderr
    assert f"0 resources of cluster {cluster} exist" in down.stdout
    assert down.stdout.rstrip().endswith("\n0 resources left")  # the sentence the README promises
    assert tagged_resources(emulator.endpoint_url, REGION, cluster) == []
    audit = (with_aws.sparklab_home / cluster / "audit.log").read_text()
    assert "confirmed=--yes" in audit and "result=ok left=0" in audit

    # Secrets: ansible-runner's command/job_events/fact cache, sparklab's vars and logs, ~/.ansible.
    runs = sorted((with_aws.sparklab_home / cluster / "runs").iterdir())
    assert [r.name.split("-")[-1] for r in runs] == ["provision", "down"]
    command_files = list(with_aws.sparklab_home.rglob("artifacts/*/command"))
    assert len(command_files) == 2, "ansible-runner artifacts are expected under the run folders"
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in command_files[0].read_text()
    scanned = set(_assert_no_secret(with_aws.sparklab_home, with_aws.home, with_aws.root))
    assert len(scanned) > 20
    assert set(command_files) <= scanned
    assert {run / "cluster-vars.json" for run in runs} <= scanned
    assert any(p.parent.name == "job_events" for p in scanned), "ansible-runner's events were not scanned"
    for run in runs:
        assert stat.S_IMODE(run.stat().st_mode) == 0o700
        assert stat.S_IMODE((run / "artifacts").stat().st_mode) == 0o700
        assert stat.S_IMODE((run / "cluster-vars.json").stat().st_mode) == 0o600
        assert not (run / "env").exists(), "ansible-runner env files must not be written"


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(") ", 1)[1][0] not in "ZX"
    except (OSError, IndexError):
        return False


def _processes_of(home: Path) -> list[int]:
    """Live processes whose environment points at this test's SPARKLAB_HOME (orphans included)."""
    needle = f"SPARKLAB_HOME={home}".encode()
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0") and _alive(int(entry.name)):
                    out.append(int(entry.name))
            except OSError:
                continue
    return out


@pytest.mark.slow
@pytest.mark.xdist_group("runner-interrupt")
def test_sigint_mid_provision_exits_130_leaves_no_process_and_down_cleans_up(with_aws: Sandbox,
                                                                             emulator) -> None:
    cluster = "rt-sigint"
    args = ("--name", cluster, "--worker-count", "1", *NO_SSH)
    proc = with_aws.popen("provision", *args)
    assert proc.stdout is not None
    seen: list[str] = []
    tree: set[int] = set()
    deadline = time.monotonic() + 180
    for line in proc.stdout:
        seen.append(line)
        tree |= _descendants(proc.pid)
        # Interrupt once the VPC exists and the next resources are being created.
        if "routing | Create the public subnet" in line:
            break
        assert time.monotonic() < deadline, "provision never reached the network step"
    time.sleep(1.0)
    tree |= _descendants(proc.pid)
    assert any(b"ansible-playbook" in Path(f"/proc/{p}/cmdline").read_bytes() for p in tree if _alive(p))
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    assert "interrupted" in output
    assert f"resume:    python3 runner.py provision --name {cluster}" in output
    assert f"tear down: python3 runner.py down --name {cluster}" in output
    assert re.search(r"\d+ resources of cluster rt-sigint exist", output), output
    left = [p for p in tree if _alive(p)]
    assert left == [], f"processes of the interrupted run still alive: {left}"
    assert _processes_of(with_aws.sparklab_home) == []
    created = tagged_resources(emulator.endpoint_url, REGION, cluster)
    assert created, "the interrupted run should have created something"

    down = with_aws.run("down", "--yes", *args)
    assert down.returncode == 0, down.stdout + down.stderr
    assert tagged_resources(emulator.endpoint_url, REGION, cluster) == []
    scanned = set(_assert_no_secret(with_aws.sparklab_home, with_aws.home))
    run_vars = set(with_aws.sparklab_home.glob(f"{cluster}/runs/*/cluster-vars.json"))
    assert len(run_vars) == 2 and run_vars <= scanned  # the interrupted provision and the down
    assert any(p.parent.name == "job_events" for p in scanned), "ansible-runner's events were not scanned"


@pytest.mark.slow
@pytest.mark.xdist_group("runner-plan")
def test_plan_runs_offline_without_credentials(offline: Sandbox) -> None:
    result = offline.run("plan", "--name", "rt-plan")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "local AWS emulator" in out and "nothing was created in AWS" in out
    for kind in ("instance", "vpc", "subnet", "internet-gateway", "route-table", "security-group", "key-pair",
                 "s3-bucket"):
        assert re.search(rf"^  {kind} ", out, re.M), f"{kind} missing from the plan:\n{out}"
    assert len(re.findall(r"^  instance ", out, re.M)) == 3  # 1 control plane + 2 workers (defaults)
    assert re.search(r"total about \$0\.\d+ per hour \(approximate eu-west-1", out)
    assert "1 x t3.medium" in out and "2 x t3.large" in out
    assert "next: python3 runner.py up --name rt-plan" in out
    # Nothing of the plan's emulated cluster leaks into the real state folder.
    assert not (offline.sparklab_home / "rt-plan" / "id_ed25519").exists()
