"""Where sparklab keeps its state on the user's machine.

Layout (the same paths the playbooks derive as ``cluster_home`` and ``cluster_state_dir``)::

    $SPARKLAB_HOME/                 default ~/.sparklab
    └── <cluster_name>/             cluster_state_dir
        ├── id_ed25519, id_ed25519.pub
        ├── known_hosts
        ├── kubeconfig
        ├── audit.log               one line per destructive command (down)
        └── runs/<run id>-<verb>/   one folder per runner.py invocation that ran Ansible
            runs/<run id>/          one folder per WordCount run (see sparklab.jobs)

The home, the ``runs`` folder and the run folder names are defined once, in
``plugins/module_utils/cluster_config.py`` (read here through :mod:`sparklab.shared`).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sparklab.shared import contract

# Run folders of these verbs only hold Ansible logs and are rotated; job runs (wordcount) hold
# results and are never deleted by sparklab.
ROTATED_VERBS = ("plan", "provision", "up", "down", "status")
KEEP_RUNS = 20
RUN_FOLDER = re.compile(contract().RUN_FOLDER_PATTERN)


def sparklab_home(environ: dict[str, str] | None = None) -> Path:
    """The state root: ``$SPARKLAB_HOME`` or ``~/.sparklab`` (``~`` expanded, absolute)."""
    return Path(contract().sparklab_home(environ))


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


@dataclass(frozen=True)
class ClusterState:
    """Paths of one cluster's state folder."""

    name: str
    home: Path

    @classmethod
    def for_cluster(cls, name: str, environ: dict[str, str] | None = None) -> ClusterState:
        return cls(name=name, home=sparklab_home(environ))

    @property
    def root(self) -> Path:
        return self.home / self.name

    @property
    def runs(self) -> Path:
        return self.root / contract().RUNS_DIR

    @property
    def private_key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def audit_log(self) -> Path:
        return self.root / "audit.log"

    def ensure(self) -> Path:
        """Create the cluster folder (0700) if needed."""
        _private_dir(self.home)
        return _private_dir(self.root)

    def new_run(self, verb: str, now: float | None = None) -> Path:
        """Create ``runs/<run id>-<verb>/`` (0700) and rotate old Ansible-only run folders."""
        self.ensure()
        _private_dir(self.runs)
        shared = contract()
        while True:
            run = self.runs / shared.run_folder_name(shared.new_run_id(now), verb)
            try:
                run.mkdir(mode=0o700)
                break
            except FileExistsError:  # the same second and the same 4 random digits: draw again
                continue
        rotate_runs(self.runs)
        return run

    def audit(self, line: str) -> None:
        """Append one line to the cluster's audit log (0600)."""
        self.ensure()
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fd = os.open(self.audit_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {line}\n")


def rotate_runs(runs: Path, keep: int = KEEP_RUNS) -> list[Path]:
    """Delete all but the ``keep`` newest run folders of the rotated verbs; return what was deleted."""
    rotated = sorted(
        p for p in runs.iterdir()
        if p.is_dir() and (m := RUN_FOLDER.match(p.name)) and m.group("verb") in ROTATED_VERBS
    )
    doomed = rotated[:-keep] if keep > 0 else rotated
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` with mode 0600 from the first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)
    return path
