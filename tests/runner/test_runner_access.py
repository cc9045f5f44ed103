"""Reaching nodes: ``ssh``, ``dashboard`` and ``up`` never connect to an emulator's invented node addresses;
``ssh`` gives up on a node that does not answer in one line; ``dashboard`` explains a 404.

Emulator cases run the real runner.py against moto with a seeded cluster, a fake ``ssh`` on PATH that
records its calls, and tests/helpers/connect_recorder/sitecustomize.py, which logs every TCP connect
of the runner.py process and refuses any outside 127.0.0.0/8. The non-emulator cases call the verb
in this process with the AWS scan replaced by an inventory whose node is 127.0.0.1 (a stand-in for
a scan of a real account, where the verbs do connect); every socket they open is on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import random
import socket
import threading
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from runner_sandbox import FAKE_ACCESS_KEY, FAKE_SECRET, REGION, Sandbox
from seeded_cluster import SeededCluster, seed_cluster

from sparklab import cli
from sparklab.cluster import aws
from sparklab.cluster.emulator import Emulator, free_port
from sparklab.commands import access
from sparklab.commands.base import Context
from sparklab.core.errors import RunFailed

RECORDER = Path(__file__).resolve().parents[1] / "helpers" / "connect_recorder"
FAKE_SSH = "#!/bin/sh\necho \"$@\" >> {log}\nexit 0\n"


@pytest.fixture
def seeded(emulator: Emulator) -> Iterator[SeededCluster]:
    cluster = seed_cluster(emulator.endpoint_url, REGION, emulator.current_ami(REGION), "acc-emu",
                           creator="arn:aws:iam::123456789012:user/moto")
    yield cluster
    cluster.remove()


def _recording(sandbox: Sandbox) -> tuple[Path, Path]:
    """A fake ssh first on PATH and the connect recorder on PYTHONPATH; returns both log files."""
    bin_dir = sandbox.root / "bin"
    bin_dir.mkdir()
    ssh_log, connect_log = sandbox.root / "ssh-calls.log", sandbox.root / "connects.log"
    for tool in ("ssh", "ssh-keyscan"):
        (bin_dir / tool).write_text(FAKE_SSH.format(log=ssh_log))
        (bin_dir / tool).chmod(0o755)
    sandbox.env["PATH"] = f"{bin_dir}:{sandbox.env['PATH']}"
    sandbox.env["PYTHONPATH"] = str(RECORDER)
    sandbox.env["SPARKLAB_TEST_CONNECT_LOG"] = str(connect_log)
    return ssh_log, connect_log


def _connects(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_ssh_dashboard_and_up_refuse_an_emulator_in_one_line_and_connect_nowhere(with_aws: Sandbox,
                                                                                seeded) -> None:
    ssh_log, connect_log = _recording(with_aws)
    # The recorder is loaded in runner.py: a status against moto logs its connections to 127.0.0.1.
    status = with_aws.run("status", "--name", seeded.name, timeout=120)
    assert status.returncode == 0, status.stdout + status.stderr
    seen = _connects(connect_log)
    assert seen and all(line.startswith("127.0.0.1 ") for line in seen), seen
    connect_log.unlink()

    for verb in (["ssh", "worker-1"], ["dashboard"], ["up"]):
        result = with_aws.run(*verb, "--name", seeded.name, timeout=120)
        assert result.returncode == 2, (verb, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (verb, result.stderr)
        assert lines[0].startswith(f"error: {verb[0]}: AWS_ENDPOINT_URL points at an emulator "
                                   f"({with_aws.env['AWS_ENDPOINT_URL']}), whose node addresses are invented")
        assert "sparklab opens no connection to them" in lines[0]
        assert _connects(connect_log) == [], (verb, _connects(connect_log))
    assert not ssh_log.exists(), ssh_log.read_text()
    assert "python3 runner.py provision --name acc-emu creates the infrastructure alone" in result.stderr


def test_the_ssh_wait_of_provisioning_is_skipped_under_an_emulator(with_aws: Sandbox, tmp_path: Path) -> None:
    """The aws_instances SSH tasks, run by a local play on an invented node address: under the emulator
    one line and no connection; without it the same tasks try that address (refused by the recorder)."""
    from local_play import run_local_play

    ssh_log, connect_log = _recording(with_aws)
    with_aws.env["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"  # messages on one line, unwrapped
    role = Path(access.__file__).resolve().parents[2] / "roles" / "aws_instances"
    play = tmp_path / "ssh_wait.yml"
    play.write_text(f"""---
- name: The SSH wait of aws_instances
  hosts: localhost
  gather_facts: false
  vars:
    aws_instances_wait_for_ssh: true
    aws_instances_ssh_timeout: 2
    aws_instances_known_hosts_path: {tmp_path}/known_hosts
    aws_instances_nodes: [{{name: acc-worker-1, public_ip: 203.0.113.77}}]
  tasks:
    - name: Load the role's variables
      ansible.builtin.include_vars: {role}/vars/main.yml
    - name: Run the role's SSH tasks
      ansible.builtin.include_tasks: {role}/tasks/ssh.yml
