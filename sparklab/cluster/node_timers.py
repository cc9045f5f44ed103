"""Whether each node's expiry timer is armed: read from the node when it answers, from its user data
otherwise, with the source named.

The node is asked over the cluster's SSH (its key, its known_hosts, strict host key checking, no
prompt) for ``systemctl show`` of the timer unit its user data installs
(``roles/aws_instances/templates/user-data.sh.j2``). The node's answer is what systemd holds now;
the user data only says what cloud-init was given to arm. Against an AWS emulator the node addresses
are invented, so no node is asked.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

TIMER_UNIT = "sparklab-expire.timer"
SHOW = ("systemctl", "show", TIMER_UNIT, "--property=LoadState,ActiveState,TimersCalendar")
CONNECT_TIMEOUT = 5  # seconds for ssh to connect; the whole read is bounded by READ_TIMEOUT
READ_TIMEOUT = 20
PARALLEL = 8
FROM_NODE = "node"
FROM_USER_DATA = "user data"
# systemd prints the calendar it normalised: "OnCalendar=2026-12-07 16:00:00 UTC ; next_elapse=..."
ON_CALENDAR = re.compile(r"OnCalendar=(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC\b")


class NodeLike(Protocol):
    instance_id: str
    state: str
    public_ip: str


@dataclass(frozen=True)
class TimerReading:
    """What a node's timer is armed for (``""``: none), where that was read, and, when it was read
    from the user data, why the node was not."""

    armed_for: str
    source: str
    why: str = ""

    def phrase(self) -> str:
        if self.source == FROM_NODE:
            return "from the node"
        return f"from its user data; the node was not read: {self.why}" if self.why else "from its user data"


@dataclass(frozen=True)
class SshAccess:
    """How sparklab reaches a node: the cluster's key and known_hosts, its login user, the port."""

    private_key: Path
    known_hosts: Path
    user: str
    port: int = 22

    def missing(self) -> str:
        """Why no node can be read with this access (``""``: it can)."""
        for path, what in ((self.private_key, "key"), (self.known_hosts, "known_hosts")):
            if not path.is_file():
                return f"no {what} at {path}"
        return ""

    def command(self, address: str) -> list[str]:
        return ["ssh", "-i", str(self.private_key), "-o", "IdentitiesOnly=yes",
                "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
                "-o", "ConnectionAttempts=1",
                "-p", str(self.port), f"{self.user}@{address}", "--", *SHOW]


def armed_from_show(text: str) -> str:
    """The expiry (``YYYY-MM-DDTHH:MM:SSZ``) of an active, loaded timer in ``systemctl show`` output;
    ``""`` when the unit is missing, inactive or has no calendar."""
    props = dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)
    if props.get("LoadState") != "loaded" or props.get("ActiveState") != "active":
        return ""
    match = ON_CALENDAR.search(props.get("TimersCalendar", ""))
    return f"{match.group(1)}T{match.group(2)}Z" if match else ""


def read_node(access: SshAccess, address: str) -> tuple[str | None, str]:
    """(expiry or ``""``, ``""``) as the node tells it; (None, why) when it did not answer."""
    try:
        proc = subprocess.run(access.command(address), capture_output=True, text=True, timeout=READ_TIMEOUT,
                              check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"no answer over SSH within {READ_TIMEOUT} s"
    except OSError as exc:
        return None, f"ssh could not run ({exc.strerror or exc})"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"ssh exit code {proc.returncode}"])[-1]
        return None, f"SSH failed: {last}"
    return armed_from_show(proc.stdout), ""


def read_timers(nodes: Iterable[NodeLike], from_user_data: dict[str, str], access: SshAccess | None,
                why_not: str = "", reader: Callable[[SshAccess, str], tuple[str | None, str]] = read_node,
                ) -> dict[str, TimerReading]:
    """Instance id -> :class:`TimerReading` for each node in ``from_user_data`` (the live ones).

    A running node with a public address is asked when ``access`` is given; any other node, or one
    that does not answer, keeps what its user data arms, with the reason (``why_not`` when
    ``access`` is None).
    """
    wanted = [n for n in nodes if n.instance_id in from_user_data]

    def one(node: NodeLike) -> TimerReading:
        fallback = from_user_data[node.instance_id]
        if access is None:
            return TimerReading(fallback, FROM_USER_DATA, why_not)
        if node.state != "running":
            return TimerReading(fallback, FROM_USER_DATA, f"it is {node.state}")
        if not node.public_ip:
            return TimerReading(fallback, FROM_USER_DATA, "it has no public address")
        armed, why = reader(access, node.public_ip)
        if armed is None:
            return TimerReading(fallback, FROM_USER_DATA, why)
        return TimerReading(armed, FROM_NODE)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return dict(zip((n.instance_id for n in wanted), pool.map(one, wanted), strict=True))
