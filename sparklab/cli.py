"""Command line of runner.py: argument parsing, verbs, exit codes.

Exit codes: 0 success, 1 a run failed, 2 bad input (nothing was started), 130 interrupted.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shlex
import signal
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sparklab import aws, bridge, costs, credentials
from sparklab.config import BadInput, Config, detect_admin_cidrs, load
from sparklab.progress import Progress, make_progress
from sparklab.state import ClusterState

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
# `plan` opens the admin ports to this documentation address (RFC 5737) when cluster_admin_cidrs
# is empty: detecting the caller's address would need the internet, and plan runs offline.
PLAN_ADMIN_CIDR = "192.0.2.10/32"
# Variables sparklab passes to the provision playbook when it runs against the emulator, where
# no instance ever answers SSH.
PLAN_EXTRAVARS = {"aws_instances_wait_for_ssh": False}


class RunFailed(Exception):
    """A step failed after something was started; printed as one line, exit code 1."""


# --------------------------------------------------------------------------------------------
# Ctrl-C


class Interrupts:
    """First SIGINT/SIGTERM: ask the running playbook to stop. Second SIGINT: leave at once."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.cancel = threading.Event()
        self._say = say
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.cancel.is_set():
            raise KeyboardInterrupt
        self.cancel.set()
        self._say("interrupted: stopping the playbook and everything it started (Ctrl-C again to quit now)")


# --------------------------------------------------------------------------------------------
# Context shared by the verbs


@dataclass
class Context:
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
        """``-e KEY=VALUE`` pairs; values are YAML scalars."""
        import yaml

        out: dict[str, Any] = {}
        for item in self.args.extra_var:
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise BadInput(f"-e {item}: expected KEY=VALUE (fix: -e aws_instances_wait_for_ssh=false)")
            if key.strip().startswith("cluster_"):
                raise BadInput(f"-e {item}: cluster_* keys are configuration (fix: --{key.strip()} {value})")
            try:
                out[key.strip()] = yaml.safe_load(value)
            except yaml.YAMLError:
                out[key.strip()] = value
        return out

    def progress(self) -> Progress:
        return make_progress(verbose=self.args.verbose > 0, out=self.out, force_plain=self.args.plain)


def _aws_env(cfg: Config) -> dict[str, str]:
    """Non-secret environment the playbooks and the inventory plugin read."""
    return {
        "AWS_REGION": cfg.region,
        "AWS_DEFAULT_REGION": cfg.region,
        "SPARKLAB_CLUSTER_NAME": cfg.name,
    }


def _run(ctx: Context, cfg: Config, verb: str, phases: tuple[bridge.Phase, ...], env: dict[str, str],
         extravars: dict[str, Any], interrupts: Interrupts, run_dir: Path,
         vars_files: tuple[Path, ...] = ()) -> bridge.RunResult:
    ctx.say(f"{verb}: cluster {cfg.name} in {cfg.region}; log: {run_dir}")
    progress = ctx.progress()
    spec = bridge.RunSpec(
        run_dir=run_dir, extravars=extravars, env=env, progress=progress, cancel=interrupts.cancel,
        verbosity=max(0, ctx.args.verbose - 1), keep_artifacts=len(phases) + 1, vars_files=vars_files,
    )
    try:
        return bridge.run_phases(spec, phases)
    finally:
        progress.close()


def _report_failure(ctx: Context, result: bridge.RunResult) -> None:
    failed = result.failed_phase
    if failed is None:
        return
    ctx.say(f"phase {failed.phase.name} {failed.status} (rc {failed.rc})")
    for line in failed.failures[-5:]:
        ctx.say(f"  {line}")
    ctx.say(f"full log: {failed.artifact_dir / 'stdout'}")


