"""First run on a fresh machine: make a virtualenv and re-run inside it.

Standard library only: this runs before any third-party import can succeed. When a module
runner.py needs is missing, it creates ``.venv`` next to runner.py (or ``$SPARKLAB_VENV``) from
``requirements.txt``, says so, and re-executes the same command with that virtualenv's Python.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REQUIRED_MODULES = ("ansible_runner", "ansible", "boto3", "botocore", "rich", "yaml", "moto")
GUARD_ENV = "SPARKLAB_BOOTSTRAPPED"
VENV_ENV = "SPARKLAB_VENV"


def missing_modules(names: tuple[str, ...] = REQUIRED_MODULES) -> list[str]:
    return [name for name in names if importlib.util.find_spec(name) is None]


def venv_dir(repo_root: Path) -> Path:
    return Path(os.environ.get(VENV_ENV) or repo_root / ".venv").expanduser().absolute()


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _say(text: str) -> None:
    print(f"sparklab: {text}", file=sys.stderr, flush=True)


def _run(cmd: list[str]) -> None:
    _say("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True)


def create(venv: Path, requirements: Path) -> None:
    """Create ``venv`` (if absent) and install ``requirements`` into it."""
    if not venv_python(venv).exists():
        _run([sys.executable, "-m", "venv", str(venv)])
    _run([str(venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check", "-q",
          "-r", str(requirements)])


def ensure(repo_root: Path, argv: list[str]) -> None:
    """Return if the dependencies import; otherwise set up the virtualenv and exec into it."""
    missing = missing_modules()
    if not missing:
        return
    venv = venv_dir(repo_root)
    requirements = repo_root / "requirements.txt"
    if os.environ.get(GUARD_ENV) == "1":
        _say(f"still missing after setting up {venv}: {', '.join(missing)} "
             f"(fix: {venv_python(venv)} -m pip install -r {requirements})")
        raise SystemExit(1)
    _say(f"missing Python packages ({', '.join(missing)}); using the virtualenv {venv}")
    try:
        if not venv_python(venv).exists() or _lacks(venv):
            _say(f"first run: creating {venv} from {requirements} (needs PyPI, takes a few minutes, once)")
            create(venv, requirements)
    except (OSError, subprocess.CalledProcessError) as exc:
        _say(f"could not set up {venv}: {exc} (fix: python3 -m venv {venv} && "
             f"{venv_python(venv)} -m pip install -r {requirements})")
        raise SystemExit(1) from None
    python = str(venv_python(venv))
    _say(f"re-running inside {venv}: {python} {' '.join(argv)}")
    os.environ[GUARD_ENV] = "1"
    os.execv(python, [python, *argv])


def _lacks(venv: Path) -> bool:
    """True if the virtualenv exists but cannot import what sparklab needs."""
    probe = ("import importlib.util, sys; "
             "sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))")
    result = subprocess.run([str(venv_python(venv)), "-c", probe, *REQUIRED_MODULES], check=False)
    return result.returncode != 0
