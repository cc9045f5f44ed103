"""The node phases of ``up`` through the product's own sequence, on the harness's nodes.

``runner.py up`` runs ``bridge.PHASES["up"]`` with :func:`sparklab.cluster.bridge.run_phases`: one
ansible-runner run per phase in the run folder ``$SPARKLAB_HOME/<cluster>/runs/<id>-up/``, the
configuration in a 0600 vars file passed with ``-e @file``, the environment scrubbed of credentials
plus sparklab's own (``base_env``, ``aws_env``), the task-plan callback, the progress fed by the
events, a stop at the first failed phase, each phase's log in ``artifacts/NN-<phase>/stdout``.
:func:`run_up_node_phases` builds the ``RunSpec`` as ``run_playbooks`` (sparklab/commands/base.py)
does, from the configuration loaded and validated by the product's loader, and runs every phase
after ``provision`` (the one phase that needs AWS), numbered from 1 as run_phases numbers any
sequence (``01-nodes``; in a whole ``up`` they are ``02-nodes`` on). What differs from ``runner.py
up``: the inventory is the harness's (``RunSpec.inventory``: the aws_ec2 plugin's recorded host
variables for the containers, beside the repository's group_vars), the role overrides of the harness
are added to the extra variables (local mirrors, the stand-in API server's address), the environment
adds ``SPARKLAB_HOME`` and Ansible's temporary folders, and no credential endpoint runs (these
phases make no AWS call). No lock, no Ctrl-C handling, no AWS listing after the run.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from playbook_run import PlaybookResult, parse_recap

from sparklab.cluster import bridge
from sparklab.cluster.display import PlainProgress
from sparklab.commands.base import aws_env
from sparklab.config.load import load
from sparklab.core.state import ClusterState

UP_PHASES = bridge.PHASES["up"]
# Every phase of `up` after the AWS provisioning, in its order.
NODE_PHASES = tuple(phase for phase in UP_PHASES if phase.name != "provision")


class RecordingProgress(PlainProgress):
    """The plain progress of runner.py (lines in ``out``), recording each phase's start and end."""

    def __init__(self) -> None:
        super().__init__(out=io.StringIO())
        self.seen: list[tuple[str, str]] = []  # ("start", "01-nodes") / ("successful", "01-nodes")
        self.seconds: dict[str, int] = {}

    def on_phase_start(self) -> None:
        self.seen.append(("start", f"{self.phase_index:02d}-{self.phase}"))
        super().on_phase_start()

    def on_phase_end(self, status: str) -> None:
        self.seen.append((status, f"{self.phase_index:02d}-{self.phase}"))
        self.seconds[self.phase] = round(time.monotonic() - self.phase_started_at)
        super().on_phase_end(status)

    def text(self) -> str:
        return self.out.getvalue()  # type: ignore[attr-defined]


@dataclass
class UpRun:
    """One run of the node phases: the product's result and what its progress showed."""

    result: bridge.RunResult
    progress: RecordingProgress
    seconds: int
    outcomes: dict[str, PlaybookResult] = field(default_factory=dict)

    def phase(self, name: str) -> PlaybookResult:
        """Phase ``name`` as a playbook result (exit code, its artifact stdout, recap); an assertion
        error naming where the sequence stopped when it never ran or failed."""
        ran = {p.phase.name: p for p in self.result.phases}
        stopped = self.result.failed_phase
        where = f"the sequence stopped at {stopped.phase.name} ({stopped.status}): {stopped.failures[-5:]}" \
            if stopped else f"ran {list(ran)}"
        assert name in ran, f"phase {name} did not run; {where}\n{self.progress.text()[-4000:]}"
        if name not in self.outcomes:
            phase = ran[name]
            stdout = (phase.artifact_dir / "stdout").read_text().replace("\r\n", "\n")
            self.outcomes[name] = PlaybookResult(phase.rc, stdout, "", parse_recap(stdout))
        return self.outcomes[name]


def run_up_node_phases(
    config: dict[str, Any], overrides: dict[str, Any], inventory: Path, env: dict[str, str], folder: Path
) -> UpRun:
    """``bridge.run_phases`` over :data:`NODE_PHASES`. ``config``: the cluster_* keys, written as the
    user's cluster.yml and loaded by the product; ``overrides``: role variables added to its extra
    variables; ``env``: added to the phases' environment (``SPARKLAB_HOME`` names the state root)."""
    config_file = folder / "cluster.yml"
    config_file.write_text(yaml.safe_dump(config))
    cfg = load(str(config_file))
    state = ClusterState.for_cluster(cfg.name, cfg.region, environ=env)
    state.record_region(cfg.region)
    progress = RecordingProgress()
    spec = bridge.RunSpec(
        run_dir=state.new_run("up"),
        extravars=cfg.extravars(**overrides),
        env=aws_env(cfg) | env,
        progress=progress,
        cancel=threading.Event(),
        keep_artifacts=len(UP_PHASES) + 1,
        inventory=inventory,
    )
    started = time.monotonic()
    try:
        result = bridge.run_phases(spec, NODE_PHASES)
    finally:
        progress.close()
    return UpRun(result, progress, round(time.monotonic() - started))