def _existing(ctx: Context, cfg: Config, target: aws.Target) -> aws.Inventory | None:
    try:
        inv = aws.scan(cfg.name, target)
    except Exception as exc:  # the summary must not hide the real outcome
        ctx.say(f"could not list the cluster's resources: {exc}")
        return None
    if inv.count == 0:
        ctx.say(f"0 resources of cluster {cfg.name} exist in {cfg.region}")
        return inv
    ctx.say(f"{inv.count} resources of cluster {cfg.name} exist in {cfg.region}:")
    for line in inv.lines():
        ctx.say(line)
    running = {}
    for node in inv.nodes:
        if node.state in ("running", "pending"):
            running[node.instance_type] = running.get(node.instance_type, 0) + 1
    if running:
        est = costs.estimate(running, float(cfg.resolved["cluster_root_volume_gib"]))
        ctx.say(f"they cost about ${est.usd_per_hour:.3f} per hour ({costs.PRICES_LABEL})")
    if inv.expires_at:
        ctx.say(f"the nodes power themselves off at {inv.expires_at}")
    return inv


def _interrupted(ctx: Context, cfg: Config, verb: str, target: aws.Target) -> int:
    ctx.say(f"{verb} interrupted: the playbook and its processes were stopped")
    _existing(ctx, cfg, target)
    ctx.say(f"resume:    {ctx.command(verb)}")
    ctx.say(f"tear down: {ctx.command('down')}")
    return EXIT_INTERRUPTED


def _user_target(cfg: Config) -> aws.Target:
    return aws.Target(region=cfg.region)


def _resolve_credentials() -> Any:
    try:
        return credentials.resolve()
    except credentials.CredentialsMissing as exc:
        raise BadInput(str(exc)) from None


# --------------------------------------------------------------------------------------------
# Verbs


def cmd_plan(ctx: Context) -> int:
    from sparklab.emulator import Emulator

    cfg = ctx.config()
    state = ClusterState.for_cluster(cfg.name)
    extra: dict[str, Any] = dict(PLAN_EXTRAVARS) | ctx.ansible_vars()
    if not cfg.resolved["cluster_admin_cidrs"]:
        extra["cluster_admin_cidrs"] = [PLAN_ADMIN_CIDR]
    ctx.say("plan: starting a local AWS emulator (moto) on 127.0.0.1; no AWS account is used")
    fake = credentials.throwaway()
    with Interrupts(ctx.say) as interrupts, Emulator(regions=(cfg.region,)) as emu:
        run_dir = state.new_run("plan")
        env = _aws_env(cfg)
        env["AWS_ENDPOINT_URL"] = emu.endpoint_url
        # Per-service endpoint overrides of the user's shell must point at the emulator too.
        env.update({k: emu.endpoint_url for k in os.environ if k.startswith("AWS_ENDPOINT_URL_")})
        # The emulated cluster's key pair and known_hosts stay inside this run's folder.
        env["SPARKLAB_HOME"] = str(run_dir / "emulated-home")
        with credentials.CredentialEndpoint(fake) as endpoint:
            env.update(endpoint.child_env())
            result = _run(ctx, cfg, "plan", bridge.PHASES["plan"], env, cfg.extravars(**extra), interrupts,
                          run_dir)
        target = aws.Target(cfg.region, emu.endpoint_url, fake.access_key, fake.secret_key)
        if result.canceled:
            ctx.say("plan interrupted; the emulator is discarded, nothing exists anywhere")
            return EXIT_INTERRUPTED
        if not result.ok:
            _report_failure(ctx, result)
            return EXIT_FAILED
        inv = aws.scan(cfg.name, target)
    _print_plan(ctx, cfg, inv, extra)
    return EXIT_OK


