"""Run sparklab's playbooks through ansible-runner.

One runner.py invocation = one private data dir ``$SPARKLAB_HOME/<cluster>/runs/<ts>-<verb>/``
(0700). Each phase is one ansible-runner run in it with ident ``NN-<phase>``, so its full log is
``artifacts/NN-<phase>/stdout`` and its events ``artifacts/NN-<phase>/job_events/``.

Secrets: ``suppress_env_files=True`` (nothing under ``env/`` is written or reused), the
configuration goes in a 0600 vars file passed with ``-e @file`` (secret variables, such as a job's
presigned URLs, go in separate 0600 files the caller deletes: ``RunSpec.vars_files``, only their
paths reach the recorded command line), and the environment ansible-runner
records is scrubbed of every credential variable before the run starts: Ansible gets its AWS
credentials from :mod:`sparklab.cluster.credentials` instead.

Cancellation: a shared :class:`threading.Event` is the ansible-runner ``cancel_callback``;
ansible-runner then kills the playbook's process group, and :func:`reap` makes sure nothing that
carries this run's marker survives (a process that left the group included).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklab.cluster.credentials import scrub
from sparklab.cluster.progress import Progress
from sparklab.core.state import write_private

REPO_ROOT = Path(__file__).resolve().parents[2]
MARKER_ENV = "SPARKLAB_RUN_MARKER"
# Announces each playbook's task ids so the progress can show "task N of M" (plugins/callback).
TASK_PLAN_CALLBACK = "sparklab.cluster.task_plan"


@dataclass(frozen=True)
class Phase:
    """One playbook of a verb, in order."""

    name: str
    playbook: str  # relative to the repository root


# The verbs that run Ansible, as data: `up` resumes by running the same idempotent phases again.
PHASES: dict[str, tuple[Phase, ...]] = {
    "plan": (Phase("provision", "playbooks/provision.yml"),),
    "provision": (Phase("provision", "playbooks/provision.yml"),),
    "up": (
        Phase("provision", "playbooks/provision.yml"),
        Phase("nodes", "playbooks/nodes.yml"),
        Phase("cluster", "playbooks/cluster.yml"),
        Phase("addons", "playbooks/addons.yml"),
    ),
    "down": (Phase("teardown", "playbooks/teardown.yml"),),
    "wordcount": (Phase("wordcount", "playbooks/wordcount.yml"),),
    "submit": (Phase("submit", "playbooks/submit.yml"),),
}


@dataclass
class PhaseResult:
    phase: Phase
    status: str  # successful | failed | canceled | timeout | error
    rc: int
    artifact_dir: Path
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "successful"


@dataclass
class RunResult:
    run_dir: Path
    phases: list[PhaseResult] = field(default_factory=list)
    canceled: bool = False
    reaped: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.canceled and bool(self.phases) and all(p.ok for p in self.phases)

    @property
    def failed_phase(self) -> PhaseResult | None:
        return next((p for p in self.phases if not p.ok), None)


@dataclass
class RunSpec:
    """Everything one verb needs to run its phases."""

    run_dir: Path
    extravars: dict[str, Any]
    env: dict[str, str]  # extra environment for Ansible (no secrets: they are scrubbed anyway)
    progress: Progress
    cancel: threading.Event
    verbosity: int = 0
    repo_root: Path = REPO_ROOT
    keep_artifacts: int = 10
    event_sinks: Sequence[Callable[[dict[str, Any]], None]] = ()
    # More ``-e @file`` vars files, after the configuration; the caller owns (and deletes) them.
    vars_files: Sequence[Path] = ()
    # The ``-i`` of every phase. None (what runner.py always passes): the repository's ``inventory/``,
    # the aws_ec2 plugin's configuration and its group_vars. Set only by the cluster harness
    # (tests/cluster), to run the same phases against its node containers.
    inventory: Path | None = None


def base_env(repo_root: Path = REPO_ROOT) -> dict[str, str]:
    """Environment every sparklab Ansible run gets on top of the user's (scrubbed) one."""
    bindir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return {
        "ANSIBLE_CONFIG": str(repo_root / "ansible.cfg"),
        # ansible-runner turns host key checking off unless told otherwise; sparklab never does.
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_NOCOLOR": "1",
        "PATH": bindir if not path else f"{bindir}{os.pathsep}{path}",
    }


def write_vars(run_dir: Path, extravars: dict[str, Any]) -> Path:
    return write_private(run_dir / "cluster-vars.json", json.dumps(extravars, indent=2, sort_keys=True))


def extravars_cmdline(*vars_files: Path) -> str:
    """``-e @file`` for each file, quoted for ansible-runner (which splits it with shlex)."""
    return shlex.join([arg for path in vars_files for arg in ("-e", f"@{path}")])


