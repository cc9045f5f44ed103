#!/usr/bin/env python3
"""sparklab front door: ``python3 runner.py <verb> [-c cluster.yml] [--key value ...]``.

Verbs: plan, provision, up, down, status, list, wordcount, report, dashboard, kubeconfig, ssh.
Run ``python3 runner.py --help`` for details. The code lives in the ``sparklab`` package.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

# Standard library only up to ensure(): help and usage errors answer before any virtualenv exists.
from sparklab.bootstrap import ensure  # noqa: E402
from sparklab.cli import answer_without_dependencies  # noqa: E402
from sparklab.job.local.spark import first_run_extra  # noqa: E402

early = answer_without_dependencies(sys.argv[1:])
if early is not None:
    sys.exit(early)

# A first command `wordcount --local` checks Java, then installs local Spark in the same pip call.
ensure(ROOT, [str(Path(__file__).resolve()), *sys.argv[1:]],
       lambda venv: first_run_extra(ROOT, sys.argv[1:], venv))

from sparklab.cli import main  # noqa: E402 - needs the dependencies checked above

if __name__ == "__main__":
    sys.exit(main())
