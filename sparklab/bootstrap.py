"""First run on a fresh machine: find Python 3.12+, build the virtualenv, re-run inside it.

Standard library only, and syntax that older Pythons still parse: this runs before any
third-party import can succeed, possibly under the wrong Python. In order:

1. The running Python is 3.12+ and imports everything: nothing to do.
2. ``.venv`` next to runner.py (or ``$SPARKLAB_VENV``) exists and works: re-run inside it, silently.
3. Otherwise find a Python 3.12+ (``$SPARKLAB_PYTHON``, the running one, ``python3.14`` ...
   ``python3`` on PATH, pyenv's versions), each *executed* to learn its version, because a pyenv
   shim can exist and still fail. None: one line saying what to install, exit 2, nothing installed.
4. Build the virtualenv with it from ``requirements.lock`` (every file checked against its hash),
   showing progress, then re-run inside it. Only this run says so.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MIN_PYTHON = (3, 12)
REQUIRED_MODULES = ("ansible_runner", "ansible", "boto3", "botocore", "rich", "yaml", "moto")
GUARD_ENV = "SPARKLAB_BOOTSTRAPPED"
VENV_ENV = "SPARKLAB_VENV"
PYTHON_ENV = "SPARKLAB_PYTHON"
LOCK_FILE = "requirements.lock"
PATH_CANDIDATES = ("python3.14", "python3.13", "python3.12", "python3")
EXIT_BAD_INPUT = 2
PROGRESS_EVERY_SECONDS = 5.0
HOW_TO_GET_PYTHON = (
    "install Python 3.12 or newer (Ubuntu 24.04 and Debian 13 ship it as python3; elsewhere e.g. "
    "`sudo apt install python3.12 python3.12-venv`, `brew install python@3.12`, `pyenv install 3.12` "
    "or `uv python install 3.12`), then run runner.py again, or point "
    f"{PYTHON_ENV} at it"
)
_PROBE = ("import sys, importlib.util as u; "
          "print('%d.%d.%d' % sys.version_info[:3], "
          "int(u.find_spec('venv') is not None and u.find_spec('ensurepip') is not None))")
_PACKAGE_LINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==")


def say(text: str) -> None:
    print(f"sparklab: {text}", file=sys.stderr, flush=True)


def version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def missing_modules(names: tuple[str, ...] = REQUIRED_MODULES) -> list[str]:
    return [name for name in names if importlib.util.find_spec(name) is None]


def venv_dir(repo_root: Path) -> Path:
    return Path(os.environ.get(VENV_ENV) or repo_root / ".venv").expanduser().absolute()


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


class Interpreter:
    """A Python that was run and told its version."""

    def __init__(self, path: str, version: tuple[int, ...], has_venv: bool) -> None:
        self.path, self.version, self.has_venv = path, version, has_venv

    @property
    def suitable(self) -> bool:
        return self.version[:2] >= MIN_PYTHON

    def __repr__(self) -> str:
        return f"{self.path} ({version_text(self.version)})"


def probe(path: str) -> Interpreter | None:
    """Run ``path`` and ask its version; None when it does not run (a failing pyenv shim, say)."""
    try:
        done = subprocess.run([path, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=20,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) != 2:
        return None
    try:
        version = tuple(int(p) for p in parts[0].split("."))
    except ValueError:
        return None
    return Interpreter(path, version, parts[1] == "1")


def candidates(environ: dict[str, str] | None = None) -> list[str]:
    """Interpreters to try, best first, without duplicates."""
    env = os.environ if environ is None else environ
    found: list[str] = []
    if env.get(PYTHON_ENV):
        found.append(os.path.expanduser(env[PYTHON_ENV]))
    found.append(sys.executable)
    search = env.get("PATH", "")
    for name in PATH_CANDIDATES:
        for folder in search.split(os.pathsep):
            path = shutil.which(name, path=folder) if folder else None
            if path:
                found.append(path)
    root = env.get("PYENV_ROOT") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".pyenv")
    pyenv = sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3")), key=_pyenv_order,
                   reverse=True)
    found.extend(pyenv)
    unique: list[str] = []
    for path in found:
        if path and path not in unique:
            unique.append(path)
    return unique


def _pyenv_order(path: str) -> tuple[int, ...]:
    match = re.search(r"/versions/(\d+)\.(\d+)\.?(\d*)", path)
    return tuple(int(g or 0) for g in match.groups()) if match else (0,)


def find_python(environ: dict[str, str] | None = None) -> tuple[Interpreter | None, list[Interpreter]]:
    """The first suitable interpreter with the venv module, and every one that ran."""
    seen: list[Interpreter] = []
    for path in candidates(environ):
        found = probe(path)
        if found is None:
            continue
        seen.append(found)
        if found.suitable and found.has_venv:
            return found, seen
    return None, seen


def no_python_line(seen: list[Interpreter]) -> str:
    too_old = sorted({version_text(i.version[:2]) for i in seen if not i.suitable})
    lacking = [i for i in seen if i.suitable and not i.has_venv]
    if lacking:
        name = f"python{version_text(lacking[0].version[:2])}"
        return (f"{lacking[0].path} lacks the venv module, and sparklab needs it to build its "
                f"virtualenv (fix: sudo apt install {name}-venv, or {HOW_TO_GET_PYTHON})")
    found = f"found only Python {', '.join(too_old)}" if too_old else "found no Python that runs"
    return f"sparklab needs Python 3.12 or newer and {found} (fix: {HOW_TO_GET_PYTHON})"


def lock_packages(lock: Path) -> int:
    try:
        return sum(1 for line in lock.read_text(encoding="utf-8").splitlines() if _PACKAGE_LINE.match(line))
    except OSError:
        return 0


class PipOutput:
    """Reads pip's output in a thread: packages collected so far, the phase, the last lines."""

    def __init__(self, stream: Any) -> None:
        self.collected = 0
        self.installing = False
        self.building = ""
        self.tail: list[str] = []
        self.thread = threading.Thread(target=self.read, args=(stream,), daemon=True)
        self.thread.start()

    def read(self, stream: Any) -> None:
        for line in stream:
            self.tail = [*self.tail[-19:], line.rstrip()]
            if line.startswith("Collecting "):
                self.collected += 1
            elif line.startswith("Building wheels for collected packages:"):
                self.building = line.split(":", 1)[1].strip()
            elif line.startswith("Installing collected packages"):
                self.installing = True