def _print_plan(ctx: Context, cfg: Config, inv: aws.Inventory, extra: dict[str, Any]) -> None:
    ctx.say("")
    ctx.say(f"`up` would create these {inv.count} resources in {cfg.region} (as created in the emulator):")
    for line in inv.lines():
        ctx.say(line)
    if "cluster_admin_cidrs" in extra:
        ctx.say(f"  (admin access: plan used {PLAN_ADMIN_CIDR}; `up` opens it to your public IPv4 /32)")
    est = costs.estimate_for_config(cfg.resolved)
    ctx.say("hourly cost:")
    for line in est.table():
        ctx.say(line)
    ttl = int(cfg.resolved["cluster_ttl_hours"])
    if ttl:
        ctx.say(f"the nodes power themselves off after {ttl} h: at most about ${est.usd_per_hour * ttl:.2f}")
    ctx.say("This plan ran the real playbooks/provision.yml against a local AWS emulator on 127.0.0.1; "
            "nothing was created in AWS. The emulator has been stopped.")
    ctx.say(f"next: {ctx.command('up')}")


def _provisioning_verb(ctx: Context, verb: str) -> int:
    cfg = ctx.config()
    extra: dict[str, Any] = ctx.ansible_vars()
    creds = _resolve_credentials()
    if not cfg.resolved["cluster_admin_cidrs"]:
        extra["cluster_admin_cidrs"] = detect_admin_cidrs(cfg)
        ctx.say(f"admin access (SSH, API server, dashboard) from {', '.join(extra['cluster_admin_cidrs'])}")
    state = ClusterState.for_cluster(cfg.name)
    target = _user_target(cfg)
    with Interrupts(ctx.say) as interrupts, credentials.CredentialEndpoint(creds) as endpoint:
        env = _aws_env(cfg) | endpoint.child_env()
        result = _run(ctx, cfg, verb, bridge.PHASES[verb], env, cfg.extravars(**extra), interrupts,
                      state.new_run(verb))
    if result.canceled:
        return _interrupted(ctx, cfg, verb, target)
    if not result.ok:
        _report_failure(ctx, result)
        _existing(ctx, cfg, target)
        ctx.say(f"resume:    {ctx.command('up' if verb == 'up' else verb)}")
        ctx.say(f"tear down: {ctx.command('down')}")
        return EXIT_FAILED
    ctx.say("")
    inv = _existing(ctx, cfg, target)
    if verb == "up":
        _print_access(ctx, cfg, state, inv)
        ctx.say(f"next: {ctx.command('wordcount', '--generate', '1GB')}   when done: {ctx.command('down')}")
    else:
        ctx.say(f"next: {ctx.command('up')}   or tear down: {ctx.command('down')}")
    return EXIT_OK


def _print_access(ctx: Context, cfg: Config, state: ClusterState, inv: aws.Inventory | None) -> None:
    cp = inv.control_plane if inv else None
    port = cfg.resolved["cluster_dashboard_node_port"]
    if cp and cp.public_ip:
        ctx.say(f"dashboard:  http://{cp.public_ip}:{port}/  (charts fill in after 5-10 minutes)")
    ctx.say(f"kubeconfig: {state.kubeconfig}   (export KUBECONFIG={shlex.quote(str(state.kubeconfig))})")


def cmd_provision(ctx: Context) -> int:
    return _provisioning_verb(ctx, "provision")


def cmd_up(ctx: Context) -> int:
    return _provisioning_verb(ctx, "up")


def _confirm(ctx: Context, cfg: Config) -> bool:
    if ctx.args.yes:
        return True
    if not sys.stdin.isatty():
        raise BadInput("down needs confirmation (fix: run it in a terminal, or add --yes)")
    prompt = (f"Delete every AWS resource tagged sparklab:cluster={cfg.name} in {cfg.region}? "
              f"Type the cluster name to confirm: ")
    try:
        answer = input(prompt)
    except EOFError:
        answer = ""
    return answer.strip() == cfg.name


