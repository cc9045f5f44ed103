"""AWS credentials for Ansible runs without writing them anywhere.

ansible-runner records the whole environment of the process it starts (``artifacts/<id>/command``,
the status data) and Ansible caches the facts of ``localhost``, environment included. So the
credentials must not be in that environment at all. Instead:

1. runner.py resolves the user's credentials in its own process with botocore's standard chain
   (environment, ``AWS_PROFILE``/``~/.aws``, SSO, assume-role, ...). The instance-metadata
   provider is left out so resolving never touches the network.
2. It serves them for the duration of one run from a small HTTP endpoint on 127.0.0.1 that
   answers only requests carrying a random per-run token, in the format of the container
   credentials provider that botocore already supports (``AWS_CONTAINER_CREDENTIALS_FULL_URI``).
3. The Ansible process gets the endpoint URL and the token instead of the keys; every other
   credential source is removed from its environment so it cannot pick up a different identity.

When the run ends the endpoint closes, so the token that ansible-runner records is worthless.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Variables that carry or select credentials; none of them reaches the Ansible process.
CREDENTIAL_ENV_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "EC2_ACCESS_KEY",
    "EC2_SECRET_KEY",
    "EC2_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)
HOW_TO_PROVIDE = (
    "no AWS credentials found (fix: export AWS_PROFILE=<profile> after `aws configure` or "
    "`aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; "
    "to try sparklab without an account run `python3 runner.py plan`)"
)


class CredentialsMissing(Exception):
    """No credentials could be resolved locally."""


@dataclass(frozen=True)
class Resolved:
    access_key: str
    secret_key: str
    token: str | None
    method: str

    def secret_values(self) -> tuple[str, ...]:
        return tuple(v for v in (self.access_key, self.secret_key, self.token) if v)


def _session() -> Any:
    import botocore.session

    session = botocore.session.Session()
    resolver = session.get_component("credential_provider")
    # Resolving must never probe the instance metadata service (a network call with timeouts).
    resolver.providers = [p for p in resolver.providers if p.METHOD != "iam-role"]
    return session


def resolve() -> Any:
    """Return botocore credentials from the user's standard sources, or raise CredentialsMissing."""
    try:
        credentials = _session().get_credentials()
    except Exception as exc:  # botocore raises many kinds: bad profile, expired SSO token, ...
        raise CredentialsMissing(f"AWS credentials could not be loaded: {exc} ({HOW_TO_PROVIDE})") from exc
    if credentials is None:
        raise CredentialsMissing(HOW_TO_PROVIDE)
    return credentials


def freeze(credentials: Any) -> Resolved:
    frozen = credentials.get_frozen_credentials()
    return Resolved(frozen.access_key, frozen.secret_key, frozen.token, getattr(credentials, "method", "?"))


def throwaway() -> Resolved:
    """Random fake credentials for the local emulator (they are worthless anywhere else)."""
    return Resolved(
        access_key="AKIAEMULATOR" + secrets.token_hex(4).upper(),
        secret_key=secrets.token_urlsafe(30),
        token=None,
        method="emulator",
    )


def _token_matches(header: str, token: str) -> bool:
    """Constant-time comparison of bytes: a header with any characters never raises."""
    return secrets.compare_digest(header.encode("utf-8", "surrogateescape"), token.encode("ascii"))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # socket timeout: an idle client is dropped
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self.server.served(self.request)  # a whole request arrived: no longer an idle connection
        if not _token_matches(self.headers.get("Authorization", ""), self.server.token):
            self.send_response(403)
            self.end_headers()
            return
        body = json.dumps(self.server.payload()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence access logs
        return


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most ``max_threads`` at once.

    When every thread is taken, the connection that has waited longest without sending a whole
    request is closed to make room: idle or trickling clients (any local user can open them) cannot
    keep the run's own request out, which sends its request as soon as it connects.
    """

    daemon_threads = True
    token: str
    source: Any
    idle_timeout: float
    slots: threading.BoundedSemaphore
    waiting: dict[Any, None]  # connections without a whole request yet, oldest first
    waiting_lock: threading.Lock

    def served(self, request: Any) -> None:
        with self.waiting_lock:
            self.waiting.pop(request, None)

    def _evict_oldest(self) -> None:
        with self.waiting_lock:
            oldest = next(iter(self.waiting), None)
            if oldest is None:
                return
            del self.waiting[oldest]
        with contextlib.suppress(OSError):  # its thread's read returns at once and the slot frees
            oldest.shutdown(socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self._evict_oldest()
            if not self.slots.acquire(timeout=1.0):
                self.shutdown_request(request)
                return
        with self.waiting_lock:
            self.waiting[request] = None
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.served(request)
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.served(request)
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a broken or timed-out client is not the user's problem: no traceback on the terminal


@dataclass
class CredentialEndpoint:
    """Serve one set of credentials on 127.0.0.1 for the length of a ``with`` block."""

    source: Any  # botocore Credentials (refreshable or not) or Resolved
    idle_timeout: float = 2.0  # seconds a connection may stay silent
    max_threads: int = 16  # connections served at once
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    def __enter__(self) -> CredentialEndpoint:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.token = secrets.token_urlsafe(32)
        server.idle_timeout = self.idle_timeout
        server.slots = threading.BoundedSemaphore(self.max_threads)
        server.waiting = {}
        server.waiting_lock = threading.Lock()
        server.payload = self._payload  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="sparklab-credentials", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _payload(self) -> dict[str, Any]:
        creds = self.source if isinstance(self.source, Resolved) else freeze(self.source)
        expiry = getattr(self.source, "_expiry_time", None)
        if not isinstance(expiry, datetime):
            expiry = datetime.now(UTC) + timedelta(hours=1)
        return {
            "AccessKeyId": creds.access_key,
            "SecretAccessKey": creds.secret_key,
            "Token": creds.token,
            "Expiration": expiry.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    @property
    def url(self) -> str:
        assert self._server is not None, "endpoint not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/credentials"

    def child_env(self) -> dict[str, str]:
        """Environment entries that make botocore in a child process use this endpoint."""
        assert self._server is not None, "endpoint not started"
        return {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": self._server.token,
            # No other source may win over the endpoint in the child.
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }


def scrub(env: dict[str, str]) -> dict[str, str]:
    """Remove every credential-carrying variable from ``env`` (in place) and return it."""
    for key in CREDENTIAL_ENV_VARS:
        env.pop(key, None)
    return env
