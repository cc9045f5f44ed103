"""Filters of the spark_wordcount role: the names and the driver-log format it shares with runner.py.

All come from ``plugins/module_utils`` (``cluster_names.py``, ``driver_log.py``), the one
definition runner.py reads too: the SparkApplication name is ``JOB_APP_NAME_PREFIX`` plus the run
id, and the driver's result is read from its log by ``read_driver_log``; a run id follows
``RUN_ID_PATTERN`` and a new one comes from ``new_run_id``.
"""

from __future__ import annotations

import re
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.sparklab.cluster.plugins.module_utils.cluster_names import (
    JOB_APP_NAME_PREFIX,
    RUN_ID_PATTERN,
    new_run_id,
)
from ansible_collections.sparklab.cluster.plugins.module_utils.driver_log import read_driver_log

DOCUMENTATION = r"""
---
name: spark_wordcount_result
short_description: The WordCount result printed in a Spark driver log
description:
  - Returns the JSON object of the last C(SPARKLAB_RESULT) line of the log, or an empty mapping when
    the log has none or it is unreadable.
  - The parser is C(read_driver_log) in C(plugins/module_utils/driver_log.py), the one runner.py
    uses to read a driver log.
version_added: "0.2.0"
author:
  - sparklab maintainers
options:
  _input:
    description: The driver log, as a list of lines (C(log_lines) of C(kubernetes.core.k8s_log)) or as text.
    type: raw
    required: true
"""

EXAMPLES = r"""
result: "{{ driver_log.log_lines | sparklab.cluster.spark_wordcount_result }}"
app_name: "{{ run_id | sparklab.cluster.spark_wordcount_app_name }}"
run_id: "{{ spark_wordcount_run_id | sparklab.cluster.spark_wordcount_run_id }}"
"""

RETURN = r"""
_value:
  description: The result (C(top), C(words), C(lines), ...), or an empty mapping.
  type: dict
"""


def spark_wordcount_result(log: Any) -> dict[str, Any]:
    if log is None:
        return {}
    if isinstance(log, str):
        lines = log.splitlines()
    elif isinstance(log, (list, tuple)):
        lines = [str(line) for line in log]
    else:
        raise AnsibleFilterError("spark_wordcount_result: expected the driver log as text or a list of lines")
    return read_driver_log(lines)["result"] or {}


def spark_wordcount_app_name(run_id: Any) -> str:
    """The SparkApplication name of a run: the shared prefix and the run id."""
    return f"{JOB_APP_NAME_PREFIX}{run_id}"


def spark_wordcount_run_id(run_id: Any) -> str:
    """The run id given (checked against RUN_ID_PATTERN), or a new one when it is empty."""
    text = "" if run_id is None else str(run_id)
    if not text:
        return new_run_id()
    if not re.match(RUN_ID_PATTERN, text):
        raise AnsibleFilterError(f"spark_wordcount_run_id: {text!r} is no run id "
                                 "(fix: leave it empty, or give one like 20260101-120000-ab12)")
    return text


class FilterModule:
    """The WordCount job's shared names and driver-log parser."""

    def filters(self) -> dict[str, Any]:
        return {"spark_wordcount_result": spark_wordcount_result,
                "spark_wordcount_app_name": spark_wordcount_app_name,
                "spark_wordcount_run_id": spark_wordcount_run_id}