def _build_runner(spec: RunSpec, phase: Phase, index: int, vars_file: Path, marker: str) -> Any:
    from ansible_runner.interface import init_runner

    handler = _fan_out(spec.progress.event, spec.event_sinks)
    runner = init_runner(
        private_data_dir=str(spec.run_dir),
        ident=f"{index:02d}-{phase.name}",
        playbook=str(spec.repo_root / phase.playbook),
        inventory=str(spec.inventory or spec.repo_root / "inventory"),
        cmdline=extravars_cmdline(vars_file, *spec.vars_files),
        suppress_env_files=True,
        rotate_artifacts=spec.keep_artifacts,
        quiet=True,
        verbosity=spec.verbosity or None,
        settings={"pexpect_timeout": 1, "suppress_ansible_output": True},
        event_handler=handler,
        cancel_callback=spec.cancel.is_set,
    )
    # What ansible-runner records (artifacts/<ident>/command) and hands to the playbook is
    # exactly this dict: scrub it here, after ansible-runner copied os.environ into it.
    env = runner.config.env
    scrub(env)
    env.update(base_env(spec.repo_root))
    env.update(spec.env)
    enabled = env.get("ANSIBLE_CALLBACKS_ENABLED")
    env["ANSIBLE_CALLBACKS_ENABLED"] = f"{enabled},{TASK_PLAN_CALLBACK}" if enabled else TASK_PLAN_CALLBACK
    env[MARKER_ENV] = marker
    return runner


def _fan_out(primary: Callable[[dict[str, Any]], bool],
             sinks: Iterable[Callable[[dict[str, Any]], None]]) -> Callable[[dict[str, Any]], bool]:
    sinks = tuple(sinks)

    def handle(event: dict[str, Any]) -> bool:
        for sink in sinks:
            sink(event)
        return primary(event)

    return handle


def run_phases(spec: RunSpec, phases: Sequence[Phase], first_index: int = 1) -> RunResult:
    """Run ``phases`` in order, stopping at the first failure or at cancellation."""
    result = RunResult(run_dir=spec.run_dir)
    # ansible-runner creates artifacts/<ident> 0700 but its parent with the default umask.
    (spec.run_dir / "artifacts").mkdir(mode=0o700, exist_ok=True)
    (spec.run_dir / "artifacts").chmod(0o700)
    vars_file = write_vars(spec.run_dir, spec.extravars)
    marker = uuid.uuid4().hex
    total = len(phases)
    try:
        for offset, phase in enumerate(phases):
            index = first_index + offset
            if spec.cancel.is_set():
                result.canceled = True
                break
            spec.progress.start_phase(phase.name, index, total)
            phase_result = _run_one(spec, phase, index, vars_file, marker)
            spec.progress.end_phase(phase_result.status)
            result.phases.append(phase_result)
            if phase_result.status == "canceled" or spec.cancel.is_set():
                result.canceled = True
                break
            if not phase_result.ok:
                break
    finally:
        result.reaped = reap(marker)
    return result


def _run_one(spec: RunSpec, phase: Phase, index: int, vars_file: Path, marker: str) -> PhaseResult:
    runner = _build_runner(spec, phase, index, vars_file, marker)
    failures_before = len(spec.progress.failures)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["status"], outcome["rc"] = runner.run()
        except Exception as exc:  # reported as a failed phase, not a traceback
            outcome["status"], outcome["rc"], outcome["error"] = "error", 1, exc

    thread = threading.Thread(target=target, name=f"ansible-{phase.name}", daemon=True)
    thread.start()
    # Join in short slices so the main thread keeps handling signals (Ctrl-C) promptly.
    while thread.is_alive():
        thread.join(0.2)
    status = str(outcome.get("status", "error"))
    failures = spec.progress.failures[failures_before:]
    if "error" in outcome:
        failures.append(f"{phase.name}: {outcome['error']}")
    return PhaseResult(phase, status, int(outcome.get("rc") or 0),
                       Path(runner.config.artifact_dir), failures)


def processes_with_marker(marker: str) -> list[int]:
    """PIDs of live processes whose environment carries ``marker`` (Linux /proc)."""
    needle = f"{MARKER_ENV}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def reap(marker: str, grace: float = 3.0, rounds: int = 5) -> list[int]:
    """Terminate every process left behind by a run (TERM, then KILL); return their PIDs.

    ansible-runner kills the playbook's process group on cancel, but ansible-core's workers call
    setsid(): they and the modules they started survive in groups of their own. They all carry the
    run's marker in their environment, so they are found here whatever their group.
    """
    reaped: list[int] = []
    for _ in range(rounds):
        pids = [p for p in processes_with_marker(marker) if _alive(p)]
        if not pids:
            break
        reaped.extend(p for p in pids if p not in reaped)
        for pid in pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
        for pid in pids:
            if _alive(pid):
                _signal(pid, signal.SIGKILL)
    return reaped


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().split(") ", 1)[1][:1] not in ("Z", "X")
    except (OSError, IndexError):
        return False
