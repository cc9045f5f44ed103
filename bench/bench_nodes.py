"""Benchmark: converge node_prep, containerd and kubernetes_packages on 1 and on 4 containers.

For each size it starts fresh Debian 12 systemd containers (the molecule image), builds the local
Kubernetes package repository in them (not timed), then times a first converge and a re-run of
the molecule converge playbook. It prints the times and the ratios 4/1 (aim < 1.5) and
re-run/first-run (aim < 0.35). Only the containers it started are removed.

Usage: .venv/bin/python bench/bench_nodes.py   (needs a docker engine; builds the image if missing)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "molecule" / "_shared"
BIN = Path(sys.executable).parent
CONTAINER_ARGS = [
    "--cap-add",
    "SYS_ADMIN",
    "--cap-add",
    "NET_ADMIN",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--cgroupns",
    "host",
    "--volume",
    "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
    "--tmpfs",
    "/var/lib/containerd:rw,exec,size=512m",
    "--stop-signal",
    "SIGRTMIN+3",
]
ANSIBLE_CFG = """[defaults]
roles_path = {roles}
interpreter_python = auto_silent
forks = 10
host_key_checking = false
retry_files_enabled = false
[connection]
pipelining = true
"""


@dataclass
class Timing:
    hosts: int
    first: float
    rerun: float


def image() -> str:
    if os.environ.get("MOLECULE_IMAGE"):
        return os.environ["MOLECULE_IMAGE"]
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-base-image.sh")], check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def start_containers(names: list[str], image_name: str) -> None:
    for name in names:
        subprocess.run(
            ["docker", "run", "--detach", "--name", name, "--hostname", name, *CONTAINER_ARGS, image_name],
            check=True,
            capture_output=True,
        )


def remove_containers(names: list[str]) -> None:
    if names:
        subprocess.run(["docker", "rm", "--force", *names], check=False, capture_output=True)


def playbook(playbook_path: Path, inventory: Path, env: dict[str, str]) -> float:
    started = time.monotonic()
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook_path)],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-2000:])
        raise SystemExit(f"{playbook_path.name} failed (exit {result.returncode})")
    return elapsed


def measure(hosts: int, image_name: str, workdir: Path) -> Timing:
    names = [f"sparklab-bench-{hosts}-{index}" for index in range(1, hosts + 1)]
    inventory = workdir / f"inventory-{hosts}.ini"
    lines = ["[cluster]", *[f"{name} ansible_connection=community.docker.docker" for name in names]]
    inventory.write_text("\n".join(lines) + "\n")
    cfg = workdir / "ansible.cfg"
    cfg.write_text(ANSIBLE_CFG.format(roles=ROOT / "roles"))
    env = {**os.environ, "ANSIBLE_CONFIG": str(cfg), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    try:
        start_containers(names, image_name)
        playbook(SHARED / "prepare.yml", inventory, env)
        first = playbook(SHARED / "converge.yml", inventory, env)
        rerun = playbook(SHARED / "converge.yml", inventory, env)
        return Timing(hosts, first, rerun)
    finally:
        remove_containers(names)


def main() -> int:
    image_name = image()
    with tempfile.TemporaryDirectory(prefix="sparklab-bench-nodes-") as tmp:
        one = measure(1, image_name, Path(tmp))
        four = measure(4, image_name, Path(tmp))
    print(f"image: {image_name}")
    print(f"{'hosts':>5} {'first run s':>12} {'re-run s':>9} {'re-run/first':>13}")
    for timing in (one, four):
        ratio = timing.rerun / timing.first
        print(f"{timing.hosts:>5} {timing.first:>12.1f} {timing.rerun:>9.1f} {ratio:>13.2f}")
    print(f"ratio 4/1 first run: {four.first / one.first:.2f} (aim < 1.5)")
    print(f"ratio 4/1 re-run:    {four.rerun / one.rerun:.2f}")
    print(f"ratio re-run/first (1 host): {one.rerun / one.first:.2f} (aim < 0.35)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
