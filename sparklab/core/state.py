"""Where sparklab keeps its state on the user's machine.

Layout (the same paths the playbooks derive as ``cluster_home`` and ``cluster_state_dir``)::

    $SPARKLAB_HOME/                 default ~/.sparklab
    └── <cluster_name>/             cluster_state_dir
        ├── id_ed25519, id_ed25519.pub
        ├── known_hosts
        ├── kubeconfig
        ├── region                  the region the folder belongs to (written by provision/up)
        ├── audit.log               one line per destructive command (down)
        └── runs/<run id>-<verb>/   one folder per runner.py invocation that ran Ansible
            runs/<run id>/          one folder per WordCount run (see sparklab.job.runs)

The home, the ``runs`` folder and the run folder names are defined once, in
``plugins/module_utils/cluster_names.py`` (read here through :mod:`sparklab.core.contract`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sparklab.core.contract import contract, module_utils
from sparklab.core.errors import BadInput

# Run folders of these verbs only hold Ansible logs and are rotated; job runs (wordcount) hold
# results and are never deleted by sparklab.
ROTATED_VERBS = ("plan", "provision", "up", "down", "status")
KEEP_RUNS = 20
names = module_utils("cluster_names")
RUN_FOLDER = re.compile(names.RUN_FOLDER_PATTERN)


def sparklab_home(environ: dict[str, str] | None = None) -> Path:
    """The state root: ``$SPARKLAB_HOME`` or ``~/.sparklab`` (``~`` expanded, absolute)."""
    return Path(names.sparklab_home(environ))


BAD_HOME_FIX = "(fix: point SPARKLAB_HOME at a folder of your own, or unset it to use ~/.sparklab)"


def check_home(home: Path) -> Path:
    """``home`` if it is (or can become) a folder; BadInput (one line) when it or a parent is a file."""
    for path in (home, *home.parents):
        if path.exists():
            if not path.is_dir():
                raise BadInput(f"SPARKLAB_HOME={home}: not a folder {BAD_HOME_FIX}")
            return home
    return home  # pragma: no cover - "/" exists


def private_dir(path: Path, home: Path | None = None) -> Path:
    """Make ``path`` a folder only its owner can use, without changing a folder sparklab did not make.

    A folder made here gets mode 0700. An existing one is used as it is when it is ``home`` or above
    it (the user chose it, e.g. /tmp); any other existing folder must be the user's and closed to
    others, or it is refused in one line: sparklab never repairs the mode of a folder it did not make.
    """
    try:
        path.mkdir(mode=0o700)
    except FileNotFoundError:
        private_dir(path.parent, home)
        return private_dir(path, home)
    except FileExistsError:
        return _existing_dir(path, home)
    except NotADirectoryError:
        raise BadInput(f"SPARKLAB_HOME={home or path}: not a folder {BAD_HOME_FIX}") from None
    path.chmod(0o700)  # made just now: mkdir's mode went through the umask
    return path


def _existing_dir(path: Path, home: Path | None) -> Path:
    if not path.is_dir():
        if path == home:
            raise BadInput(f"SPARKLAB_HOME={home}: not a folder {BAD_HOME_FIX}")
        raise BadInput(f"{path}: not a folder (fix: move it away)")
    if home is not None and (path == home or path in home.parents):
        return path
    info = path.stat()
    if info.st_uid != os.geteuid():
        raise BadInput(f"{path}: owned by another user (uid {info.st_uid}) (fix: move it away)")
    if info.st_mode & 0o022:
        raise BadInput(f"{path}: writable by other users "
                       f"(fix: chmod 700 {path} if it is yours, else move it away)")
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
        return self.root / names.RUNS_DIR

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

    @property
    def region_file(self) -> Path:
        return self.root / "region"

    def recorded_region(self) -> str | None:
        """The region this machine's state belongs to: the ``region`` file, or, for state written
        before it existed, the region of the newest provisioning run (its ``cluster-vars.json``)."""
        if self.region_file.is_file():
            return self.region_file.read_text(encoding="utf-8").strip() or None
        if not self.runs.is_dir():
            return None
        default = contract().SCHEMA["cluster_aws_region"].default
        for run in sorted(self.runs.iterdir(), reverse=True):
            match = RUN_FOLDER.match(run.name)
            if not match or match.group("verb") not in ("provision", "up"):
                continue
            try:
                given = json.loads((run / "cluster-vars.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            return str(given.get("cluster_aws_region") or default)
        return None

    def check_region(self, region: str) -> None:
        """BadInput (one line) when this machine's state says the cluster lives in another region.

        The state folder (key pair, known_hosts, kubeconfig, runs) is one per name: it belongs to
        one region, and a command for the same name in another region would find nothing there
        ("0 resources left") or mix two clusters' keys.
        """
        recorded = self.recorded_region()
        if recorded and recorded != region:
            raise BadInput(f"cluster {self.name}: this machine's state ({self.root}) says it lives in "
                           f"{recorded}, not {region} (fix: --aws-region {recorded}, or another --name "
                           f"for a cluster in {region})")

    def record_region(self, region: str) -> None:
        """Write the ``region`` file (after :meth:`check_region` passed)."""
        self.ensure()
        if self.recorded_region() != region or not self.region_file.is_file():
            write_private(self.region_file, region + "\n")

    def ensure(self) -> Path:
        """Create the cluster folder (0700) if needed; see :func:`private_dir`."""
        check_home(self.home)
        return private_dir(self.root, self.home)

    def new_run(self, verb: str, now: float | None = None) -> Path:
        """Create ``runs/<run id>-<verb>/`` (0700) and rotate old Ansible-only run folders."""
        self.ensure()
        private_dir(self.runs, self.home)
        while True:
            run = self.runs / names.run_folder_name(names.new_run_id(now), verb)
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
