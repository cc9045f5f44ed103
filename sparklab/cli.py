"""Command line of runner.py: argument parsing in one place, then dispatch to the verb's module.

Standard library only at import time: ``--help`` and usage errors need no third-party package.
The verbs are data in :mod:`sparklab.commands`; their code is imported only when one runs.
Exit codes come with the errors (:mod:`sparklab.core.errors`): 0 success, 1 a run failed,
2 bad input (nothing was started), 130 interrupted.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

from sparklab.commands import VERBS, Verb
from sparklab.core.contract import contract
from sparklab.core.errors import EXIT_FAILED, EXIT_INTERRUPTED, SparklabError


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", metavar="FILE",
                        help="cluster configuration (default: ./cluster.yml if present)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="stream Ansible's output (-vv and more: Ansible's own -v levels)")
    parser.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    parser.add_argument("-e", "--extra-var", action="append", default=[], metavar="KEY=VALUE",
                        help="an Ansible variable for the playbooks, as given (e.g. a role default)")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_common_arguments(common)
    parser = argparse.ArgumentParser(
        prog="runner.py", allow_abbrev=False,
        description="sparklab: a kubeadm Kubernetes cluster with Spark on AWS EC2, from one command.",
        epilog="Any configuration key can be overridden: --worker-count 3, --cluster_aws_region us-east-1. "
               "Exit codes: 0 ok, 1 run failed, 2 bad input, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=version_text())
    sub = parser.add_subparsers(dest="verb", metavar="<verb>", required=True)
    for verb in VERBS:
        p = sub.add_parser(verb.name, parents=[common], help=verb.summary, description=verb.summary,
                           allow_abbrev=False, epilog=configuration_help(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        for arg in verb.args:
            p.add_argument(*arg.flags, **arg.options)
    return parser


def pinned(path: Path, key: str) -> str:
    """A ``key: value`` line of a YAML file, read without a YAML parser (standard library only)."""
    try:
        match = re.search(rf"^{re.escape(key)}:\s*[\"']?([^\"'\s#]+)", path.read_text(encoding="utf-8"), re.M)
    except OSError:
        return "?"
    return match.group(1) if match else "?"


def version_text() -> str:
    """sparklab's version and the versions it installs on a cluster by default."""
    root = Path(__file__).resolve().parent.parent
    kubernetes = contract().SCHEMA["cluster_kubernetes_version"].default
    helm = pinned(root / "roles/helm/defaults/main.yml", "helm_version")
    spark = pinned(root / "roles/spark_wordcount/defaults/main.yml", "spark_wordcount_spark_version")
    return (f"sparklab {pinned(root / 'galaxy.yml', 'version')} (collection sparklab.cluster); "
            f"Kubernetes {kubernetes}, Helm {helm}, Spark {spark}")


def configuration_help() -> str:
    """Every configuration key as a flag, with its default (read from the one schema)."""
    lines = ["configuration (a cluster.yml key, or a flag; the cluster_ prefix is optional):"]
    for key in contract().SCHEMA.values():
        flag = "--" + key.name[len("cluster_"):].replace("_", "-")
        default = "required" if key.required else f"default: {key.default!r}"
        lines.append(f"  {flag:<36} {key.doc.strip().rstrip('.')} ({default})")
    return "\n".join(lines)


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string runner.py itself knows (of any verb); the rest are configuration keys."""
    found: set[str] = set()
    for action in parser._actions:  # argparse keeps no public list of sub-parser options
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= option_strings(sub)
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
            if "=" not in arg and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                overrides.append(argv[i + 1])
                i += 1
        else:
            own.append(arg)
        i += 1
    return own, overrides


def misspelt_option(parser: argparse.ArgumentParser, own: list[str], overrides: list[str]) -> str | None:
    """One line for an override closer to one of the verb's own flags than to any configuration key."""
    verb = next((a for a in own if not a.startswith("-")), None)
    verb_parser = next((a.choices[verb] for a in parser._actions  # no public list, as above
                        if isinstance(a, argparse._SubParsersAction) and verb in a.choices), None)
    if verb_parser is None:
        return None
    own_flags = sorted(o for o in option_strings(verb_parser) if o.startswith("--"))
    schema = contract().SCHEMA
    for arg in overrides:
        name = arg.split("=", 1)[0]
        bare = name[2:].replace("-", "_").removeprefix("cluster_")
        if not arg.startswith("--") or f"cluster_{bare}" in schema:
            continue
        close = difflib.get_close_matches(name, own_flags, n=1, cutoff=contract().SUGGEST_CUTOFF)
        if not close:
            continue
        key = contract().closest_key(bare)
        key_score = difflib.SequenceMatcher(None, bare, key.removeprefix("cluster_")).ratio() if key else 0.0
        if difflib.SequenceMatcher(None, name, close[0]).ratio() >= key_score:
            return f"{name}: unknown flag (fix: did you mean {close[0]}?)"
    return None


def parse_own(parser: argparse.ArgumentParser, own: list[str]) -> argparse.Namespace:
    """runner.py's own arguments; for a verb with ``trailing``, everything after ``--`` goes there
    (argparse alone cannot put a positional, options, then ``--`` and more positionals in order)."""
    if "--" in own:
        cut = own.index("--")
        verb = next((v for a in own[:cut] for v in VERBS if v.name == a), None)
        if verb is not None and verb.trailing:
            head = parser.parse_args(own[:cut])
            setattr(head, verb.trailing, own[cut + 1:])
            return head
    args = parser.parse_args(own)
    for verb in VERBS:
        if verb.trailing and args.verb == verb.name and not hasattr(args, verb.trailing):
            setattr(args, verb.trailing, [])
    return args


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = build_parser()
    own, overrides = split_overrides(argv, option_strings(parser))
    wrong = misspelt_option(parser, own, overrides)
    if wrong:
        error(wrong)
        raise SystemExit(2)
    args = parse_own(parser, own)
    args.yes = getattr(args, "yes", False)
    return args, overrides


def answer_without_dependencies(argv: list[str]) -> int | None:
    """Answer ``--help`` and usage errors with the standard library only; None: the verb must run."""
    try:
        parse(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    return None


def verb_named(name: str) -> Verb:
    return next(v for v in VERBS if v.name == name)


def error(text: str) -> None:
    print(f"error: {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args, overrides = parse(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    from sparklab.commands.base import Context
    from sparklab.core import signals

    signals.install()  # SIGHUP/SIGTERM unwind through the verbs' cleanup

    run = verb_named(args.verb).load()
    try:
        from sparklab.core.state import check_home, sparklab_home

        check_home(sparklab_home())  # a bad SPARKLAB_HOME is one line before anything starts
        return run(Context(args=args, overrides=overrides))
    except SparklabError as exc:
        error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, (BotoCoreError, ClientError)):
            error(f"AWS: {exc}")
            return EXIT_FAILED
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
