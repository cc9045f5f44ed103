"""SSH host keys are recorded only when they match what cloud-init printed to the node's console.

The console fixtures (tests/helpers/cloud_init_console.py) follow the format cloud-init writes at
first boot, from canonical/cloud-init ``tools/write-ssh-key-fingerprints`` and
``cloudinit/config/cc_keys_to_console.py``; the keys and fingerprints are made by the real
ssh-keygen. The role and module path against the emulator is tested in
tests/emulator/test_console_host_keys_module.py.
"""

from __future__ import annotations

import pytest
from cloud_init_console import console_text, host_keys
from cloud_init_console import host_key as _host_key


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    folder = tmp_path_factory.mktemp("host-keys")
    return {kind: _host_key(folder, kind) for kind in ("ed25519", "ecdsa", "rsa")}


def _scanned(public: str) -> str:
    """What ``ssh-keyscan -t ed25519 <address>`` prints: a comment, then ``address type key``."""
    kind, blob = public.split()[:2]
    return f"# 203.0.113.10:22 SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\n203.0.113.10 {kind} {blob}\n"


def test_the_parser_reads_the_keys_and_fingerprints_cloud_init_prints(keys):
    text = console_text(list(keys.values()))
    found = host_keys.console_keys(text)
    assert found == {public.split()[0]: public.split()[1] for public, _ in keys.values()}
    prints = host_keys.console_fingerprints(text)
    assert set(prints) == {"ED25519", "ECDSA", "RSA"}
    for public, listed in keys.values():
        # our fingerprint of the key is the one ssh-keygen printed
        assert host_keys.fingerprint(public.split()[1]) == listed.split()[1]


def test_the_node_key_that_matches_its_console_is_accepted(keys):
    text = console_text(list(keys.values()))
    verdict, detail = host_keys.check(_scanned(keys["ed25519"][0]), text)
    assert (verdict, detail) == ("match", keys["ed25519"][1].split()[1])


def test_a_key_that_is_not_on_the_console_is_refused(keys, tmp_path):
    other, _ = _host_key(tmp_path, "ed25519")  # a machine in the middle answers with its own key
    verdict, detail = host_keys.check(_scanned(other), console_text(list(keys.values())))
    assert verdict == "mismatch" and "is not the one on its console" in detail


@pytest.mark.parametrize(("with_keys", "with_prints"), [(False, True), (True, False)])
def test_either_block_alone_decides(keys, tmp_path, with_keys, with_prints):
    text = console_text(list(keys.values()), with_keys=with_keys, with_prints=with_prints)
    assert host_keys.check(_scanned(keys["ed25519"][0]), text)[0] == "match"
    other, _ = _host_key(tmp_path, "ed25519")
    assert host_keys.check(_scanned(other), text)[0] == "mismatch"


def test_a_console_without_the_blocks_is_none_yet(keys):
    canned = ("Linux version 2.6.16-xenU (builder@patchbat.amazonsa)\n"
              "Kernel command line: root=/dev/sda1 ro 4\n")
    assert host_keys.check(_scanned(keys["ed25519"][0]), canned) == (
        "none", "the console shows no SSH host keys yet")
    half = console_text(list(keys.values())).split(host_keys.END_KEYS)[0]  # cut while printing
    half = half.split(host_keys.BEGIN_FINGERPRINTS)[0]
    assert host_keys.check(_scanned(keys["ed25519"][0]), half)[0] == "none"


def test_the_latest_boot_counts(keys, tmp_path):
    old, old_listed = _host_key(tmp_path, "ed25519")
    text = console_text([(old, old_listed)]) + console_text(list(keys.values()))
    assert host_keys.check(_scanned(keys["ed25519"][0]), text)[0] == "match"
    assert host_keys.check(_scanned(old), text)[0] == "mismatch"


def test_a_key_type_the_console_does_not_list_is_refused(keys):
    text = console_text([keys["rsa"]])
    verdict, detail = host_keys.check(_scanned(keys["ed25519"][0]), text)
    assert (verdict, detail) == ("mismatch", "the console lists no ssh-ed25519 key")
