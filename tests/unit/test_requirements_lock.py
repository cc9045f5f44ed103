"""requirements.lock (what runner.py installs, with hashes) pins exactly what requirements.txt pins."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def test_every_runtime_pin_is_in_the_lock_with_the_same_version_and_hashes() -> None:
    wanted = _pins(REPO / "requirements.txt")
    locked = _pins(REPO / "requirements.lock")
    assert len(wanted) >= 10
    assert {name: locked.get(name) for name in wanted} == wanted
    text = (REPO / "requirements.lock").read_text()
    # Every locked requirement carries at least one sha256 hash (pip --require-hashes needs them all).
    blocks = re.split(r"\n(?=[a-z0-9])", text.split("\n\n", 1)[1])
    assert all("--hash=sha256:" in block for block in blocks if PIN.match(block)), "a pin without hash"
