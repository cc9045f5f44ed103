"""Names runner.py and the roles share: the state folders, ``SPARKLAB_HOME`` and the run ids.

Each is defined here only. The roles read them as the derived ``cluster_*`` facts of the
``cluster_config`` action and through the collection's filters; runner.py loads this file by path.
Standard library only, no Ansible import.
"""

from __future__ import annotations

import os
import re
import secrets
import time

HOME_ENV = "SPARKLAB_HOME"
HOME_DEFAULT = "~/.sparklab"
RUNS_DIR = "runs"  # <cluster_state_dir>/runs/<run folder>/
# `runner.py wordcount --local` keeps its runs in $SPARKLAB_HOME/local/, so no cluster may take the
# name (the configuration check refuses it).
LOCAL_RUNS_DIR = "local"
# A run id: UTC time plus 4 random hex digits, sortable and DNS-safe (20261127-093000-3fa2).
# A WordCount run's folder is its run id; a run of Ansible only adds the verb: <run id>-<verb>.
RUN_ID_PATTERN = r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$"
RUN_FOLDER_PATTERN = r"^(?P<run_id>[0-9]{8}-[0-9]{6}-[0-9a-f]{4})(?:-(?P<verb>[a-z]+))?$"
JOB_APP_NAME_PREFIX = "wordcount-"  # SparkApplication name: <prefix><run id>


def sparklab_home(environ: dict[str, str] | None = None) -> str:
    """The state root: ``$SPARKLAB_HOME`` or ``~/.sparklab``, with ``~`` expanded, absolute."""
    env = os.environ if environ is None else environ
    return os.path.abspath(os.path.expanduser(env.get(HOME_ENV) or HOME_DEFAULT))


def state_dir(name: str, environ: dict[str, str] | None = None) -> tuple[str, str]:
    """Return (cluster_home, cluster_state_dir) for a cluster name."""
    home = sparklab_home(environ)
    return home, os.path.join(home, name)


def new_run_id(now: float | None = None) -> str:
    """A new run id (see RUN_ID_PATTERN) for the UTC time ``now`` (default: the current time)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


def run_folder_name(run_id: str, verb: str = "") -> str:
    """The folder of a run under RUNS_DIR: the run id, plus ``-<verb>`` for a run of Ansible only."""
    if not re.match(RUN_ID_PATTERN, run_id):
        raise ValueError(f"invalid run id {run_id!r}: expected YYYYMMDD-HHMMSS-xxxx")
    return f"{run_id}-{verb}" if verb else run_id
