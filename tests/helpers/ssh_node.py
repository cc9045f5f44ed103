"""A systemd container that answers SSH as an EC2 node does, for tests that read a node over SSH.

The container runs the molecule base image of Debian 12 (``scripts/build-base-image.sh``: systemd,
the ``ubuntu`` login user with passwordless sudo, as on Ubuntu's images) plus ``openssh-server`` from
the Debian archive, built once and tagged by a hash of its recipe. The test puts the cluster's public
key in ``ubuntu``'s ``authorized_keys`` and records the container's host key in a known_hosts file
from inside the container (``docker exec``), never by asking the network; the container is reached
at its address on a docker network the test creates.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from node_images import base_image, docker, image_with_packages

REPO = Path(__file__).resolve().parents[2]
PACKAGES = "openssh-server"
# What a systemd container needs (as the cluster harness runs its nodes).
RUN_ARGS = ["--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--security-opt",
            "apparmor=unconfined", "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            "--tmpfs", "/run", "--tmpfs", "/run/lock", "--stop-signal", "SIGRTMIN+3"]


def sshd_image() -> str:
    """The base image plus openssh-server (Debian archive), built once per recipe."""
    return image_with_packages(base_image(), "sparklab/ssh-node", PACKAGES, enable="ssh")


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
