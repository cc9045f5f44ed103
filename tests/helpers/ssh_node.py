"""A systemd container that answers SSH as an EC2 node does, for tests that read a node over SSH.

The container runs the molecule base image of Debian 12 (``scripts/build-base-image.sh``: systemd,
the ``ubuntu`` login user with passwordless sudo, as on Ubuntu's images) plus ``openssh-server`` from
the Debian archive, built once and tagged by a hash of its recipe. The test puts the cluster's public
key in ``ubuntu``'s ``authorized_keys`` and records the container's host key in a known_hosts file
from inside the container (``docker exec``), never by asking the network; the container is reached
at its address on a docker network the test creates.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = "openssh-server"
# What a systemd container needs (as the cluster harness runs its nodes).
RUN_ARGS = ["--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--security-opt",
            "apparmor=unconfined", "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            "--tmpfs", "/run", "--tmpfs", "/run/lock", "--stop-signal", "SIGRTMIN+3"]


def docker(*args: str, stdin: bytes | None = None, check: bool = True) -> str:
    proc = subprocess.run(["docker", *args], input=stdin, capture_output=True, check=False, timeout=600)
    if check and proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} failed: {proc.stderr.decode()[-2000:]}")
    return proc.stdout.decode().strip()


def base_image(suite: str = "bookworm") -> str:
    exported = os.environ.get(f"MOLECULE_IMAGE_{suite.upper()}")
    if exported:
        return exported
    built = subprocess.run(["bash", str(REPO / "scripts" / "build-base-image.sh"), suite],
                           check=True, capture_output=True, text=True)
    return built.stdout.strip().splitlines()[-1]


def sshd_image() -> str:
    """The base image plus openssh-server (Debian archive), built once per recipe."""
    base = base_image()
    recipe = f"{base}\napt-get install --no-install-recommends {PACKAGES}\nsystemctl enable ssh\n"
    image = f"sparklab/ssh-node:{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"
    found = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False)
    if found.returncode == 0:
        return image
    name = f"sparklab-ssh-build-{uuid.uuid4().hex[:8]}"
    docker("run", "--name", name, base, "/bin/sh", "-c",
           "apt-get update -qq && DEBIAN_FRONTEND=noninteractive"
           f" apt-get install -y -qq --no-install-recommends {PACKAGES}"
           " && systemctl enable ssh && apt-get clean && rm -rf /var/lib/apt/lists/*")
    try:
        docker("commit", "--change", 'CMD ["/sbin/init"]', name, image)
    finally:
        docker("rm", "-f", name, check=False)
    return image


@dataclass
class SshNode:
    name: str
    address: str

    def run(self, *command: str, stdin: bytes | None = None, check: bool = True) -> str:
        """A command as root inside the container (not over SSH)."""
        return docker("exec", "-i", self.name, *command, stdin=stdin, check=check)

    def authorize(self, public_key: str, user: str = "ubuntu") -> None:
        keys = f"/home/{user}/.ssh/authorized_keys"
        self.run("sh", "-c", f"install -d -m 700 -o {user} -g {user} /home/{user}/.ssh && cat > {keys}"
                 f" && chown {user}:{user} {keys} && chmod 600 {keys}", stdin=public_key.encode())

    def known_hosts_line(self) -> str:
        """The container's ed25519 host key as a known_hosts line for its address."""
        key = self.run("cat", "/etc/ssh/ssh_host_ed25519_key.pub").split()
        return f"{self.address} {key[0]} {key[1]}\n"

    def wait_for_ssh(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.address, 22), timeout=2) as conn:
                    conn.settimeout(5)
                    if conn.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                pass
            time.sleep(1)
        raise TimeoutError(f"{self.name} ({self.address}) did not answer SSH within {timeout:g} s")


@contextmanager
def ssh_node() -> Iterator[SshNode]:
    """One systemd container with sshd on a new docker network; removed afterwards."""
    image = sshd_image()
    name = f"sparklab-ssh-{uuid.uuid4().hex[:8]}"
    network = f"{name}-net"
    docker("network", "create", network)
    try:
        docker("run", "-d", "--name", name, "--hostname", name, "--network", network, *RUN_ARGS, image,
               "/sbin/init")
        address = docker("inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}',
                         name)
        node = SshNode(name, address)
        node.wait_for_ssh()
        yield node
    finally:
        docker("rm", "-f", "-v", name, check=False)
        docker("network", "rm", network, check=False)
