"""The Kubernetes apt signing key is trusted only with a pinned fingerprint and is not re-fetched
while the installed key is valid.

The key tasks of kubernetes_packages are executed by ansible-playbook on localhost against a
local HTTP server on 127.0.0.1 that serves keys made by the real gpg in the test. The play ends
with ``meta: end_play`` so the notified apt-list refresh does not touch this machine's apt.
What only a real host proves: that pkgs.k8s.io serves the pinned key (tests/e2e).
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_play import run_local_play

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PROBE = REPO / "roles" / "kubernetes_packages" / "files" / "key_probe.py"


class KeyServer(http.server.BaseHTTPRequestHandler):
    key = b""
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(type(self).key)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def key_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), KeyServer)
    KeyServer.hits = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/Release.key"
    server.shutdown()
    server.server_close()


def _gpg(home: Path, *args: str) -> str:
    home.mkdir(mode=0o700, exist_ok=True)
    proc = subprocess.run(
        ["gpg", "--batch", "--passphrase", "", *args],
        env={**os.environ, "GNUPGHOME": str(home)},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


def _make_key(home: Path, uid: str, expire: str) -> tuple[str, bytes]:
    _gpg(home, "--quick-gen-key", uid, "ed25519", "sign", expire)
    fingerprint = [
        line.split(":")[9]
        for line in _gpg(home, "--with-colons", "--list-keys", uid).splitlines()
        if line[:3] == "fpr"
    ][0]
    return fingerprint, _gpg(home, "--armor", "--export", fingerprint).encode()


def _fingerprints(path: Path) -> list[str]:
    probe = json.loads(
        subprocess.run([sys.executable, str(PROBE), str(path)], capture_output=True, text=True).stdout
    )
    return [k["fingerprint"] for k in probe["keys"]]


def _run(tmp_path: Path, url: str, pins: list[str]) -> tuple[int, dict]:
    keyring = tmp_path / "keyrings" / "kubernetes-apt-keyring.gpg"
    variables = {
        "cluster_kubernetes_version": "1.37.1",
        "kubernetes_packages_key_url": url,
        "kubernetes_packages_keyring": str(keyring),
        "kubernetes_packages_key_fingerprints": pins,
        "ansible_become": False,
    }
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    (tmp_path / "play.yml").write_text(
        textwrap.dedent(
            f"""\
            - name: Trust the Kubernetes signing key
              hosts: localhost
              gather_facts: false
              tasks:
                - name: Run the key tasks of kubernetes_packages
                  ansible.builtin.include_role:
                    name: {REPO}/roles/kubernetes_packages
                    tasks_from: key
                - name: End here, before the handler would refresh this machine's apt lists
                  ansible.builtin.meta: end_play
            """
        )
    )
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
        "GNUPGHOME": str(tmp_path / "gnupg-role"),
    }
    proc = run_local_play(tmp_path / "play.yml", env, "-e", f"@{tmp_path / 'vars.json'}")
    result = json.loads(proc.stdout[proc.stdout.find("{") :])
    return proc.returncode, result


def _msg(result: dict) -> str:
    return json.dumps(
        [h for p in result["plays"] for t in p["tasks"] for h in t["hosts"].values() if h.get("failed")]
    )


@pytest.mark.slow
def test_pinned_key_is_trusted_once_and_an_unpinned_key_never(tmp_path: Path, key_server: str) -> None:
    keyring = tmp_path / "keyrings" / "kubernetes-apt-keyring.gpg"
    pinned, pinned_key = _make_key(tmp_path / "gnupg", "pinned <pinned@example.invalid>", "1y")
    other, other_key = _make_key(tmp_path / "gnupg", "other <other@example.invalid>", "1y")

    KeyServer.key = pinned_key
    rc, result = _run(tmp_path, key_server, [pinned])
    assert rc == 0, _msg(result)
    assert _fingerprints(keyring) == [pinned] and KeyServer.hits == 1

    rc, result = _run(tmp_path, key_server, [pinned])
    assert rc == 0, _msg(result)
    assert KeyServer.hits == 1, "a valid pinned key is not fetched again"
    assert result["stats"]["localhost"]["changed"] == 0

    # The server now hands out another key, and the keyring is gone: nothing gets trusted.
    keyring.unlink()
    KeyServer.key = other_key
    rc, result = _run(tmp_path, key_server, [pinned])
    assert rc != 0
    assert f"fingerprint(s) {other}" in _msg(result) and f"pinned: {pinned}" in _msg(result)
    assert not keyring.exists()
    assert list(keyring.parent.glob("*.new")) == [], "the staged key is removed"

    # A keyring holding an unpinned key is replaced by the pinned key.
    keyring.write_bytes(subprocess.run(["gpg", "--dearmor"], input=other_key, capture_output=True).stdout)
    KeyServer.key = pinned_key
    rc, result = _run(tmp_path, key_server, [pinned])
    assert rc == 0, _msg(result)
    assert _fingerprints(keyring) == [pinned]


@pytest.mark.slow
def test_an_expired_pinned_key_is_fetched_again_and_its_renewal_trusted(
    tmp_path: Path, key_server: str
) -> None:
    """Models pkgs.k8s.io in November 2024: the same key expired, then was published with a new expiry."""
    keyring = tmp_path / "keyrings" / "kubernetes-apt-keyring.gpg"
    home = tmp_path / "gnupg"
    fingerprint, _ = _make_key(home, "renewed <renewed@example.invalid>", "seconds=1")
    expired_key = _gpg(home, "--armor", "--export", fingerprint).encode()
    keyring.parent.mkdir()
    keyring.write_bytes(subprocess.run(["gpg", "--dearmor"], input=expired_key, capture_output=True).stdout)
    import time

    time.sleep(2)
    _gpg(home, "--quick-set-expire", fingerprint, "1y")
    KeyServer.key = _gpg(home, "--armor", "--export", fingerprint).encode()

    rc, result = _run(tmp_path, key_server, [fingerprint])
    assert rc == 0, _msg(result)
    assert KeyServer.hits == 1
    probe = json.loads(
        subprocess.run([sys.executable, str(PROBE), str(keyring)], capture_output=True, text=True).stdout
    )
    assert [(k["fingerprint"], k["expired"]) for k in probe["keys"]] == [(fingerprint, False)]
