"""One run at a time per cluster: an exclusive ``flock`` on ``$SPARKLAB_HOME/<cluster>/lock``.

Every verb that changes a cluster (provision, up, down, wordcount) takes the lock before its first
AWS call. A second run finds it held and stops with one line naming the holder (pid, host, verb,
start time), exit code 2; nothing was started. The kernel drops a ``flock`` when its holder exits,
however it exits, so a lock left by a dead run is simply taken over: the file's content is only a
description of the last holder, never the lock itself.

The lock serialises runs on one machine only (it lives in the local state folder): two machines
driving the same cluster are not serialised.

The folder is the cluster's state folder, one per cluster name, shared by every region and
account that use that name (it already holds the cluster's SSH key and kubeconfig), so the lock
is at least as strict as account + region + name.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sparklab.core.errors import BadInput

LOCK_FILE = "lock"
# Held locks of this process, by path: taking the same lock again in one process is a no-op
# (flock locks belong to an open file, so a second open in the same process would block itself).
_HELD: dict[str, int] = {}


class ClusterBusy(BadInput):
    """Another run holds the cluster's lock: exit code 2, nothing was started."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a cluster lock."""

    pid: int
    host: str
    verb: str
    started: str  # UTC, ISO 8601

    def describe(self) -> str:
        return f"`{self.verb}` (pid {self.pid} on {self.host}, running since {self.started})"


def lock_path(state_root: Path) -> Path:
    return state_root / LOCK_FILE


def read_holder(path: Path) -> Holder | None:
    """The holder recorded in a lock file; None when absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["host"]), str(data["verb"]), str(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def acquire(state_root: Path, cluster: str, verb: str) -> Path:
    """Take the cluster's lock for the rest of this process, or raise :class:`ClusterBusy`.

    ``state_root`` is the cluster's state folder (created 0700 by the caller).
    """
    path = lock_path(state_root)
    if str(path) in _HELD:
        return path
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:  # e.g. a symlink planted in its place
        raise BadInput(f"{path}: cannot open the cluster lock ({exc.strerror}) "
                       f"(fix: remove {path}; it holds no state)") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
            raise
        raise ClusterBusy(busy_message(path, cluster)) from None
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "verb": verb,
              "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
    _HELD[str(path)] = fd
    return path


def busy_message(path: Path, cluster: str) -> str:
    """One line: who holds the lock and since when (the holder may still be writing it)."""
    holder = None
    for _ in range(10):  # the holder writes its description right after taking the lock
        holder = read_holder(path)
        if holder is not None:
            break
        time.sleep(0.05)
    who = holder.describe() if holder else "another run (not yet described)"
    return (f"cluster {cluster} is busy: {who} holds {path} (fix: wait for it to finish, "
            f"or stop it; a lock whose run has ended is released by itself)")


def release(state_root: Path) -> None:
    """Give the lock back before the process ends (the kernel does it at exit anyway)."""
    fd = _HELD.pop(str(lock_path(state_root)), None)
    if fd is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def hold(cluster: str, verb: str, region: str = "") -> Path:
    """Take the lock of ``cluster`` in ``region`` (its state folder) for this run of ``verb``."""
    from sparklab.core.state import ClusterState

    return acquire(ClusterState.for_cluster(cluster, region).ensure(), cluster, verb)
