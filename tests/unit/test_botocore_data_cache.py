"""The test run's cache of botocore's parsed data files (tests/helpers/botocore_data_cache.py).

Each case runs a real interpreter with the real botocore of the test virtualenv; the hook is this
checkout's file, installed by path before botocore is imported, as its `.pth` line does.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import botocore_data_cache

HOOK = Path(botocore_data_cache.__file__)

PROGRAM = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("hook_under_test", sys.argv[1])
hook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hook)
if sys.argv[2]:
    hook.install(sys.argv[2])
import botocore.loaders, botocore.session
from collections import OrderedDict
session = botocore.session.get_session()
client = session.create_client("ec2", region_name="eu-west-1", endpoint_url="http://127.0.0.1:9",
                               aws_access_key_id="x", aws_secret_access_key="y")
loader = session.get_component("data_loader")
waiters = loader.load_service_model("ec2", "waiters-2")
def kinds(value):
    if isinstance(value, dict):
        return [type(value).__name__] + [kinds(v) for v in value.values()]
    if isinstance(value, list):
        return [kinds(v) for v in value]
    return type(value).__name__
print(json.dumps({
    "patched": botocore.loaders.JSONFileLoader._load_file.__module__ == "hook_under_test",
    "operations": sorted(client.meta.service_model.operation_names),
    "waiter": waiters["waiters"]["InstanceRunning"]["delay"],
    "kinds": kinds(waiters),
}))
"""


def run(cache: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != botocore_data_cache.ENV}
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(HOOK), str(cache or "")], env=env,
                          capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout)


def test_the_stored_data_is_what_botocore_parses_and_a_second_process_reads_it(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    plain = run(None)
    first = run(cache)
    assert not plain["patched"] and first["patched"]
    assert first["operations"] == plain["operations"] and len(plain["operations"]) > 500
    assert first["kinds"] == plain["kinds"] and "OrderedDict" in json.dumps(plain["kinds"])
    stored = {entry.name: pickle.loads(entry.read_bytes()) for entry in cache.iterdir()}
    assert stored and not any("." in name for name in stored)  # no partial file left behind

    # The next process reads the stored data instead of parsing: an entry changed on purpose (the
    # waiter's delay) is what it gets.
    name, waiters = next((n, d) for n, d in stored.items() if "InstanceRunning" in d.get("waiters", {}))
    waiters["waiters"]["InstanceRunning"]["delay"] = 4242
    (cache / name).write_bytes(pickle.dumps(waiters))
    second = run(cache)
    assert second["waiter"] == 4242 and plain["waiter"] != 4242
    assert second["operations"] == plain["operations"] and second["kinds"] == plain["kinds"]
    assert sorted(entry.name for entry in cache.iterdir()) == sorted(stored)


def test_a_changed_file_has_another_key_and_a_broken_entry_is_parsed_again(tmp_path):
    data = tmp_path / "service-2.json"
    data.write_text('{"a": 1}')
    before = botocore_data_cache.cache_key(str(data), data.stat())
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 1_000_000_000))
    assert botocore_data_cache.cache_key(str(data), data.stat()) != before

    cache = tmp_path / "cache"
    cache.mkdir()
    run(cache)
    for entry in cache.iterdir():
        entry.write_bytes(b"\x80truncated")
    plain, again = run(None), run(cache)
    assert again["operations"] == plain["operations"] and again["waiter"] == plain["waiter"]
    assert all(entry.read_bytes() != b"\x80truncated" for entry in cache.iterdir())
