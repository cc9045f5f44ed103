"""Run a playbook against localhost with the Python that runs the tests (no interpreter discovery)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def run_local_play(play: Path, env: Mapping[str, str], *args: str,
                   timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``ansible-playbook -i localhost, -c local [args] play`` from the repository root."""
    return subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         "-e", f"ansible_python_interpreter={sys.executable}", *args, str(play)],
        cwd=REPO, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False,
    )