""")
    emulated = run_local_play(play, with_aws.env)
    assert emulated.returncode == 0, emulated.stdout[-3000:]
    assert ("Not waiting for SSH: the AWS endpoint is an emulator "
            f"({with_aws.env['AWS_ENDPOINT_URL']}), whose node addresses are invented") in emulated.stdout
    assert not [c for c in _connects(connect_log) if not c.startswith("127.")], _connects(connect_log)
    assert not ssh_log.exists()

    real = dict(with_aws.env)
    del real["AWS_ENDPOINT_URL"]
    on_aws = run_local_play(play, real)
    assert on_aws.returncode != 0  # the recorder refused the wait's connection, as a dead node would
    assert "203.0.113.77 22" in _connects(connect_log), _connects(connect_log)


def _context(argv: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Context, StringIO]:
    """The verb's context as runner.py builds it, outside any emulator, with fake credentials."""
    for key in aws.EMULATOR_ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("SPARKLAB_HOME", str(tmp_path / "sparklab-home"))
    monkeypatch.chdir(tmp_path)
    args, overrides = cli.parse(argv)
    out = StringIO()
    return Context(args=args, overrides=overrides, out=out), out


def _local_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in for the scan of a real account: one running control plane and worker at 127.0.0.1."""
    nodes = [aws.Node(f"demo-{role}-1", f"i-0{n}", "t3.large", role, "running", "127.0.0.1", "10.0.0.1", None)
             for n, role in enumerate(("control-plane", "worker"))]
    monkeypatch.setattr(aws, "scan", lambda cluster, target: aws.Inventory(cluster, REGION, nodes=nodes))


def test_ssh_to_a_node_that_does_not_answer_gives_up_in_one_line(monkeypatch, tmp_path) -> None:
    ctx, _ = _context(["ssh", "worker-1", "--name", "demo"], monkeypatch, tmp_path)
    _local_cluster(monkeypatch)
    closed = free_port()  # nothing listens there: the node "does not answer"
    monkeypatch.setattr(access, "SSH_PORT", closed)
    calls: list[list[str]] = []
    monkeypatch.setattr(access.os, "execvp", lambda file, argv: calls.append(argv))
    with pytest.raises(RunFailed) as failure:
        access.ssh(ctx)
    assert str(failure.value) == (
        f"demo-worker-1 (127.0.0.1) does not answer on port {closed}: Connection refused "
        "(check: python3 runner.py status --name demo; is your address in cluster_admin_cidrs?)")
    assert calls == [], "ssh must not be started for a node that does not answer"


def test_ssh_runs_with_a_short_connect_timeout(monkeypatch, tmp_path) -> None:
    ctx, _ = _context(["ssh", "worker-1", "--name", "demo", "--", "uptime"], monkeypatch, tmp_path)
    _local_cluster(monkeypatch)
    listener = socket.create_server(("127.0.0.1", 0))
    monkeypatch.setattr(access, "SSH_PORT", listener.getsockname()[1])
    calls: list[list[str]] = []
    monkeypatch.setattr(access.os, "execvp", lambda file, argv: calls.append(argv))
    try:
        access.ssh(ctx)
    finally:
        listener.close()
    assert len(calls) == 1
    cmd = calls[0]
    assert cmd[0] == "ssh" and cmd[-2:] == ["ubuntu@127.0.0.1", "uptime"]
    assert "ConnectTimeout=10" in cmd and "ConnectionAttempts=1" in cmd and "StrictHostKeyChecking=yes" in cmd


class _NotFound(http.server.BaseHTTPRequestHandler):
    def version_string(self) -> str:
        return "nginx/1.27"

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


def _server_in_nodeport_range() -> http.server.HTTPServer:
    for port in random.sample(range(30000, 32768), 50):
        try:
            return http.server.HTTPServer(("127.0.0.1", port), _NotFound)
        except OSError:
            continue
    raise AssertionError("no free port in the NodePort range on 127.0.0.1")


def test_dashboard_that_gets_404_says_what_answered_and_what_to_check(monkeypatch, tmp_path) -> None:
    server = _server_in_nodeport_range()
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ctx, out = _context(["dashboard", "--name", "demo", "--dashboard-node-port", str(port)],
                            monkeypatch, tmp_path)
        _local_cluster(monkeypatch)
        assert access.dashboard(ctx) == 1
    finally:
        server.shutdown()
        server.server_close()
    assert out.getvalue().splitlines() == [
        f"dashboard: http://127.0.0.1:{port}/",
        f"http://127.0.0.1:{port}/ answered HTTP 404, server 'nginx/1.27', not the dashboard (check: the "
        f"kube-opex-analytics Helm release is deployed, its Service is a NodePort on {port}, the security "
        f"group opens {port} to your address)",
    ]