def install(python: Path, locks: list[Path], total: int) -> None:
    """``pip install --require-hashes -r lock ...`` with a progress line every few seconds.

    ``--no-compile``: pip would byte-compile every module of every package (the ``ansible`` package
    alone holds tens of thousands); Python compiles what is imported, once, on first use, and keeps it.
    """
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
           "--progress-bar", "off", "--no-compile", "--require-hashes"]
    for lock in locks:
        cmd += ["-r", str(lock)]
    started = last = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = PipOutput(proc.stdout)
    while proc.poll() is None:
        time.sleep(0.2)
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_SECONDS:
            last = now
            if output.installing:
                say(f"installing {total} packages into the virtualenv ({int(now - started)} s)")
            elif output.building:
                say(f"building {output.building} from its source archive ({int(now - started)} s)")
            else:
                say(f"downloaded {output.collected} of {total} packages ({int(now - started)} s)")
    output.thread.join(5)
    if proc.returncode != 0:
        for line in output.tail:
            print(f"  {line}", file=sys.stderr)
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    say(f"installed {total} packages in {int(time.monotonic() - started)} s")


def create(python: Interpreter, venv: Path, lock: Path, extra: tuple[Path, str] | None = None) -> None:
    """Create ``venv`` with ``python`` and install the locked requirements into it.

    ``extra``: one more lock file and the line announcing it (local Spark, when the first command is
    ``wordcount --local``), installed by the same pip call.
    """
    total = lock_packages(lock)
    say(f"first run: building {venv} with Python {version_text(python.version)} ({python.path}): "
        f"{total} packages from {lock.name}, a few minutes, once")
    locks = [lock]
    if extra is not None and lock_packages(extra[0]):
        say(extra[1])
        locks.append(extra[0])
        total += lock_packages(extra[0])
    # Nothing locked (a bare checkout): no pip needed, and none is installed.
    subprocess.run([python.path, "-m", "venv", "--clear", *([] if total else ["--without-pip"]), str(venv)],
                   check=True)
    if total:
        install(venv_python(venv), locks, total)


def venv_state(venv: Path) -> tuple[Interpreter | None, bool]:
    """The virtualenv's interpreter (None if absent or broken) and whether it has every module."""
    python = venv_python(venv)
    if not python.exists():
        return None, False
    found = probe(str(python))
    if found is None:
        return None, False
    check = ("import importlib.util, sys; "
             "sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))")
    done = subprocess.run([str(python), "-c", check, *REQUIRED_MODULES], check=False)
    return found, done.returncode == 0


def reexec(venv: Path, argv: list[str]) -> None:
    python = str(venv_python(venv))
    os.environ[GUARD_ENV] = "1"
    os.execv(python, [python, *argv])


def ensure(repo_root: Path, argv: list[str],
           first_run_extra: Callable[[Path], tuple[Path, str] | None] | None = None) -> None:
    """Return if this Python is suitable and has the dependencies; otherwise exec into the venv.

    ``first_run_extra(venv)``, asked only when the virtualenv is about to be built: one more lock
    file for the same pip call and the line announcing it, or None (it may also exit).
    """
    if sys.version_info[:2] >= MIN_PYTHON and not missing_modules():
        return
    venv = venv_dir(repo_root)
    lock = repo_root / LOCK_FILE
    if os.environ.get(GUARD_ENV) == "1":
        missing = missing_modules()
        say(f"still missing after setting up {venv}: {', '.join(missing) or 'Python 3.12+'} "
            f"(fix: rm -rf {venv} and run runner.py again)")
        raise SystemExit(1)
    existing, complete = venv_state(venv)
    if existing is not None and not existing.suitable:
        say(f"the virtualenv {venv} was built with Python {version_text(existing.version[:2])}; "
            f"sparklab needs 3.12 or newer (fix: rm -rf {venv} and run runner.py again)")
        raise SystemExit(EXIT_BAD_INPUT)
    if existing is not None and complete:
        reexec(venv, argv)
    python, seen = find_python()
    if python is None:
        say(no_python_line(seen))
        raise SystemExit(EXIT_BAD_INPUT)
    try:
        create(python, venv, lock, first_run_extra(venv) if first_run_extra else None)
    except (OSError, subprocess.CalledProcessError) as exc:
        say(f"could not set up {venv}: {exc} (fix: check the network access to PyPI, then rm -rf {venv} "
            "and run runner.py again)")
        raise SystemExit(1) from None
    say(f"re-running inside {venv}")
    reexec(venv, argv)
