"""What every verb shares: the context (arguments, output, configuration) and the run flow.

The run flow (:func:`run_playbooks`) is written once: Ctrl-C handling, the credential endpoint,
ansible-runner with the progress display, and the failure summary. The verbs decide what the
outcome means for them.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklab.cluster import aws, bridge, costs, credentials
from sparklab.cluster import settle as settle_mod
from sparklab.cluster.display import make_progress
from sparklab.cluster.interrupts import Interrupts
from sparklab.cluster.progress import Progress
from sparklab.config.load import Config, load
from sparklab.core.errors import EXIT_FAILED, EXIT_INTERRUPTED, BadInput
from sparklab.core.state import ClusterState

# Verbs that create or delete accept ``-e`` only for these keys: knobs of waiting, retrying and an
# add-on's version, which cannot point the run at other resources (a cluster name, a region, a CIDR,
# a bucket or an image given to a role straight would bypass the preview, the confirmation, the lock
# and audit.log). One list for all of them: the resume and tear-down lines they print repeat every -e.
EXTRA_VARS_SAFE = frozenset({
    "aws_instances_wait_for_ssh", "aws_instances_ssh_timeout", "aws_instances_launch_timeout",
    "aws_teardown_delay", "aws_teardown_retries", "kube_opex_analytics_git_tag",
})
# `wordcount` runs a job on the cluster with the user's presigned URLs: it accepts only the job's
# sizing and waiting knobs. The image, the jar, the URLs, the kubeconfig, the namespace and the run
# folder are sparklab's to set (an image of someone else's choosing would receive the URLs).
EXTRA_VARS_JOB = frozenset({
    "spark_wordcount_chunk_mib", "spark_wordcount_size_from_cluster", "spark_wordcount_executor_cpu_fraction",
    "spark_wordcount_executor_memory_fraction", "spark_wordcount_driver_cores",
    "spark_wordcount_driver_core_request", "spark_wordcount_driver_memory",
    "spark_wordcount_driver_memory_overhead", "spark_wordcount_ttl_seconds",
    "spark_wordcount_timeout_seconds", "spark_wordcount_poll_seconds", "spark_wordcount_log_tail_lines",
})
EXTRA_VARS_ALLOWED: dict[str, frozenset[str]] = (dict.fromkeys(("provision", "up", "down"), EXTRA_VARS_SAFE)
                                                 | dict.fromkeys(("wordcount", "submit"), EXTRA_VARS_JOB))

VERB_DOES = dict.fromkeys(("provision", "up", "down"), "creates or deletes resources") | {
    "wordcount": "runs a job on the cluster with your presigned URLs",
    "submit": "runs a job on the cluster with your presigned URLs"}


@dataclass
class Context:
    """One invocation of runner.py: its arguments, the ``--key value`` overrides, where to print."""

    args: argparse.Namespace
    overrides: list[str]
    out: Any = field(default_factory=lambda: sys.stdout)

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def command(self, verb: str, *extra: str) -> str:
        """The exact command line to run another verb with the same configuration."""
        parts = ["python3", "runner.py", verb]
        if self.args.config:
            parts += ["-c", self.args.config]
        parts += self.overrides
        for item in self.args.extra_var:
            parts += ["-e", item]
        parts += list(extra)
        return shlex.join(parts)

    def config(self) -> Config:
        cfg = load(self.args.config, self.overrides)
        for warning in cfg.warnings:
            print(f"WARNING: {warning}", file=sys.stderr, flush=True)
        return cfg

    def ansible_vars(self) -> dict[str, Any]:
        """``-e KEY=VALUE`` pairs; values are YAML scalars. Verbs that create, delete or run a job take
        only the keys of :data:`EXTRA_VARS_ALLOWED` (checked before any AWS call)."""
        import yaml

        out: dict[str, Any] = {}
        verb = getattr(self.args, "verb", "")
        allowed = EXTRA_VARS_ALLOWED.get(verb)
        for item in self.args.extra_var:
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise BadInput(f"-e {item}: expected KEY=VALUE (fix: -e aws_instances_wait_for_ssh=false)")
            if key.strip().startswith("cluster_"):
                raise BadInput(f"-e {item}: cluster_* keys are configuration (fix: --{key.strip()} {value})")
            if allowed is not None and key.strip() not in allowed:
                raise BadInput(f"-e {key.strip()}: not accepted by `{verb}`, which {VERB_DOES[verb]}; "
                               f"it accepts only {', '.join(sorted(allowed))} (fix: drop it, or "
                               "set the cluster's configuration with --<key> <value>)")
            try:
                out[key.strip()] = yaml.safe_load(value)
            except yaml.YAMLError:
                out[key.strip()] = value
        return out

    def progress(self) -> Progress:
        return make_progress(verbose=self.args.verbose > 0, out=self.out, force_plain=self.args.plain)


def aws_env(cfg: Config) -> dict[str, str]:
    """Non-secret environment the playbooks and the inventory plugin read."""
    return {
        "AWS_REGION": cfg.region,
        "AWS_DEFAULT_REGION": cfg.region,
        "SPARKLAB_CLUSTER_NAME": cfg.name,
    }


def resolve_credentials() -> Any:
    """The user's AWS credentials, resolved locally; none found is bad input (exit 2)."""
    try:
        return credentials.resolve()
    except credentials.CredentialsMissing as exc:
        raise BadInput(str(exc)) from None


