"""Test callback: at the start of every play, write which hosts each play from there on targets.

The hosts are resolved with the run's own inventory manager at that moment, so a record taken when
the first play after provisioning starts shows what every later play of site.yml will target
(after the inventory refresh and the hosts added by provision.yml). Written as JSON lines to the
file named by SPARKLAB_TEST_PLAY_HOSTS.
"""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: sparklab_play_hosts
type: aggregate
short_description: Record the hosts each remaining play targets (test use)
description:
  - Test stand-in; see the module docstring.
requirements: []
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "sparklab_play_hosts"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._plays: list = []

    def v2_playbook_on_start(self, playbook) -> None:
        self._plays = playbook.get_plays()

    def v2_playbook_on_play_start(self, play) -> None:
        inventory = play.get_variable_manager()._inventory
        names = [p.get_name() for p in self._plays]
        start = names.index(play.get_name()) if play.get_name() in names else 0
        record = {
            "started": play.get_name(),
            "plays": [
                {
                    "name": p.get_name(),
                    "pattern": p.hosts if isinstance(p.hosts, str) else ",".join(p.hosts),
                    "hosts": sorted(h.name for h in inventory.get_hosts(p.hosts)),
                    "addresses": sorted(
                        str(h.get_vars().get("ansible_host", "")) for h in inventory.get_hosts(p.hosts)
                    ),
                }
                for p in self._plays[start:]
            ],
        }
        with open(os.environ["SPARKLAB_TEST_PLAY_HOSTS"], "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
