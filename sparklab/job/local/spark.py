"""Local Spark for ``wordcount --local`` and ``submit --local``: installed into sparklab's
virtualenv by the first such run.

pyspark (Spark's jars included) is about 430 MB, so it is not a runtime requirement: a user who
only drives clusters never downloads it. The first ``wordcount --local`` installs
``requirements-local.lock`` (hash-checked, the runtime pins unchanged) into the virtualenv that
runner.py built, after one line that says what and how big, with the same progress lines as the
virtualenv's own build (:func:`sparklab.bootstrap.install`). Java is checked before, by the
caller: a machine without it downloads nothing.

Standard library only, and importable before the virtualenv exists: runner.py's bootstrap asks
:func:`first_run_extra` whether the first run installs both lock files in one pip call.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Sequence
from pathlib import Path

LOCK_FILE = "requirements-local.lock"
MODULES = ("pyspark", "py4j")
# pyspark 4.0.3's wheel is 434.8 MB, py4j's 0.2 MB (PyPI); pip keeps a built wheel in its cache.
DOWNLOAD_MB = 430
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def wanted(args: Sequence[str]) -> bool:
    """Whether this command line runs local Spark: ``wordcount|submit ... --local`` (the verb comes
    first; a ``--local`` after ``--`` is the application's)."""
    own = list(args[: list(args).index("--")]) if "--" in args else list(args)
    return len(own) > 0 and own[0] in ("wordcount", "submit") and "--local" in own[1:]


def missing() -> list[str]:
    importlib.invalidate_caches()
    return [name for name in MODULES if importlib.util.find_spec(name) is None]


def lock_path(repo_root: Path | None = None) -> Path:
    return (repo_root or Path(__file__).resolve().parents[3]) / LOCK_FILE


def what(lock: Path) -> str:
    """``pyspark 4.0.3 and py4j 0.10.9.9``, read from the lock file."""
    try:
        pins = [f"{name} {version}" for name, version in _PIN.findall(lock.read_text(encoding="utf-8"))]
    except OSError:
        pins = []
    pins.sort(key=lambda pin: not pin.startswith("pyspark "))
    return " and ".join(pins) or "pyspark"


def announcement(venv: Path, lock: Path) -> str:
    return (f"first --local run: installing local Spark ({what(lock)}, about {DOWNLOAD_MB} MB download) "
            f"into {venv}, once")


def first_run_extra(repo_root: Path, args: Sequence[str], venv: Path) -> tuple[Path, str] | None:
    """The bootstrap's question: a first command ``wordcount --local`` installs this lock too.

    Asked just before the virtualenv is built (:func:`sparklab.bootstrap.ensure`): the lock
    and its announcement, or None. Without a usable Java it stops with the one-line fix, exit 2,
    before anything is downloaded.
    """
    if not wanted(args):
        return None
    from sparklab.core.errors import EXIT_BAD_INPUT
    from sparklab.job.local.checks import java_problem

    problem = java_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_BAD_INPUT)
    lock = lock_path(repo_root)
    return lock, announcement(venv, lock)


def in_virtualenv() -> bool:
    return sys.prefix != sys.base_prefix


def ensure_installed(repo_root: Path | None = None) -> bool:
    """Install local Spark into the running virtualenv when it is missing; True if it installed.

    Raises :class:`sparklab.core.errors.BadInput` outside a virtualenv (sparklab never installs into a
    system Python) and :class:`sparklab.core.errors.RunFailed` when pip fails.
    """
    import subprocess

    from sparklab import bootstrap as venv_bootstrap
    from sparklab.core.errors import BadInput, RunFailed

    absent = missing()
    if not absent:
        return False
    lock = lock_path(repo_root)
    if not in_virtualenv():
        raise BadInput(f"--local needs {', '.join(absent)}, missing from {sys.executable}, and sparklab "
                       f"installs only into its own virtualenv (fix: {sys.executable} -m pip install "
                       f"--require-hashes -r {lock}, or run runner.py with a Python that has no sparklab "
                       "dependencies so that it builds .venv)")
    venv = Path(sys.prefix)
    total = venv_bootstrap.lock_packages(lock)
    venv_bootstrap.say(announcement(venv, lock))
    try:
        venv_bootstrap.install(venv_bootstrap.venv_python(venv), [lock], total)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RunFailed(f"could not install local Spark into {venv}: {exc} (fix: check the network access "
                        "to PyPI, then run the command again)") from None
    still = missing()
    if still:
        raise RunFailed(f"{', '.join(still)} still missing after installing {lock.name} into {venv} "
                        f"(fix: rm -rf {venv} and run runner.py again)")
    return True
