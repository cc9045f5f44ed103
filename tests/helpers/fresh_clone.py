"""A fresh clone of this repository, run as a new user runs it (the README test and the benchmark).

``fresh_clone`` makes a ``git clone`` of the repository at its checked-out commit and lays the
working tree's files over it (tracked files as they are now, deletions included, and new files git
does not ignore), so uncommitted edits are what runs. ``user_env`` is a new user's shell: a fresh
``HOME`` and ``SPARKLAB_HOME``, ``PATH`` without any virtualenv, the machine's plain ``python3``,
no ``PIP_*``/``AWS_*``/``SPARKLAB_*``/``PYTHON*`` variables and no pip configuration file (this
machine's pip configuration points at local mirrors that a user does not have).

Two settings model the user's machine rather than a bare one, each said where it is set:
``PYENV_ROOT`` (a fresh ``HOME`` hides ``~/.pyenv``; a pyenv user's shell profile exports it) and
``PIP_CACHE_DIR`` (the caller's choice: an empty folder is a cold cache, a kept one a warm cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KEEP = ("LANG", "LC_ALL", "TZ", "TMPDIR", "JAVA_HOME", "TERM")


def _git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def fresh_clone(dest: Path, rev: str | None = None) -> Path:
    """``git clone`` into ``dest``; ``rev`` checked out as committed, else HEAD plus the working tree."""
    commit = rev or _git("rev-parse", "HEAD").strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(dest)], check=True)
    _git("-c", "advice.detachedHead=false", "checkout", "--quiet", commit, cwd=dest)
    if rev is None:
        tracked = set(_git("ls-files", "-z", "--cached").split("\0"))
        listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
        for name in filter(None, listed):
            source, target = REPO / name, dest / name
            if name not in tracked and source.is_symlink():
                continue  # an untracked link (a .venv pointing elsewhere, say) is no file of the project
            if source.is_symlink() or not source.exists():
                target.unlink(missing_ok=True)  # deleted in the working tree
                if source.is_symlink():
                    target.symlink_to(os.readlink(source))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def plain_path() -> str:
    """This PATH without virtualenvs' bin folders (a ``pyvenv.cfg`` beside them) or ``VIRTUAL_ENV``."""
    venv = os.environ.get("VIRTUAL_ENV", "")
    kept = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or (Path(folder).parent / "pyvenv.cfg").exists() or (venv and folder.startswith(venv)):
            continue
        kept.append(folder)
    return os.pathsep.join(kept)


def pyenv_root() -> str:
    """Where this machine's pyenv lives (``$PYENV_ROOT``, else ``~/.pyenv``)."""
    return os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")


def user_env(home: Path, pip_cache: Path) -> dict[str, str]:
    """A new user's environment: only ``HOME`` and the folders below it are new."""
    env = {key: os.environ[key] for key in KEEP if key in os.environ}
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        SPARKLAB_HOME=str(home / ".sparklab"),
        PATH=plain_path(),
        # A fresh HOME hides ~/.pyenv; a pyenv user's shell profile exports PYENV_ROOT, so we do too.
        PYENV_ROOT=pyenv_root(),
        # pip's default settings, as on a user's machine: no configuration file of this one.
        PIP_CONFIG_FILE=os.devnull,
        PIP_CACHE_DIR=str(pip_cache),
    )
    return env


def plain_python(env: dict[str, str]) -> str:
    """The ``python3`` a user's shell finds on ``env``'s PATH."""
    found = shutil.which("python3", path=env["PATH"])
    assert found, "no python3 on PATH"
    return found
