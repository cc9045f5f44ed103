"""The local credentials endpoint: any Authorization header is refused quietly, idle clients are
dropped, and the number of serving threads is bounded."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.request

import pytest

from sparklab.cluster.credentials import CredentialEndpoint, Resolved

CREDS = Resolved("AKIDEXAMPLE", "secret-example", None, "test")


def _get(endpoint: CredentialEndpoint, authorization: bytes) -> bytes:
    """A raw HTTP GET, so that the header may carry any bytes."""
    port = int(endpoint.url.rsplit(":", 1)[1].split("/", 1)[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /credentials HTTP/1.0\r\nAuthorization: " + authorization + b"\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _token(endpoint: CredentialEndpoint) -> str:
    return endpoint.child_env()["AWS_CONTAINER_AUTHORIZATION_TOKEN"]


def test_non_ascii_authorization_is_refused_without_a_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    with CredentialEndpoint(CREDS) as endpoint:
        near_miss = _token(endpoint)[:-1].encode() + b"\xe9"
        for header in ("é".encode("latin-1"), "ü-token".encode(), b"\xff\xfe", near_miss):
            reply = _get(endpoint, header)
            assert reply.startswith(b"HTTP/1.0 403"), reply[:80]
        good = _get(endpoint, _token(endpoint).encode())
        assert good.startswith(b"HTTP/1.0 200")
        assert json.loads(good.split(b"\r\n\r\n", 1)[1])["AccessKeyId"] == "AKIDEXAMPLE"
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "Exception" not in captured.err, captured.err


def test_idle_clients_are_dropped_and_threads_are_bounded() -> None:
    before = threading.active_count()
    with CredentialEndpoint(CREDS, idle_timeout=0.5, max_threads=8) as endpoint:
        port = int(endpoint.url.rsplit(":", 1)[1].split("/", 1)[0])
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(100)]
        time.sleep(0.2)  # let the server accept them
        peak = threading.active_count() - before
        # 8 serving threads at most, plus the server's own accept loop.
        assert peak <= 8 + 1, peak
        # Every idle connection is closed by the server: those beyond the bound at once, the others
        # when their idle timeout expires (recv returns b"" on an orderly close).
        for sock in idle:
            assert sock.recv(1) == b""
            sock.close()
        deadline = time.monotonic() + 10
        while threading.active_count() - before > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert threading.active_count() - before <= 1
        request = urllib.request.Request(endpoint.url, headers={"Authorization": _token(endpoint)})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert json.loads(reply.read())["SecretAccessKey"] == "secret-example"


def test_idle_connections_without_a_token_do_not_starve_a_real_request() -> None:
    """Any local user can hold connections to the endpoint open without a token (one byte now and
    then, or reconnecting when dropped); the run's own request is served anyway."""
    stop = threading.Event()
    with CredentialEndpoint(CREDS) as endpoint:
        port = int(endpoint.url.rsplit(":", 1)[1].split("/", 1)[0])
        idle = []
        for _ in range(40):
            sock = socket.socket()
            sock.settimeout(10)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                idle.append(sock)
            time.sleep(0.02)  # one at a time, so the listen backlog does not hide them from the server

        def trickle() -> None:  # keep every connection alive with one byte of a request line at a time
            while not stop.wait(0.3):
                for sock in idle:
                    with contextlib.suppress(OSError):
                        sock.send(b"G")

        keeper = threading.Thread(target=trickle, daemon=True)
        keeper.start()
        try:
            time.sleep(0.5)  # let the server accept them all
            request = urllib.request.Request(endpoint.url, headers={"Authorization": _token(endpoint)})
            with urllib.request.urlopen(request, timeout=15) as reply:
                assert json.loads(reply.read())["AccessKeyId"] == "AKIDEXAMPLE"
        finally:
            stop.set()
            keeper.join()
            for sock in idle:
                sock.close()
