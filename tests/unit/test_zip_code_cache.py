"""The test run's compile cache for code imported from zips (tests/helpers/zip_code_cache.py).

Each case runs a real interpreter that imports a module from a zip, as an Ansible module payload is
imported, with the hook loaded the way scripts/test.sh loads it (a `.pth` line at start-up).
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import zip_code_cache

HOOK = Path(zip_code_cache.__file__)

PROGRAM = """
import sys
sys.path.insert(0, sys.argv[1])
import payload_util
try:
    payload_util.check()
except ValueError as error:
    import traceback
    print(payload_util.ANSWER, traceback.extract_tb(error.__traceback__)[-1].filename)
"""


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir()
    return folder


def payload(folder: Path, name: str, answer: int) -> Path:
    """A zip holding one module, as AnsiballZ writes a new zip of a new name for every task."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ansible_{name}_payload.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("payload_util.py", f"ANSWER = {answer}\n\ndef check():\n    raise ValueError\n")
    return path


def run(tmp_path: Path, archive: Path, cache: Path | None, pth: str | None = None) -> str:
    """A fresh interpreter with the hook installed as a .pth line, importing from the zip: the
    controller's line with ``cache`` in ZIPIMPORT_CODE_CACHE, or the line ``pth`` (a node's)."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "_sparklab_zip_code_cache.py").write_text(HOOK.read_text())
    (site / "_sparklab_zip_code_cache.pth").write_text(pth or zip_code_cache.pth_line())
    env = {k: v for k, v in os.environ.items() if k != zip_code_cache.ENV}
    if cache is not None:
        env[zip_code_cache.ENV] = str(cache)
    # -S: not the test virtualenv's own copy of the hook (scripts/test.sh installs one), this file's.
    bootstrap = f"import site; site.addsitedir({str(site)!r}); exec({PROGRAM!r})"
    done = subprocess.run([sys.executable, "-S", "-c", bootstrap, str(archive)], env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip()


def test_second_import_of_the_same_source_loads_the_stored_code_and_names_its_own_zip(tmp_path, cache):
    first = payload(tmp_path / "one", "a", 1)
    assert run(tmp_path, first, cache) == f"1 {first}/payload_util.py"
    stored = sorted(cache.iterdir())
    assert len(stored) == 1 and "." not in stored[0].name  # no partial file left behind

    # Same source, another zip: the stored code is loaded. To prove it is read rather than compiled
    # again, the entry is replaced by the code of another source: the import runs that one.
    stored[0].write_bytes(marshal.dumps(compile("ANSWER = 2\n\ndef check():\n    raise ValueError\n",
                                                 "elsewhere.py", "exec")))
    again = payload(tmp_path / "two", "a", 1)
    # Tracebacks name the zip of this run, not the file the code was first compiled from.
    assert run(tmp_path, again, cache) == f"2 {again}/payload_util.py"
    assert sorted(cache.iterdir()) == stored


def test_changed_source_gets_its_own_entry_and_no_variable_means_no_cache(tmp_path, cache):
    for number, answer in enumerate((1, 2, 1)):
        archive = payload(tmp_path / str(number), "b", answer)
        assert run(tmp_path, archive, cache) == f"{answer} {archive}/payload_util.py"
    assert len(list(cache.iterdir())) == 2
    archive = payload(tmp_path / "plain", "b", 3)
    assert run(tmp_path, archive, None) == f"3 {archive}/payload_util.py"
    assert len(list(cache.iterdir())) == 2


def test_an_unreadable_entry_is_compiled_again(tmp_path, cache):
    first = payload(tmp_path / "one", "c", 5)
    run(tmp_path, first, cache)
    (entry,) = cache.iterdir()
    entry.write_bytes(b"\x00truncated")
    second = payload(tmp_path / "two", "c", 5)
    assert run(tmp_path, second, cache) == f"5 {second}/payload_util.py"
    assert entry.read_bytes() != b"\x00truncated"


def test_a_nodes_line_names_its_folder_without_the_variable(tmp_path, cache):
    """The line tests/harness/nodes.py gives a node container: tasks that become root run without
    the variable (sudo drops it), so the folder is in the line itself."""
    line = zip_code_cache.pth_line(str(cache))
    for number, answer in enumerate((7, 7, 9)):
        archive = payload(tmp_path / str(number), "d", answer)
        assert run(tmp_path, archive, None, pth=line) == f"{answer} {archive}/payload_util.py"
    assert len(list(cache.iterdir())) == 2


def test_a_store_that_fails_leaves_the_import_working(tmp_path, cache):
    archive = payload(tmp_path / "one", "e", 4)
    taken = cache / zip_code_cache.cache_key(f"{archive}/payload_util.py", archive_source(archive))
    (taken / "x").mkdir(parents=True)
    # The entry's name is taken by a folder: nothing can be read from or written to it.
    assert run(tmp_path, archive, cache) == f"4 {archive}/payload_util.py"
    assert list(cache.iterdir()) == [taken]  # the same name was looked up, no partial file is left


def archive_source(archive: Path) -> bytes:
    with zipfile.ZipFile(archive) as opened:
        return opened.read("payload_util.py")
