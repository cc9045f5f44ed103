"""The aws_instances role records a node's host key only when it matches the node's console.

The role's ``ssh`` tasks run against the emulator with one node whose address is 127.0.0.1 (set
by the test, never an address the emulator invented): a listener on 127.0.0.1:22 answers the SSH
wait with an OpenSSH banner, a stand-in ``ssh-keyscan`` on PATH prints the key "the node" answers
with, and GetConsoleOutput comes from moto, whose fixed console text the test replaces in this
process (moto serves from here) with the blocks cloud-init prints (tests/helpers/cloud_init_console.py
builds them). A key that differs from the console, or a console without the blocks, stops the run
in one line with nothing recorded.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from awslab import REGION, ROOT, VENV_BIN, AwsLab
from cloud_init_console import console_text
from cloud_init_console import host_key as _host_key
from moto.ec2.responses import general

PLAY = """\
- name: Record the host keys of the nodes
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Run the ssh tasks of aws_instances
      ansible.builtin.include_role:
        name: sparklab.cluster.aws_instances
        tasks_from: ssh
"""


@pytest.fixture(scope="module")
def ssh_banner() -> Iterator[None]:
    """127.0.0.1:22 answers like OpenSSH, for the role's wait_for (nothing else is spoken)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind(("127.0.0.1", 22))
    except OSError as err:
        pytest.fail(f"127.0.0.1:22 is taken or not allowed here ({err}): this test needs it for the SSH wait")
    server.listen(8)
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()
    server.close()


def _node(aws: AwsLab) -> str:
    ec2 = aws.client("ec2")
    reply = ec2.run_instances(ImageId=aws.emulator.current_ami(REGION), InstanceType="t3.medium",
                              MinCount=1, MaxCount=1)
    return reply["Instances"][0]["InstanceId"]


def _run(aws: AwsLab, tmp_path: Path, instance_id: str,
         answered: str) -> tuple[subprocess.CompletedProcess, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    keyscan = bin_dir / "ssh-keyscan"
    kind, blob = answered.split()[:2]
    keyscan.write_text("#!/bin/sh\necho '# 127.0.0.1:22 SSH-2.0-OpenSSH_9.6p1'\n"
                       f"echo '127.0.0.1 {kind} {blob}'\n")
    keyscan.chmod(0o755)
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    known_hosts = tmp_path / "known_hosts"
    extra = {
        "__aws_instances_emulator": "",  # the node's address is the test's own 127.0.0.1
        "aws_instances_nodes": [{"name": "demo-control-plane-1", "id": instance_id,
                                 "public_ip": "127.0.0.1"}],
        "aws_instances_known_hosts_path": str(known_hosts),
        "aws_instances_region": REGION,
        "aws_instances_ssh_timeout": 10,
        "aws_instances_host_key_console_timeout": 3,
    }
    env = dict(aws.env, PATH=f"{bin_dir}{os.pathsep}{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"))
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(play),
                           "-e", json.dumps(extra),
                           "-e", f"ansible_python_interpreter={VENV_BIN / 'python'}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc, known_hosts


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch):
    def set_text(text: str) -> None:
        monkeypatch.setattr(general, "SAMPLE_CONSOLE_OUTPUT", text)
    return set_text


def test_a_key_that_matches_the_console_is_recorded(aws: AwsLab, ssh_banner, console, tmp_path: Path) -> None:
    public, listed = _host_key(tmp_path, "ed25519")
    console(console_text([(public, listed)]))
    proc, known_hosts = _run(aws, tmp_path, _node(aws), public)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert public.split()[1] in known_hosts.read_text()


def test_a_key_that_differs_from_the_console_is_refused_and_not_recorded(aws: AwsLab, ssh_banner, console,
                                                                        tmp_path: Path) -> None:
    public, listed = _host_key(tmp_path, "ed25519")
    intruder, _ = _host_key(_other(tmp_path), "ed25519")  # a machine in the middle answers
    console(console_text([(public, listed)]))
    instance = _node(aws)
    proc, known_hosts = _run(aws, tmp_path, instance, intruder)
    assert proc.returncode != 0
    assert f"{instance}: the ssh-ed25519 key the node answered with" in proc.stdout
    assert not known_hosts.exists() or intruder.split()[1] not in known_hosts.read_text()


def test_a_console_without_keys_is_refused_after_a_bounded_wait(aws: AwsLab, ssh_banner,
                                                                 tmp_path: Path) -> None:
    public, _ = _host_key(tmp_path, "ed25519")  # moto's own console text: a kernel log, no keys
    instance = _node(aws)
    proc, known_hosts = _run(aws, tmp_path, instance, public)
    assert proc.returncode != 0
    assert f"{instance}: the console shows no SSH host keys from cloud-init after" in proc.stdout
    assert not known_hosts.exists()


def _other(tmp_path: Path) -> Path:
    folder = tmp_path / "intruder"
    folder.mkdir()
    return folder