def cmd_down(ctx: Context) -> int:
    cfg = ctx.config()
    extra = ctx.ansible_vars()
    creds = _resolve_credentials()
    state = ClusterState.for_cluster(cfg.name)
    if not _confirm(ctx, cfg):
        ctx.say("not confirmed; nothing was deleted")
        return EXIT_BAD_INPUT
    how = "--yes" if ctx.args.yes else "prompt"
    state.audit(f"down cluster={cfg.name} region={cfg.region} user={getpass.getuser()} "
                f"credentials={getattr(creds, 'method', '?')} confirmed={how} started")
    target = _user_target(cfg)
    with Interrupts(ctx.say) as interrupts, credentials.CredentialEndpoint(creds) as endpoint:
        env = _aws_env(cfg) | endpoint.child_env()
        result = _run(ctx, cfg, "down", bridge.PHASES["down"], env, cfg.extravars(**extra),
                      interrupts, state.new_run("down"))
    outcome = "canceled" if result.canceled else ("ok" if result.ok else "failed")
    if result.canceled:
        state.audit(f"down cluster={cfg.name} region={cfg.region} result={outcome}")
        ctx.say(f"down interrupted; run it again to finish: {ctx.command('down', '--yes')}")
        _existing(ctx, cfg, target)
        return EXIT_INTERRUPTED
    if not result.ok:
        _report_failure(ctx, result)
    ctx.say("")
    ctx.say("leftover audit (independent scan by tag):")
    inv = _existing(ctx, cfg, target)
    left = inv.count if inv is not None else -1
    state.audit(f"down cluster={cfg.name} region={cfg.region} result={outcome} left={left}")
    if not result.ok or left != 0:
        ctx.say(f"run it again: {ctx.command('down', '--yes')}")
        return EXIT_FAILED
    return EXIT_OK


def cmd_status(ctx: Context) -> int:
    cfg = ctx.config()
    _resolve_credentials()
    state = ClusterState.for_cluster(cfg.name)
    try:
        inv = aws.scan(cfg.name, _user_target(cfg))
    except Exception as exc:
        raise RunFailed(f"could not list the cluster's resources: {exc}") from None
    ctx.say(f"cluster {cfg.name} in {cfg.region}: {inv.count} resources")
    for line in inv.lines():
        ctx.say(line)
    if inv.count == 0:
        ctx.say(f"nothing exists. create it: {ctx.command('up')}")
        ctx.say(f"try it offline first: {ctx.command('plan')}")
        return EXIT_OK
    if inv.expires_at:
        ctx.say(f"expires at: {inv.expires_at}{_time_left(inv.expires_at)}")
    running: dict[str, int] = {}
    for node in inv.nodes:
        if node.state == "running":
            running[node.instance_type] = running.get(node.instance_type, 0) + 1
    gib = float(cfg.resolved["cluster_root_volume_gib"])
    hourly = costs.estimate(running, gib)
    ctx.say(f"cost now: about ${hourly.usd_per_hour:.3f} per hour ({costs.PRICES_LABEL})")
    ctx.say(f"cost so far: about ${_cost_so_far(inv, gib):.2f} (running instances since launch)")
    ctx.say(f"nodes: {_readiness(state, inv)}")
    ctx.say(f"tear down: {ctx.command('down')}")
    return EXIT_OK


def _time_left(expires_at: str) -> str:
    try:
        when = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    left = (when - datetime.now(UTC)).total_seconds()
    if left <= 0:
        return " (past: the nodes have powered off or are about to)"
    return f" (in {int(left // 3600)} h {int(left % 3600 // 60)} min)"


def _cost_so_far(inv: aws.Inventory, gib: float) -> float:
    total = 0.0
    for node in inv.nodes:
        hours = aws.hours_running([node]).get(node.instance_type, 0.0)
        unit = (costs.instance_hourly(node.instance_type) or 0.0) + costs.volume_hourly(gib)
        total += hours * (unit + costs.PUBLIC_IPV4_HOURLY_USD)
    return total


