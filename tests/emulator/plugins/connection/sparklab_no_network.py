"""Test connection: records the address Ansible would connect to and refuses, opening no socket.

Against the AWS emulator the node addresses are invented: this plugin (selected with
ANSIBLE_TRANSPORT) guarantees that no play of site.yml reaches them. Each attempt is appended to the
file named by SPARKLAB_TEST_CONNECTIONS.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection import ConnectionBase

DOCUMENTATION = r"""
name: sparklab_no_network
short_description: Record and refuse every connection (test use)
description:
  - Test stand-in; see the module docstring.
author:
  - sparklab maintainers
options: {}
"""


class Connection(ConnectionBase):
    transport = "sparklab_no_network"
    has_pipelining = True

    def _refuse(self) -> None:
        with open(os.environ["SPARKLAB_TEST_CONNECTIONS"], "a", encoding="utf-8") as out:
            out.write(f"{self._play_context.remote_addr}\n")
        raise AnsibleConnectionFailure("connection prevented by the test (invented address)")

    def _connect(self):
        self._refuse()

    def exec_command(self, cmd, in_data=None, sudoable=True):
        self._refuse()

    def put_file(self, in_path, out_path):
        self._refuse()

    def fetch_file(self, in_path, out_path):
        self._refuse()

    def close(self) -> None:
        self._connected = False