def refuse_under_emulator(verb: str, fix: str = "unset AWS_ENDPOINT_URL to reach a cluster on AWS") -> None:
    """Against an emulator the node addresses are invented: never connect to them (one line, exit 2)."""
    endpoint = aws.emulated_endpoint()
    if endpoint:
        raise BadInput(f"{verb}: AWS_ENDPOINT_URL points at an emulator ({endpoint}), whose node addresses "
                       "are invented and may belong to strangers; sparklab opens no connection to them "
                       f"(fix: {fix})")


def user_target(cfg: Config) -> aws.Target:
    """The user's AWS account in the configured region."""
    return aws.Target(region=cfg.region)


def run_playbooks(ctx: Context, cfg: Config, verb: str, creds: Any, run_dir: Path, extravars: dict[str, Any],
                  *, env: dict[str, str] | None = None, vars_files: Sequence[Path] = (),
                  progress: Progress | None = None) -> bridge.RunResult:
    """Run the phases of ``verb`` with Ctrl-C handling and ``creds`` served on 127.0.0.1.

    ``env`` is added to the playbooks' environment. A failed phase is summarised here; a
    cancelled run is left to the verb, which knows what to say.
    """
    phases = bridge.PHASES[verb]
    with Interrupts(ctx.say) as interrupts, credentials.CredentialEndpoint(creds) as endpoint:
        full_env = aws_env(cfg) | (env or {}) | endpoint.child_env()
        ctx.say(f"{verb}: cluster {cfg.name} in {cfg.region}; log: {run_dir}")
        progress = progress or ctx.progress()
        spec = bridge.RunSpec(
            run_dir=run_dir, extravars=extravars, env=full_env, progress=progress, cancel=interrupts.cancel,
            verbosity=max(0, ctx.args.verbose - 1), keep_artifacts=len(phases) + 1, vars_files=vars_files,
        )
        try:
            result = bridge.run_phases(spec, phases)
        finally:
            progress.close()
    if not result.canceled and not result.ok:
        report_failure(ctx, result)
    return result


def report_failure(ctx: Context, result: bridge.RunResult) -> None:
    """The failed phase, its last failures and where its full log is."""
    failed = result.failed_phase
    if failed is None:
        return
    ctx.say(f"phase {failed.phase.name} {failed.status} (ansible-playbook exit code {failed.rc}); "
            f"runner.py exits {EXIT_FAILED}")
    for line in failed.failures[-5:]:
        ctx.say(f"  {line}")
    ctx.say(f"full log: {failed.artifact_dir / 'stdout'}")


def describe_existing(ctx: Context, cfg: Config, target: aws.Target,
                      settle: bool = False) -> aws.Inventory | None:
    """Print what exists for the cluster (by tag), its cost per hour and expiry; None if unknown.

    ``settle``: after an interrupted run, scan until AWS stops changing (:mod:`sparklab.cluster.settle`).
    """
    if settle:
        ctx.say(f"listing what exists once AWS stops changing (scans {settle_mod.PAUSE_SECONDS:g} s apart)")
    try:
        inv = settle_mod.settled_scan(cfg.name, target) if settle else aws.scan(cfg.name, target)
    except Exception as exc:  # the summary must not hide the real outcome
        ctx.say(f"could not list the cluster's resources: {exc}")
        return None
    if inv.count == 0:
        ctx.say(f"0 resources of cluster {cfg.name} exist in {cfg.region}")
        return inv
    ctx.say(f"{inv.count} resources of cluster {cfg.name} exist in {cfg.region}:")
    for line in inv.lines():
        ctx.say(line)
    running: dict[str, int] = {}
    for node in inv.nodes:
        if node.state in ("running", "pending"):
            running[node.instance_type] = running.get(node.instance_type, 0) + 1
    if running:
        est = costs.estimate(running, float(cfg.resolved["cluster_root_volume_gib"]))
        ctx.say(f"they cost about ${est.usd_per_hour:.3f} per hour ({costs.PRICES_LABEL})")
    if inv.expires_at:
        ctx.say(f"the nodes power themselves off at {inv.expires_at}")
    return inv


def elsewhere(ctx: Context, cfg: Config, state: ClusterState) -> None:
    """With nothing of the cluster in the configured region: the other regions where this machine's
    state says a cluster of that name lives (one line; nothing when there is none)."""
    others = state.other_regions()
    if others:
        ctx.say(f"this machine's state has cluster {cfg.name} in {', '.join(others)}, not in {cfg.region} "
                f"(fix: --aws-region {others[0]} to reach it there)")


def interrupted(ctx: Context, cfg: Config, verb: str, target: aws.Target) -> int:
    """After Ctrl-C: what exists, how to resume, how to tear down; exit code 130."""
    ctx.say(f"{verb} interrupted: the playbook and its processes were stopped")
    describe_existing(ctx, cfg, target, settle=True)
    ctx.say(f"resume:    {ctx.command(verb)}")
    ctx.say(f"tear down: {ctx.command('down')}")
    return EXIT_INTERRUPTED
