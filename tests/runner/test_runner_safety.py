"""Runs that must not harm a cluster: one run at a time, a closed terminal cleans up, run ids stay inside.

Real runner.py processes throughout; AWS is the moto emulator or a counting listener on 127.0.0.1.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from local_services import CountingListener, tagged_resources
from runner_sandbox import FAKE_ACCESS_KEY, FAKE_SECRET, REGION, REPO, Sandbox

NO_SSH = ("-e", "aws_instances_wait_for_ssh=false")


def _hold_lock(sandbox: Sandbox, cluster: str, verb: str) -> subprocess.Popen[str]:
    """Another process that takes the cluster's lock the way runner.py does, then waits."""
    code = ("import sys, time; from sparklab.core.lock import hold; "
            f"hold({cluster!r}, {verb!r}); print('held', flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=sandbox.env,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_locked_cluster_refuses_every_changing_verb_before_any_aws_call(offline: Sandbox) -> None:
    """provision, up, down, wordcount: exit 2, one line naming the holder; a dead holder's lock is reused."""
    listener = CountingListener()
    offline.env.update({"AWS_ENDPOINT_URL": listener.url, "SPARKLAB_CHECKIP_URL": listener.url,
                        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": FAKE_SECRET})
    holder = _hold_lock(offline, "demo", "up")
    try:
        lock_file = offline.sparklab_home / "demo" / "lock"
        assert json.loads(lock_file.read_text())["pid"] == holder.pid
        for verb in (["provision"], ["up"], ["down", "--yes"], ["wordcount", "--generate", "1MB"]):
            result = offline.run(*verb, "--name", "demo", timeout=60)
            assert result.returncode == 2, (verb, result.stdout, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1, (verb, result.stderr)
            assert lines[0].startswith("error: cluster demo is busy: `up` (pid "), lines[0]
            assert f"pid {holder.pid} on {socket.gethostname()}, running since 20" in lines[0]
            assert str(lock_file) in lines[0]
        assert listener.connections == 0, "a refused run must not reach AWS (or the IP service)"
        # Another cluster is not blocked by this one's lock.
        other = offline.run("down", "--yes", "--name", "other", timeout=60)
        assert "is busy" not in other.stderr
    finally:
        holder.kill()
        holder.wait()
    # The holder died without releasing anything: the next run takes the lock over.
    offline.env["AWS_ENDPOINT_URL"] = offline.env["SPARKLAB_CHECKIP_URL"] = "http://127.0.0.1:9"
    after = offline.run("report", "--name", "demo", timeout=60)  # a verb that takes no lock
    assert after.returncode == 1
    taken = offline.run("down", "--name", "demo", timeout=60, stdin="")
    assert "is busy" not in taken.stderr
    assert taken.stderr.strip() == "error: down needs confirmation (fix: run it in a terminal, or add --yes)"
    assert json.loads(lock_file.read_text())["pid"] != holder.pid
    assert json.loads(lock_file.read_text())["verb"] == "down"
    assert oct(lock_file.stat().st_mode & 0o777) == "0o600"
    listener.close()


@pytest.mark.slow
@pytest.mark.xdist_group("runner-provision")
def test_a_second_provision_while_one_runs_is_refused(with_aws: Sandbox, emulator) -> None:
    """Two real runner.py provisions of one cluster: the second stops at once, the first finishes alone."""
    cluster = "rt-lock"
    args = ("--name", cluster, "--worker-count", "1", *NO_SSH)
    first = with_aws.popen("provision", *args)
    assert first.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 180
    for line in first.stdout:
        seen.append(line)
        if "routing | Create the public subnet" in line:
            break
        assert time.monotonic() < deadline, "provision never reached the network step"
    second = with_aws.run("provision", *args, timeout=60)
    assert second.returncode == 2, second.stdout + second.stderr
    expected = f"error: cluster {cluster} is busy: `provision` (pid {first.pid} "
    assert second.stderr.strip().startswith(expected), second.stderr
    assert second.stdout == ""
    rest, _ = first.communicate(timeout=600)
    assert first.returncode == 0, "".join(seen) + rest
    # One route table, as one provision makes (two concurrent runs made two).
    kinds = [found.split()[0] for found in tagged_resources(emulator.endpoint_url, REGION, cluster)]
    assert kinds.count("RouteTables") == 1, kinds
    down = with_aws.run("down", "--yes", *args)
    assert down.returncode == 0, down.stdout + down.stderr
    assert tagged_resources(emulator.endpoint_url, REGION, cluster) == []


def _kubeconfig(path: Path, server: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
        f"clusters: [{{name: t, cluster: {{server: '{server}', insecure-skip-tls-verify: true}}}}]\n"
        "users: [{name: t, user: {token: not-a-secret}}]\n"
        "contexts: [{name: t, context: {cluster: t, user: t}}]\n"
    )


@pytest.mark.slow
def test_sighup_during_wordcount_removes_the_job_vars_file_and_stale_ones_at_start(with_aws: Sandbox) -> None:
    """A closed terminal (SIGHUP) ends wordcount through its cleanup: exit 130, no presigned URL on disk."""
    api = CountingListener(hold=True)  # a Kubernetes API that accepts and never answers: the playbook waits
    state = with_aws.sparklab_home / "rt-hup"
    _kubeconfig(state / "kubeconfig", api.url.replace("http", "https"))
    stale = state / "runs" / "20260101-000000-dead" / "job-vars.json"
    stale.parent.mkdir(parents=True)
    stale.write_text('{"spark_wordcount_output_urls": ["https://example.invalid/presigned"]}')
    # The cluster's bucket, as `up` leaves it: URLs are presigned only for a bucket this account owns.
    import boto3

    s3 = boto3.client("s3", region_name=REGION, endpoint_url=with_aws.env["AWS_ENDPOINT_URL"],
                      aws_access_key_id=FAKE_ACCESS_KEY, aws_secret_access_key=FAKE_SECRET)
    s3.create_bucket(Bucket=f"sparklab-rt-hup-123456789012-{REGION}",
                     CreateBucketConfiguration={"LocationConstraint": REGION})
    proc = with_aws.popen("wordcount", "--name", "rt-hup", "--generate", "1MB")
    try:
        deadline = time.monotonic() + 120
        current: list[Path] = []
        while not current:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "the job-vars file never appeared"
            current = [p for p in (state / "runs").glob("*/job-vars.json") if p != stale]
            time.sleep(0.1)
        assert not stale.exists(), "a stale job-vars file must be removed at start"
        assert oct(current[0].stat().st_mode & 0o777) == "0o600"
        proc.send_signal(signal.SIGHUP)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        api.close()
    assert proc.returncode == 130, out
    assert not current[0].exists(), "the job-vars file (presigned URLs) outlived the run"
    assert list((state / "runs").glob("*/job-vars.json")) == []
    assert f"removed {stale}" in out


def test_report_accepts_only_run_ids(offline: Sandbox) -> None:
    """`report --run ..` (or any non run id): one line, exit 2; no summary or chart written anywhere."""
    cluster_dir = offline.sparklab_home / "demo"
    (cluster_dir / "runs").mkdir(parents=True)
    for bad in ("..", "../..", "20261127-100000-bbbb/..", "/tmp", "20261127-100000-bbbb\n"):
        result = offline.run("report", "--name", "demo", "--run", bad, timeout=60)
        assert result.returncode == 2, (bad, result.stdout + result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: --run ") and "fix:" in lines[0], lines
    written = [p for p in offline.root.rglob("*") if p.name in ("summary.txt", "usage.png")]
    assert written == []
    missing = offline.run("report", "--name", "demo", "--run", "20261127-100000-bbbb", timeout=60)
    assert missing.returncode == 2 and "no such run of cluster demo" in missing.stderr


def test_lock_file_is_not_followed_through_a_symlink(tmp_path: Path) -> None:
    """A lock path that is a symlink is refused in one line (O_NOFOLLOW): nothing is written through it."""
    from sparklab.core import lock
    from sparklab.core.errors import BadInput

    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / "lock").symlink_to(target)
    with pytest.raises(BadInput, match=r"cannot open the cluster lock .*\(fix: remove "):
        lock.acquire(tmp_path, "demo", "up")
    assert target.read_text() == "keep"


_HOP_IN = ("host", "content-length")
_HOP_OUT = ("content-length", "transfer-encoding", "connection", "content-encoding")


class _LateAws:
    """An HTTP layer before moto that models AWS finishing a request whose client is gone.

    The first request for ``action`` is held until its client disconnects (the interrupted run's
    module was killed); three seconds later (AWS was seen to go on for 2-5 s) it is forwarded to
    moto, which creates the resource.
    Every other request is forwarded at once.
    """

    def __init__(self, upstream: str, action: str) -> None:
        import http.server

        import requests

        self.upstream, self.action = upstream, action
        self.held = threading.Event()
        self.forwarded = threading.Event()
        session = requests.Session()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                late = f"Action={outer.action}".encode() in body and not outer.held.is_set()
                if late:
                    outer.held.set()
                    outer._wait_for_disconnect(self.connection)
                    time.sleep(3.0)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_IN}
                answer = session.request(self.command, outer.upstream + self.path, data=body, headers=headers,
                                         allow_redirects=False, timeout=60)
                if late:
                    outer.forwarded.set()
                    return  # nobody is listening any more
                self.send_response(answer.status_code)
                for k, v in answer.headers.items():
                    if k.lower() not in _HOP_OUT:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _wait_for_disconnect(conn: socket.socket) -> None:
        import select

        while True:
            readable, _, _ = select.select([conn], [], [], 0.2)
            if readable and conn.recv(1, socket.MSG_PEEK) == b"":
                return

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow
@pytest.mark.xdist_group("runner-provision")
def test_after_ctrl_c_the_summary_shows_what_aws_finished_later(with_aws: Sandbox, emulator) -> None:
    """A security group created by AWS after the run was stopped is in the printed summary."""
    cluster = "rt-late"
    late = _LateAws(emulator.endpoint_url, "CreateSecurityGroup")
    with_aws.env["AWS_ENDPOINT_URL"] = late.url
    args = ("--name", cluster, "--worker-count", "1", *NO_SSH)
    proc = with_aws.popen("provision", *args)
    try:
        assert late.held.wait(240), "provision never created its security group"
        assert all(not r.startswith("SecurityGroups") for r in tagged_resources(emulator.endpoint_url, REGION,
                                                                                  cluster))
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    assert late.forwarded.is_set()
    after = tagged_resources(emulator.endpoint_url, REGION, cluster)
    groups = [r.split()[1] for r in after if r.startswith("SecurityGroups")]
    assert len(groups) == 1, after
    summary = out.split("interrupted: the playbook and its processes were stopped", 1)[1]
    assert f"  security-group  {groups[0]}" in summary, summary
    for found in after:  # everything the independent scan finds after the exit is in the summary
        assert f"  {found.split()[1]}" in summary, (found, summary)
    down = with_aws.run("down", "--yes", *args)
    late.close()
    assert down.returncode == 0, down.stdout + down.stderr
    assert tagged_resources(emulator.endpoint_url, REGION, cluster) == []
