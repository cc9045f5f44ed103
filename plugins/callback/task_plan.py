# Copyright: sparklab maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Announce the tasks a playbook will run, so a front end can show "task N of M"."""

from __future__ import annotations

DOCUMENTATION = r"""
name: task_plan
type: aggregate
short_description: Print, once per playbook, the ids of the tasks it will run
description:
  - At the start of a playbook, prints one line C(SPARKLAB_TASK_PLAN {...}) with the task ids of
    every play, in order, after tag filtering, as the play iterator will run them.
  - Counted are the tasks of C(pre_tasks), roles, C(tasks), C(post_tasks) and their C(always)
    sections, whether or not a C(when) will skip them. Not counted are C(rescue) tasks (they run
    only after a failure), handlers, the argument-validation task Ansible adds to each role, and the
    implicit C(meta) tasks Ansible adds. Fact gathering is counted as one task when the play gathers.
  - "runner.py reads the line from the ansible-runner event stream (C(sparklab/cluster/progress.py))."
requirements:
  - enable in the callbacks_enabled setting
"""


import contextlib
import json

from ansible.plugins.callback import CallbackBase

MARKER = "SPARKLAB_TASK_PLAN "
VALIDATE_ACTIONS = ("validate_argument_spec", "ansible.builtin.validate_argument_spec")


def _tasks(block):
    """Task ids of a block in run order; nested blocks are walked."""
    for section in (block.block, block.always):
        for item in section or []:
            if hasattr(item, "block"):  # a nested Block
                yield from _tasks(item)
            elif not _implicit(item):
                yield item._uuid


def _implicit(task):
    """A task Ansible adds by itself: a hidden meta task, or a role's argument validation."""
    if getattr(task, "implicit", False) and task.action in ("meta", "ansible.builtin.meta"):
        return True
    context = (task.args or {}).get("validate_args_context") or {}
    return task.action in VALIDATE_ACTIONS and context.get("type") == "role"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "sparklab.cluster.task_plan"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook):
        plays = []
        for play in playbook.get_plays():
            manager = getattr(play, "_variable_manager", None)
            try:
                all_vars = manager.get_vars(play=play) if manager is not None else {}
            except Exception:  # noqa: BLE001 - the plan is advisory; the play itself reports errors
                all_vars = {}
            ids = []
            for block in play.compile():
                with contextlib.suppress(Exception):  # templated tags: count the block unfiltered
                    block = block.filter_tagged_tasks(all_vars)
                ids.extend(_tasks(block))
            gathers = play.gather_facts is not False
            plays.append({"play": play._uuid, "gather": gathers, "tasks": ids})
        self._display.display(MARKER + json.dumps({"plays": plays}, separators=(",", ":")))
