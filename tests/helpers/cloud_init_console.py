"""Instance consoles as cloud-init writes them at first boot, with host keys made by ssh-keygen.

Format: canonical/cloud-init ``tools/write-ssh-key-fingerprints`` (run by
``cloudinit/config/cc_keys_to_console.py``) prints an empty line, a line of ``#``, a FINGERPRINTS
block of ``ssh-keygen -l`` lines (``256 SHA256:<base64> root@host (ED25519)``), another line of
``#``, then a KEYS block of the public key files (``ssh-ed25519 AAAA... root@host``), all through
``logger -t ec2 --stderr``, so each line reaches the console as ``ec2: <line>``; kernel and
cloud-init lines come around them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from sparklab.core.contract import module_utils

host_keys = module_utils("host_keys")


def host_key(folder: Path, kind: str) -> tuple[str, str]:
    """(public key line, ``ssh-keygen -l`` line) of a new key of ``kind``."""
    path = folder / f"ssh_host_{kind}_key"
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "root@ip-10-42-0-17", "-f", str(path)],
                   check=True)
    public = Path(f"{path}.pub")
    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(public)], check=True, capture_output=True,
                            text=True)
    return public.read_text().strip(), listed.stdout.strip()


def console_text(keys: list[tuple[str, str]], with_keys: bool = True, with_prints: bool = True) -> str:
    """A console as an EC2 node shows it after cloud-init's first boot."""
    lines = ["[    0.000000] Linux version 6.8.0-1012-aws (buildd@lcy02-amd64-089)",
             "[   12.345678] cloud-init[712]: Cloud-init v. 24.4 running 'modules:config'"]
    block = ["", "#############################################################"]
    if with_prints:
        block += [host_keys.BEGIN_FINGERPRINTS, *(listed for _, listed in keys),
                  host_keys.END_FINGERPRINTS, "#############################################################"]
    if with_keys:
        block += ["", host_keys.BEGIN_KEYS, *(public for public, _ in keys), host_keys.END_KEYS]
    lines += [f"ec2: {line}" for line in block]
    lines.append("[   15.000000] cloud-init[712]: Cloud-init v. 24.4 finished")
    return "\n".join(lines) + "\n"