def _readiness(state: ClusterState, inv: aws.Inventory) -> str:
    if not state.kubeconfig.is_file():
        return f"readiness unknown: no kubeconfig at {state.kubeconfig} yet (the cluster phase writes it)"
    try:
        from kubernetes import client, config

        api = config.new_client_from_config(config_file=str(state.kubeconfig))
        nodes = client.CoreV1Api(api).list_node(_request_timeout=5).items
    except Exception as exc:
        return f"readiness unknown: the API server did not answer ({type(exc).__name__})"
    ready = [n.metadata.name for n in nodes
             if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]
    return f"{len(ready)}/{len(nodes)} Ready ({len(inv.nodes)} instances)"


def cmd_dashboard(ctx: Context) -> int:
    cfg = ctx.config()
    _resolve_credentials()
    inv = aws.scan(cfg.name, _user_target(cfg))
    cp = inv.control_plane
    if cp is None or not cp.public_ip:
        raise RunFailed(f"cluster {cfg.name} has no running control plane (fix: {ctx.command('up')})")
    url = f"http://{cp.public_ip}:{cfg.resolved['cluster_dashboard_node_port']}/"
    ctx.say(f"dashboard: {url}")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            code = response.status
    except urllib.error.HTTPError as exc:
        code = exc.code
    except (urllib.error.URLError, OSError) as exc:
        ctx.say(f"not answering: {getattr(exc, 'reason', exc)} (is your address in cluster_admin_cidrs?)")
        return EXIT_FAILED
    ctx.say(f"answers: HTTP {code}")
    return EXIT_OK if code == 200 else EXIT_FAILED


def cmd_kubeconfig(ctx: Context) -> int:
    cfg = ctx.config()
    state = ClusterState.for_cluster(cfg.name)
    if not state.kubeconfig.is_file():
        raise RunFailed(f"no kubeconfig at {state.kubeconfig} yet (fix: {ctx.command('up')})")
    ctx.say(str(state.kubeconfig))
    ctx.say(f"export KUBECONFIG={shlex.quote(str(state.kubeconfig))}")
    return EXIT_OK


def _find_node(inv: aws.Inventory, wanted: str) -> aws.Node | None:
    running = [n for n in inv.nodes if n.state == "running"]
    for node in running:
        short = node.name.removeprefix(f"{inv.cluster}-")
        if wanted in (node.name, short, node.instance_id, node.public_ip, node.private_ip):
            return node
    if wanted in ("cp", "control-plane") and inv.control_plane:
        return inv.control_plane
    return None


def cmd_ssh(ctx: Context) -> int:
    cfg = ctx.config()
    _resolve_credentials()
    state = ClusterState.for_cluster(cfg.name)
    inv = aws.scan(cfg.name, _user_target(cfg))
    node = _find_node(inv, ctx.args.node)
    if node is None or not node.public_ip:
        names = ", ".join(n.name for n in inv.nodes if n.state == "running") or "none running"
        raise BadInput(f"{ctx.args.node}: no such running node of cluster {cfg.name} (nodes: {names})")
    cmd = ["ssh", "-i", str(state.private_key), "-o", "IdentitiesOnly=yes",
           "-o", f"UserKnownHostsFile={state.known_hosts}", "-o", "StrictHostKeyChecking=yes",
           f"{cfg.resolved['cluster_ssh_user']}@{node.public_ip}", *ctx.args.remote]
    os.execvp(cmd[0], cmd)
    return EXIT_FAILED  # pragma: no cover - execvp does not return


def cmd_wordcount(ctx: Context) -> int:
    from sparklab import workflow

    cfg = ctx.config()
    creds = _resolve_credentials()
    return workflow.wordcount(ctx, cfg, creds)


def cmd_report(ctx: Context) -> int:
    from sparklab import workflow

    cfg = ctx.config()
    return workflow.report(ctx, cfg)


