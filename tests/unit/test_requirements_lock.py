"""The three lock files pin what their .txt files pin, with hashes, and agree with each other.

requirements.lock is what runner.py installs; requirements-local.lock what the first ``--local``
run adds; requirements-dev.lock what ``make test`` installs. The tests must run on the users'
versions, so the development lock keeps every runtime and local pin unchanged (same version, same
hashes): a test install can no longer float to a release users never get.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")
HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[_name(match[1])] = match[2]
    return pins


def _locked(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Each locked requirement: its version and its set of hashes."""
    entries: dict[str, tuple[str, frozenset[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text()):
        match = PIN.match(block)
        if match:
            entries[_name(match[1])] = (match[2], frozenset(HASH.findall(block)))
    return entries


@pytest.mark.parametrize(("source", "lock"), [
    ("requirements.txt", "requirements.lock"),
    ("requirements-local.txt", "requirements-local.lock"),
    ("requirements-dev.txt", "requirements-dev.lock"),
    ("requirements.txt", "requirements-dev.lock"),
    ("requirements-local.txt", "requirements-dev.lock"),
])
def test_every_pin_is_in_its_lock_with_the_same_version_and_a_hash(source: str, lock: str) -> None:
    wanted = _pins(REPO / source)
    locked = _locked(REPO / lock)
    assert wanted, f"{source} pins nothing"
    assert {name: locked[name][0] if name in locked else None for name in wanted} == wanted
    unhashed = sorted(name for name, (_, hashes) in locked.items() if not hashes)
    assert not unhashed, f"{lock}: pins without a hash (pip --require-hashes refuses them): {unhashed}"


@pytest.mark.parametrize("lock", ["requirements-local.lock", "requirements-dev.lock"])
def test_the_runtime_pins_are_kept_unchanged_in_the_other_locks(lock: str) -> None:
    runtime = _locked(REPO / "requirements.lock")
    other = _locked(REPO / lock)
    changed = {name: (runtime[name][0], other[name][0])
               for name in runtime.keys() & other.keys() if other[name] != runtime[name]}
    assert not changed, f"{lock} moves runtime pins (runtime, {lock}): {changed}; run `make lock`"
    if lock == "requirements-dev.lock":
        assert runtime.keys() <= other.keys(), "the test install lacks runtime packages"
        local = _locked(REPO / "requirements-local.lock")
        assert all(other.get(name) == entry for name, entry in local.items())


def test_the_test_command_installs_only_the_hash_checked_lock() -> None:
    script = (REPO / "scripts" / "test.sh").read_text()
    installs = [line for line in script.splitlines()
                if ("pip\" install" in line or "pip install" in line) and not line.lstrip().startswith("if ")]
    assert installs and all("--require-hashes -r requirements-dev.lock" in line for line in installs)
    assert "make lock" in (REPO / "README.md").read_text() or "make lock" in _docs_text()


def _docs_text() -> str:
    return "\n".join(p.read_text() for p in (REPO / "docs").rglob("*.md"))
