#!/usr/bin/env python3
"""Read-only: list the primary keys of an OpenPGP key file (armored or binary) as JSON.

Usage: key_probe.py FILE.
Prints {"exists": bool, "keys": [{"fingerprint", "validity", "expires", "expired"}]},
from `gpg --batch --show-keys --with-colons` (GnuPG 2.2.8+; no keyring is changed). The
fingerprint of a primary key is the "fpr" record right after its "pub" record; validity "e" is
expired, "r" revoked; field 7 is the expiry in seconds since the epoch (doc/DETAILS of GnuPG).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def main(path: str) -> dict:
    if not os.path.isfile(path):
        return {"exists": False, "keys": []}
    home = tempfile.mkdtemp(prefix="key-probe-")
    try:
        proc = subprocess.run(
            ["gpg", "--batch", "--show-keys", "--with-colons", "--fixed-list-mode", path],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "GNUPGHOME": home},
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    keys = []
    previous = ""
    for line in proc.stdout.splitlines():
        fields = line.split(":")
        if fields[0] == "fpr" and previous == "pub" and keys:
            keys[-1]["fingerprint"] = fields[9].upper()
        if fields[0] == "pub":
            expires = int(fields[6] or 0)
            expired = fields[1] in ("e", "r") or (expires != 0 and expires <= time.time())
            keys.append({"fingerprint": "", "validity": fields[1], "expires": expires, "expired": expired})
        previous = fields[0]
    return {"exists": True, "keys": keys, "gpg_rc": proc.returncode}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