VERBS: dict[str, tuple[Callable[[Context], int], str]] = {
    "plan": (cmd_plan, "show what `up` would create and cost, using a local AWS emulator (no account)"),
    "provision": (cmd_provision, "create the AWS infrastructure only"),
    "up": (cmd_up, "provision, prepare nodes, create the cluster, install add-ons (re-run to resume)"),
    "down": (cmd_down, "delete everything tagged for the cluster, then audit that nothing is left"),
    "status": (cmd_status, "what exists, node readiness, expiry, cost so far"),
    "wordcount": (cmd_wordcount, "run the Spark WordCount job while sampling CPU/memory, then report"),
    "report": (cmd_report, "show (and re-render) the report of a WordCount run"),
    "dashboard": (cmd_dashboard, "the dashboard URL and whether it answers"),
    "kubeconfig": (cmd_kubeconfig, "the kubeconfig path and an export line"),
    "ssh": (cmd_ssh, "ssh to a node with the cluster's key and known_hosts"),
}


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    common.add_argument("-c", "--config", metavar="FILE",
                        help="cluster configuration (default: ./cluster.yml if present)")
    common.add_argument("-v", "--verbose", action="count", default=0,
                        help="stream Ansible's output (-vv and more: Ansible's own -v levels)")
    common.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    common.add_argument("-e", "--extra-var", action="append", default=[], metavar="KEY=VALUE",
                        help="an Ansible variable for the playbooks, as given (e.g. a role default)")
    parser = argparse.ArgumentParser(
        prog="runner.py", allow_abbrev=False,
        description="sparklab: a kubeadm Kubernetes cluster with Spark on AWS EC2, from one command.",
        epilog="Any configuration key can be overridden: --worker-count 3, --cluster_aws_region us-east-1. "
               "Exit codes: 0 ok, 1 run failed, 2 bad input, 130 interrupted.",
    )
    sub = parser.add_subparsers(dest="verb", metavar="<verb>", required=True)
    for name, (_func, text) in VERBS.items():
        p = sub.add_parser(name, parents=[common], help=text, description=text, allow_abbrev=False)
        if name == "down":
            p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
        if name == "ssh":
            p.add_argument("node", help="node name (e.g. worker-1, control-plane-1), instance id or IP")
            p.add_argument("remote", nargs="*", help="command to run on the node (after --)")
        if name == "wordcount":
            p.add_argument("--input", action="append", default=[], metavar="SRC",
                           help="https URL, s3://bucket/key or local file (repeatable)")
            p.add_argument("--generate", metavar="SIZE",
                           help="generate a corpus of SIZE (e.g. 1GB) inside the job")
            p.add_argument("--top", type=int, default=20, help="how many words to show")
        if name == "report":
            p.add_argument("--run", metavar="ID", help="run id (default: the latest WordCount run)")
    return parser


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:  # argparse keeps no public list of sub-parser options
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _option_strings(sub)
    return found


def split_overrides(argv: list[str], known: set[str]) -> tuple[list[str], list[str]]:
    """Separate ``--<config key> <value>`` pairs from runner.py's own arguments."""
    own: list[str] = []
    overrides: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            own.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if arg.startswith("--") and name not in known:
            overrides.append(arg)
            if "=" not in arg and i + 1 < len(argv):
                overrides.append(argv[i + 1])
                i += 1
        else:
            own.append(arg)
        i += 1
    return own, overrides


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = build_parser()
    own, overrides = split_overrides(argv, _option_strings(parser))
    args = parser.parse_args(own)
    args.yes = getattr(args, "yes", False)
    return args, overrides


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args, overrides = parse(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    ctx = Context(args=args, overrides=overrides)
    func = VERBS[args.verb][0]
    try:
        return func(ctx)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return EXIT_BAD_INPUT
    except RunFailed as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, (BotoCoreError, ClientError)):
            print(f"error: AWS: {exc}", file=sys.stderr, flush=True)
            return EXIT_FAILED
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
