"""SSH host keys as cloud-init prints them to the instance console, checked against ssh-keyscan.

cloud-init's ``keys_to_console`` module runs its ``write-ssh-key-fingerprints`` tool once per
instance (canonical/cloud-init ``cloudinit/config/cc_keys_to_console.py`` and
``tools/write-ssh-key-fingerprints``): between ``-----BEGIN SSH HOST KEY FINGERPRINTS-----`` and
``-----END SSH HOST KEY FINGERPRINTS-----`` one ``ssh-keygen -l`` line per host key
(``256 SHA256:<base64> root@host (ED25519)``), between ``-----BEGIN SSH HOST KEY KEYS-----`` and
``-----END SSH HOST KEY KEYS-----`` the public keys (``ssh-ed25519 AAAA... root@host``). The lines
pass through ``logger -t ec2``, so on the console each may carry a prefix (``ec2: ``, a kernel
time stamp): the parsers look for the key and fingerprint forms inside each line.

The console is written by the instance itself before any network path to it exists, and read
through the signed EC2 API (GetConsoleOutput): a key that matches it is the instance's own.
Standard library only; imported by the ``aws_console_host_keys`` module and by the tests.
"""

from __future__ import annotations

import base64
import hashlib
import re

BEGIN_FINGERPRINTS = "-----BEGIN SSH HOST KEY FINGERPRINTS-----"
END_FINGERPRINTS = "-----END SSH HOST KEY FINGERPRINTS-----"
BEGIN_KEYS = "-----BEGIN SSH HOST KEY KEYS-----"
END_KEYS = "-----END SSH HOST KEY KEYS-----"

_KEY = re.compile(r"(?P<type>ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521))"
                  r"\s+(?P<blob>AAAA[A-Za-z0-9+/]+={0,3})")
_FINGERPRINT = re.compile(r"\b\d+\s+(?P<fp>SHA256:[A-Za-z0-9+/]+)\s.*\((?P<type>[A-Z0-9]+)\)\s*$")
# ssh-keygen -l names a key type in parentheses: the public key's type -> that name.
KEYGEN_NAMES = {"ssh-ed25519": "ED25519", "ssh-rsa": "RSA", "ecdsa-sha2-nistp256": "ECDSA",
                "ecdsa-sha2-nistp384": "ECDSA", "ecdsa-sha2-nistp521": "ECDSA"}


def _last_block(text: str, begin: str, end: str) -> list[str] | None:
    """The lines of the last complete ``begin`` ... ``end`` block (the latest boot), or None."""
    lines = text.splitlines()
    block: list[str] | None = None
    current: list[str] | None = None
    for line in lines:
        if begin in line:
            current = []
        elif end in line and current is not None:
            block, current = current, None
        elif current is not None:
            current.append(line)
    return block


def console_keys(text: str) -> dict[str, str]:
    """Public keys of the last KEYS block: key type -> base64 blob."""
    keys: dict[str, str] = {}
    for line in _last_block(text, BEGIN_KEYS, END_KEYS) or []:
        match = _KEY.search(line)
        if match:
            keys[match["type"]] = match["blob"]
    return keys


def console_fingerprints(text: str) -> dict[str, str]:
    """Fingerprints of the last FINGERPRINTS block: ssh-keygen type name (ED25519) -> SHA256:..."""
    found: dict[str, str] = {}
    for line in _last_block(text, BEGIN_FINGERPRINTS, END_FINGERPRINTS) or []:
        match = _FINGERPRINT.search(line.rstrip())
        if match:
            found[match["type"]] = match["fp"]
    return found


def fingerprint(blob: str) -> str:
    """``SHA256:...`` of a public key blob, as ``ssh-keygen -l`` prints it."""
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def scanned_key(keyscan_output: str) -> tuple[str, str] | None:
    """(type, blob) of the first key line ``ssh-keyscan`` printed, or None."""
    for line in keyscan_output.splitlines():
        if line.startswith("#"):
            continue
        match = _KEY.search(line)
        if match:
            return match["type"], match["blob"]
    return None


def check(keyscan_output: str, console: str) -> tuple[str, str]:
    """Compare the scanned key with the console: ("match" | "none" | "mismatch", one-line detail).

    "none": the console shows neither block yet (cloud-init has not run, or the console has not
    been published); "mismatch": the console lists keys and the scanned one is not among them.
    """
    scanned = scanned_key(keyscan_output)
    if scanned is None:
        return "mismatch", "ssh-keyscan returned no key"
    key_type, blob = scanned
    keys, prints = console_keys(console), console_fingerprints(console)
    if not keys and not prints:
        return "none", "the console shows no SSH host keys yet"
    scanned_print = fingerprint(blob)
    if key_type in keys and keys[key_type] != blob:
        return "mismatch", (f"the {key_type} key the node answered with ({scanned_print}) "
                            "is not the one on its console")
    expected = prints.get(KEYGEN_NAMES.get(key_type, ""))
    if expected is not None and expected != scanned_print:
        return "mismatch", (f"the {key_type} key the node answered with has fingerprint {scanned_print}, "
                            f"its console says {expected}")
    if key_type not in keys and expected is None:
        return "mismatch", f"the console lists no {key_type} key"
    return "match", scanned_print
