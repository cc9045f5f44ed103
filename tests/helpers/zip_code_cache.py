"""A compile cache for Python code imported from zip files: Ansible's module payloads, in tests only.

Every Ansible task that runs a Python module on the controller (all of amazon.aws against the
emulator, kubernetes.core against the stand-in API) starts a new interpreter that imports the
module and its module_utils from a freshly written zip (AnsiballZ). Python's ``zipimport`` never
stores bytecode, so each task compiles ``ansible.module_utils.basic``, amazon.aws's module_utils
and the module again: about 0.1 s of CPU a task, on a 2-core machine whose tests run thousands of
them. This hook keeps each compiled code object under a digest of the interpreter's cache tag, the
file's path inside the zip and its source, so a later task with the same source loads it instead.
The code run is byte for byte what Python compiles from that source; only the compile is skipped.

On the controller it is active only when ``ZIPIMPORT_CODE_CACHE`` names a folder:
``scripts/test.sh`` installs this file into the test virtualenv with a ``.pth`` line that imports it
at interpreter start, and sets the variable to a folder of its own run (cold at the start of every
run). The cluster harness's node containers (tests/harness/nodes.py, only when the variable is set)
get this file and a ``.pth`` line that calls ``install`` on a folder of their own, since ``sudo``
drops the variable from the tasks that ``become`` root: only root writes there, other users read.
"""

from __future__ import annotations

# Only os and sys at import: every interpreter of the test virtualenv imports this file, and where
# the cache is off it must cost nothing (the rest is imported by install()).
import os
import sys

ENV = "ZIPIMPORT_CODE_CACHE"


def cache_key(pathname: str, source: bytes) -> str:
    """The digest a compiled file is stored under: interpreter, path inside the zip, source."""
    import hashlib

    inner = pathname.rsplit(".zip", 1)[-1]  # the payload's zip has a new temporary name every task
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    for part in (inner.encode(), source):
        digest.update(b"\0")
        digest.update(part)
    return digest.hexdigest()


def install(folder: str) -> None:
    """Store and load the code compiled from zips in ``folder``; a folder this user cannot write to
    is only read."""
    import _imp
    import contextlib
    import marshal
    import types
    import zipimport

    if not os.path.isdir(folder) or not hasattr(zipimport, "_compile_source"):
        return
    compile_source = zipimport._compile_source  # (pathname, source) -> code; CPython 3.8 to 3.13

    def cached(pathname: str, source: bytes):
        path = os.path.join(folder, cache_key(pathname, source))
        try:
            with open(path, "rb") as stored:
                code = marshal.loads(stored.read())
        except (OSError, EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, types.CodeType):
            _imp._fix_co_filename(code, pathname)  # tracebacks name this task's zip, as without cache
            return code
        code = compile_source(pathname, source)
        partial = f"{path}.{os.getpid()}"
        try:
            with open(partial, "wb") as out:
                out.write(marshal.dumps(code))
            os.replace(partial, path)  # whole or absent for a reader in another task
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(partial)
        return code

    zipimport._compile_source = cached


def pth_line(folder: str | None = None) -> str:
    """The ``.pth`` line that loads this file as ``_sparklab_zip_code_cache`` at start-up, with the
    folder given here, or with the folder of ``ZIPIMPORT_CODE_CACHE`` when none is."""
    if folder is None:
        return "import _sparklab_zip_code_cache\n"
    return f"import _sparklab_zip_code_cache; _sparklab_zip_code_cache.install({folder!r})\n"


if os.environ.get(ENV):
    install(os.environ[ENV])
