"""Time to the first result: a fresh clone's first `runner.py wordcount --local`, virtualenv included.

Each run is what a new user does after `git clone`: a fresh clone (tests/helpers/fresh_clone.py:
the working tree laid over HEAD, or a committed revision), a fresh HOME and SPARKLAB_HOME, PATH
without any virtualenv, the plain `python3` (runner.py finds a 3.12+ itself, here through
PYENV_ROOT), pip's default configuration, then `python3 runner.py wordcount --local --generate
SIZE` until it exits with its top words and chart. Wall time covers finding Python, building
.venv, installing requirements.lock and local Spark (requirements-local.lock), the class archive
and word splitter of a first run, and the job.

Pip's cache: cold = an empty PIP_CACHE_DIR (every package downloaded from PyPI, pyspark's wheel
built from its source archive); warm = the folder that variant's cold run filled (what a second
clone on the same machine meets). Where a proxy marks PyPI's answers uncacheable, pip keeps only
the wheels it built (pyspark's) and downloads the rest again: "warm" is then only partly warm.

Variants: "baseline" is the revision given with --baseline (default: the first revision whose
first --local run worked: pip compiled every module), "current" the working tree; with
--two-calls also "current, two pip calls" (warm only), which runs
`report --local` first, which builds .venv from requirements.lock alone, then the same
`wordcount --local`, which installs local Spark in a second pip call: the sum is what a user who
runs another verb first pays. Prints each run, then the ratios current/baseline.
Run: .venv/bin/python bench/bench_first_result.py [--size 5MB] [--baseline REV] [--skip-cold] [--two-calls]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "helpers"))

from fresh_clone import fresh_clone, plain_python, user_env  # noqa: E402

FIRST_WORKING = "f344565"  # the first revision whose first `wordcount --local` gave a result
INSTALLED = re.compile(r"sparklab: installed (\d+) packages in (\d+) s")


@dataclass
class Run:
    label: str
    cache: str
    wall: float
    install: float  # what pip's progress lines reported, all pip calls summed
    packages: int


def first_result(label: str, cache: str, pip_cache: Path, rev: str | None, size: str,
                 before: tuple[str, ...] = ()) -> Run:
    work = Path(tempfile.mkdtemp(prefix="sparklab-bench-first-"))
    try:
        clone = fresh_clone(work / "sparklab", rev)
        env = user_env(work / "home", pip_cache)
        python = plain_python(env)
        started = time.perf_counter()
        output = ""
        for command in [*before, f"wordcount --local --generate {size}"]:
            done = subprocess.run([python, "runner.py", *command.split()], cwd=clone, env=env,
                                  capture_output=True, text=True, timeout=3600, check=False)
            output += done.stdout + done.stderr
        wall = time.perf_counter() - started
        if done.returncode != 0 or "chart: " not in output:
            raise SystemExit(f"{label} ({cache}) failed ({done.returncode}):\n{output[-4000:]}")
        installs = INSTALLED.findall(output)
        return Run(label, cache, wall, sum(float(s) for _, s in installs), sum(int(n) for n, _ in installs))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="5MB", help="the generated corpus (default 5MB)")
    parser.add_argument("--baseline", default=FIRST_WORKING, help="the baseline revision")
    parser.add_argument("--skip-cold", action="store_true", help="warm caches only (they are filled first)")
    parser.add_argument("--two-calls", action="store_true", help="also the warm two-pip-call variant")
    args = parser.parse_args()
    caches = {label: Path(tempfile.mkdtemp(prefix=f"sparklab-bench-pip-{label}-"))
              for label in ("baseline", "current")}
    variants = {"baseline": args.baseline, "current": None}
    runs: list[Run] = []
    try:
        for cache in ("cold", "warm"):
            for label, rev in variants.items():
                if cache == "cold" and args.skip_cold:
                    first_result(label, "fill", caches[label], rev, args.size)
                    continue
                run = first_result(label, cache, caches[label], rev, args.size)
                runs.append(run)
                print(f"{cache:4s}  {label:24s} wall {run.wall:6.1f} s  pip {run.install:5.0f} s "
                      f"({run.packages} packages)", flush=True)
        if args.two_calls:
            two = first_result("current, two pip calls", "warm", caches["current"], None, args.size,
                               before=("report --local",))
            runs.append(two)
            print(f"warm  {two.label:24s} wall {two.wall:6.1f} s  pip {two.install:5.0f} s "
                  f"({two.packages} packages)")
    finally:
        for folder in caches.values():
            shutil.rmtree(folder, ignore_errors=True)
    by = {(r.label, r.cache): r for r in runs}
    for cache in ("cold", "warm"):
        if ("current", cache) in by:
            base, cur = by[("baseline", cache)], by[("current", cache)]
            print(f"{cache}: baseline {base.wall:.1f} s, current {cur.wall:.1f} s, "
                  f"ratio current/baseline {cur.wall / base.wall:.2f}")
    if args.two_calls:
        one, two = by[("current", "warm")], by[("current, two pip calls", "warm")]
        print(f"warm: two pip calls {two.wall:.1f} s, one pip call {one.wall:.1f} s, "
              f"ratio one/two {one.wall / two.wall:.2f}")


if __name__ == "__main__":
    main()
