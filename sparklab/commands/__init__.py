"""The verbs of runner.py, as data: name, one-line summary, arguments, and where the code lives.

This module and the parser that reads it (:mod:`sparklab.cli`) use the standard library only, so
``runner.py --help`` answers before any virtualenv exists. The code of a verb lives in
``sparklab/commands/<module>.py`` and is imported only when the verb runs.

To add a verb: write ``sparklab/commands/<module>.py`` with a function ``(ctx: Context) -> int``
(the shared flow is in :mod:`sparklab.commands.base`), then add one :class:`Verb` row to ``VERBS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Arg:
    """One argument of a verb: ``parser.add_argument(*flags, **options)``."""

    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verb:
    """A verb of runner.py."""

    name: str
    summary: str
    target: str  # "module:function" under sparklab.commands
    args: tuple[Arg, ...] = ()
    trailing: str = ""  # the attribute that receives every argument after `--` (none if empty)

    def load(self) -> Callable[[Any], int]:
        """Import the verb's module (this needs the dependencies) and return its function."""
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(f"sparklab.commands.{module}"), function)


OUTPUT = Arg(("-o", "--output"), {"choices": ("text", "json"), "default": "text",
                                  "help": "text (default) or json (stable keys for scripts: docs/runner.md)"})

VERBS: tuple[Verb, ...] = (
    Verb("plan", "show what `up` would create and cost, using a local AWS emulator (no account)",
         "plan:plan"),
    Verb("provision", "create the AWS infrastructure only", "up:provision"),
    Verb("up", "provision, prepare nodes, create the cluster, install add-ons (re-run to resume)",
         "up:up"),
    Verb("down", "show what is tagged for the cluster, delete it, then audit that nothing is left",
         "down:down",
         args=(Arg(("-y", "--yes"), {"action": "store_true", "help": "do not ask for confirmation"}),
               Arg(("--other-owner",), {"action": "store_true",
                                        "help": "also delete a cluster created by another identity"}))),
    Verb("status", "what exists, node readiness, expiry, cost so far", "status:status", args=(OUTPUT,)),
    Verb("list", "every sparklab cluster in the region (or all regions), with owner, nodes, expiry, cost",
         "clusters:list_clusters", args=(
             Arg(("--all-regions",), {"action": "store_true",
                                      "help": "every region enabled for the account"}),
             OUTPUT,
         )),
    Verb("wordcount", "run the Spark WordCount job while sampling CPU/memory, then report",
         "wordcount:wordcount", args=(
             Arg(("--input",), {"action": "append", "default": [], "metavar": "SRC",
                                "help": "https URL, s3://bucket/key or local file (repeatable)"}),
             Arg(("--generate",), {"metavar": "SIZE",
                                   "help": "generate a corpus of SIZE (e.g. 1GB) inside the job"}),
             Arg(("--top",), {"type": int, "default": 20, "help": "how many words to show"}),
             Arg(("--local",), {"action": "store_true",
                                "help": "run on local Spark on this machine: no account, no cluster"}),
         )),
    Verb("submit", "run your PySpark application (on the cluster, or --local) while sampling, then report",
         "submit:submit", trailing="app_args", args=(
             Arg(("app",), {"metavar": "APP.py", "help": "the application; its own arguments go after --"}),
             Arg(("--input",), {"action": "append", "default": [], "metavar": "SRC",
                                "help": "local file or folder, https URL or s3://bucket/key; staged in "
                                        "$SPARKLAB_INPUT under its base name (repeatable)"}),
             Arg(("--py-files",), {"action": "append", "default": [], "metavar": "F",
                                   "help": ".py, .zip or .egg the application imports (repeatable)"}),
             Arg(("--conf",), {"action": "append", "default": [], "metavar": "KEY=VALUE",
                               "help": "a spark.* setting (repeatable)"}),
             Arg(("--executors",), {"metavar": "N", "help": "executor pods (default: sized as WordCount)"}),
             Arg(("--executor-cores",), {"metavar": "C", "help": "cores per executor"}),
             Arg(("--executor-memory",), {"metavar": "M", "help": "heap per executor, e.g. 2g"}),
             Arg(("--local",), {"action": "store_true",
                                "help": "run on local Spark on this machine: no account, no cluster"}),
         )),
    Verb("report", "show (and re-render) the report of a run (WordCount or submit)", "report:report",
         args=(Arg(("--run",), {"metavar": "ID", "help": "run id (default: the latest run)"}),
               Arg(("--local",), {"action": "store_true",
                                  "help": "a run of `wordcount --local` or `submit --local`"}))),
    Verb("dashboard", "the dashboard URL and whether it answers", "access:dashboard"),
    Verb("kubeconfig", "the kubeconfig path and an export line", "access:kubeconfig"),
    Verb("ssh", "ssh to a node with the cluster's key and known_hosts", "access:ssh", args=(
        Arg(("node",), {"help": "node name (e.g. worker-1, control-plane-1), instance id or IP"}),
        Arg(("remote",), {"nargs": "*", "help": "command to run on the node (after --)"}),
    )),
)
