"""Loaded by every Python process whose PYTHONPATH holds this folder: records each TCP connect.

Each ``socket.connect`` / ``connect_ex`` appends ``host port`` to the file named by
SPARKLAB_TEST_CONNECT_LOG. A connection to an address outside 127.0.0.0/8 is refused here, before
any packet leaves: the tests use it to prove that a command never reaches a node address, and a
regression fails the test instead of sending traffic to an invented address.
"""

from __future__ import annotations

import ipaddress
import os
import socket

_LOG = os.environ.get("SPARKLAB_TEST_CONNECT_LOG", "")


def _loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return str(host) == "localhost"


def _record(address: object) -> None:
    if not isinstance(address, tuple) or len(address) < 2:
        return  # a Unix socket
    with open(_LOG, "a", encoding="utf-8") as out:
        out.write(f"{address[0]} {address[1]}\n")
    if not _loopback(address[0]):
        raise ConnectionRefusedError(111, f"connection to {address[0]} refused by the test")


if _LOG:
    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: object) -> None:
        _record(address)
        _connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        _record(address)
        return _connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
