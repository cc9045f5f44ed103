"""A cache of botocore's parsed data files (service models, waiters, endpoints), in tests only.

Every amazon.aws task is a new Python process whose first client parses botocore's JSON data: the
EC2 service model alone is 3 MB of JSON, about 0.1 s of CPU (0.03 s from a pickle), in each of the
thousands of AWS tasks the emulator and runner.py tests run. This hook keeps each parsed file,
under a digest of its path, size and modification time, in a folder of the test run, and later
processes load that instead of parsing the same file again. The data botocore gets is equal, type
for type (its ``OrderedDict`` objects included), to what it parses itself; only the parse is skipped.

Active only when ``BOTOCORE_DATA_CACHE`` names a folder (``scripts/test.sh`` sets it to a folder of
its run, which only the run's user may read (``mktemp -d``), and loads this file with a ``.pth``
line of the test virtualenv).
botocore is not imported here: ``botocore.loaders`` is patched as it is first imported.
"""

from __future__ import annotations

# Only os and sys at import: every interpreter of the test virtualenv imports this file, and where
# the cache is off it must cost nothing (importlib.abc alone took 40-80 ms).
import os
import sys

ENV = "BOTOCORE_DATA_CACHE"
MODULE = "botocore.loaders"


def cache_key(full_path: str, stat: os.stat_result) -> str:
    """The digest a parsed file is stored under: interpreter, path, size and modification time."""
    import hashlib

    text = f"{sys.version_info[:2]}\0{full_path}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()


def patch(loaders, folder: str) -> None:
    """Make ``loaders.JSONFileLoader`` keep what it parses in ``folder`` and load it from there."""
    import contextlib
    import pickle

    parse = loaders.JSONFileLoader._load_file  # (self, full_path, open_method) -> data or None

    def load(self, full_path, open_method):
        try:
            stat = os.stat(full_path)
        except OSError:
            return parse(self, full_path, open_method)  # botocore's own answer for a missing file
        path = os.path.join(folder, cache_key(full_path, stat))
        try:
            with open(path, "rb") as stored:
                return pickle.load(stored)
        except Exception:  # absent or unreadable: parse the file again
            pass
        data = parse(self, full_path, open_method)
        if data is not None:
            partial = f"{path}.{os.getpid()}"
            try:
                with open(partial, "wb") as out:
                    pickle.dump(data, out, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(partial, path)  # whole or absent for a reader in another process
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(partial)
        return data

    loaders.JSONFileLoader._load_file = load


class _PatchOnImport:  # a meta path finder: only find_spec is needed
    """Finds ``botocore.loaders`` as the other finders would, and patches it once it has run."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def find_spec(self, fullname, path, target=None):
        if fullname != MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _Patching(spec.loader, self.folder)
        return spec


class _Patching:  # the real loader, which patches the module once it has run
    def __init__(self, inner, folder: str) -> None:
        self.inner = inner
        self.folder = folder

    def __getattr__(self, name):  # get_source, get_code, is_package...: the real loader's
        return getattr(self.inner, name)

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        patch(module, self.folder)


def install(folder: str) -> None:
    if not os.path.isdir(folder):
        return
    if MODULE in sys.modules:
        patch(sys.modules[MODULE], folder)
    else:
        sys.meta_path.insert(0, _PatchOnImport(folder))


if os.environ.get(ENV):
    install(os.environ[ENV])
