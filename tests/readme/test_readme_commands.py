"""The README, run as a new user runs it: its commands, in a fresh clone, against what it says they print.

What is read from the documents (README.md and docs/*.md; the rules are in
``tests/helpers/readme_commands.py``): the commands of the ```` ```console ```` blocks, the verbs
table and the lines its third column says each verb prints, the emulator refusal, the help and
version sentences. Nothing of them is copied here; when the README changes a command, this test
runs the new one, and when a command stops printing what the README says, it fails.

How it runs, as a user would:
- a ``git clone`` of this repository with the working tree laid over it (uncommitted edits run);
- a fresh ``HOME`` and ``SPARKLAB_HOME``, ``PATH`` without any virtualenv, the machine's plain
  ``python3`` (3.11 on the test machine: runner.py has to find a 3.12+ by itself), no pip
  configuration, and the dependencies installed by runner.py itself from requirements.lock and
  (first ``--local`` run) requirements-local.lock;
- ``PYENV_ROOT`` set to this machine's pyenv: the fresh ``HOME`` hides ``~/.pyenv``, and a pyenv
  user's shell profile exports it;
- ``PIP_CACHE_DIR`` is a kept folder, ``~/.cache/sparklab-tests/pip`` of the real ``HOME``
  (``SPARKLAB_TEST_PIP_CACHE`` overrides it): this models a user whose pip cache is warm, so that
  a test run does not download 600 MB each time (the first run of all fills it from PyPI);
  bench/bench_first_result.py measures the cold case.

One substitution, said here: the Quick start's ``--generate 100MB`` runs as ``--generate 5MB``.
This test proves that the command works and prints what the README says; how long 100 MB takes
is the benchmark's business, and 5 MB keeps the run affordable on a 2-core CI machine.

Commands of the cluster (``up``, ``wordcount -c``, ``down``, ``list``, and the table's verbs no
block runs: ``status``, ``dashboard``, ``ssh <node>``) run against the moto emulator on 127.0.0.1
with fake credentials, where a cluster named as in cluster.yml is seeded (``tests/helpers/
seeded_cluster.py``) before each; ``up``, ``dashboard`` and ``ssh`` must end in the emulator
refusal, ``wordcount -c`` in what it prints before ``up``. ``provision`` (the playbook ``plan``
already runs) and ``kubeconfig`` (tests/runner) are left out. ``down`` without ``--yes`` asks in a
terminal: it runs in a pseudo-terminal and the cluster name is typed when it asks.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import readme_commands as readme
from fresh_clone import fresh_clone, plain_python, user_env
from seeded_cluster import CALLER_ARN, seed_cluster

from sparklab.cluster.emulator import Emulator

pytestmark = pytest.mark.slow

SUBSTITUTIONS = {"--generate 100MB": "--generate 5MB"}
CLUSTER_NAME = "demo"  # the name in the README's printed lines
REGION = "eu-west-1"
REFUSING = ("up", "dashboard", "ssh")
TIMEOUT = 1800  # the first --local run may build the virtualenv and install local Spark
BOOK = "It was the best of times, it was the worst of times.\nSpark counts words; Spark counts times.\n"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(regions=(REGION,)) as emu:
        # moto's backends are process-wide: forget what earlier tests on this worker left in them, so
        # that the account looks as a new user's does (the README's lines count its clusters).
        emu.reset()
        yield emu


def pip_cache() -> Path:
    configured = os.environ.get("SPARKLAB_TEST_PIP_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "sparklab-tests" / "pip"


def run(command: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, float]:
    """``command`` in bash, as typed; its exit code, stdout + stderr, and wall time."""
    started = time.monotonic()
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def run_in_terminal(command: str, cwd: Path, env: dict[str, str], answer: str) -> tuple[int, str, float]:
    """``command`` in a pseudo-terminal; ``answer`` is typed when it asks to confirm."""
    started = time.monotonic()
    leader, follower = pty.openpty()
    proc = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, stdin=follower, stdout=follower,
                            stderr=follower, start_new_session=True)
    os.close(follower)
    seen, answered = b"", False
    while True:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            seen += chunk
            if not answered and re.search(rb"confirm: ?$", seen.rstrip(b" ") + b" "):
                os.write(leader, answer.encode() + b"\n")
                answered = True
        elif proc.poll() is not None:
            break
        assert time.monotonic() - started < TIMEOUT, seen.decode(errors="replace")
    proc.wait(timeout=60)
    os.close(leader)
    return proc.returncode, seen.decode(errors="replace").replace("\r\n", "\n"), time.monotonic() - started


def seeded(emulator: Emulator) -> bool:
    """Whether the emulator holds a running instance of the cluster (``down`` removes them)."""
    import boto3

    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=emulator.endpoint_url,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    mine = {"Name": "tag:sparklab:cluster", "Values": [CLUSTER_NAME]}
    alive = {"Name": "instance-state-name", "Values": ["pending", "running"]}
    found = ec2.describe_instances(Filters=[mine, alive])
    return any(reservation["Instances"] for reservation in found["Reservations"])


def verb_of(command: str) -> str:
    words = shlex.split(command)
    return words[2] if words[:2] == ["python3", "runner.py"] and len(words) > 2 else words[0]


def test_every_readme_command_works_or_refuses_as_the_readme_says(tmp_path: Path, emulator: Emulator) -> None:
    clone = fresh_clone(tmp_path / "sparklab")
    home = tmp_path / "home"
    env = user_env(home, pip_cache())
    python = plain_python(env)
    version = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
    table = readme.verbs_table(clone)
    commands = readme.commands(clone)
    problems: list[str] = []
    timings: list[tuple[str, float]] = []

    def check(command: str, code: int, output: str, want_code: int, lines: list[list[str]]) -> None:
        if code != want_code:
            problems.append(f"{command}: exit code {code}, the README says {want_code}\n{output[-3000:]}")
            return
        missing = readme.missing_lines(output, lines)
        if missing:
            problems.append(f"{command}: the README says it prints {missing}; it printed:\n{output[-3000:]}")

    # Help and version answer before any virtualenv exists, with the plain python3.
    docs = " ".join(p.read_text(encoding="utf-8") for p in readme.documents(clone)).replace("\n", " ")
    code, output, _ = run("python3 runner.py --help", clone, env)
    check("--help", code, output, 0, [[f"  {verb}"] for verb in table])  # argparse indents each verb
    for verb in table:
        code, output, _ = run(f"python3 runner.py {verb} --help", clone, env)
        check(f"{verb} --help", code, output, 0, [[f"usage: runner.py {verb} "]])
    names = re.search(r"`python3 runner\.py --version` names (.+?)\.", docs)
    assert names, "the docs no longer say what `python3 runner.py --version` names"
    code, output, _ = run("python3 runner.py --version", clone, env)
    named = [[word] for word in re.findall(r"\b[A-Z]\w+", names[1])]
    check("--version", code, output, 0, [["sparklab "], *named])
    assert not (clone / ".venv").exists(), "help or version built the virtualenv"

    (clone / "book.txt").write_text(BOOK, encoding="utf-8")  # the file the README's --input names
    aws = {**env, "AWS_ACCESS_KEY_ID": "FAKEIDREADME", "AWS_SECRET_ACCESS_KEY": "fake-readme-secret",
           "AWS_ENDPOINT_URL": emulator.endpoint_url}
    table_only = [f"python3 runner.py {verb} -c cluster.yml".replace(" <node>", " worker-1")
                  for verb in ("status", "dashboard", "ssh <node>")]
    assert all(f"| `{line.split()[2]}" in docs for line in table_only)  # still verbs of the table
    for written in [*commands, *table_only]:
        command = written
        for old, new in SUBSTITUTIONS.items():
            command = command.replace(old, new)
        verb = verb_of(command)
        if command.startswith("cp "):
            code, output, wall = run(command, clone, env)
            check(command, code, output, 0, [])
            text = (clone / "cluster.yml").read_text(encoding="utf-8")  # "set cluster_name"
            named = re.sub(r"(?m)^cluster_name:.*$", f"cluster_name: {CLUSTER_NAME}", text)
            (clone / "cluster.yml").write_text(named, encoding="utf-8")
            timings.append((command, wall))
            continue
        local = "--local" in command or verb == "plan"  # no AWS account: plan starts its own emulator
        if not local and not seeded(emulator):
            seed_cluster(emulator.endpoint_url, REGION, emulator.current_ami(REGION), CLUSTER_NAME,
                         creator=CALLER_ARN)
        runner_env = env if local else aws
        asks = verb == "down" and "--yes" not in command
        code, output, wall = (run_in_terminal(command, clone, runner_env, CLUSTER_NAME) if asks
                              else run(command, clone, runner_env))
        timings.append((command, wall))
        if verb in REFUSING:
            check(command, code, output, 2, [[readme.emulator_refusal(clone, verb)]])
        elif verb == "wordcount" and not local:  # no kubeconfig before `up` (which refuses here)
            check(command, code, output, 1, [[line] for line in table[verb].before_up])
        else:
            check(command, code, output, 0, table[verb].always)
        if verb == "wordcount" and local and code == 0:
            run_dir = re.search(r"chart: (\S+)/usage\.png", output)
            assert run_dir and (Path(run_dir[1]) / "summary.txt").is_file(), output[-2000:]

    # The runner found a 3.12+ by itself and installed from the runtime lock files only.
    pyvenv = (clone / ".venv" / "pyvenv.cfg").read_text(encoding="utf-8")
    built = re.search(r"^version = (\d+)\.(\d+)", pyvenv, re.M)
    assert built and (int(built[1]), int(built[2])) >= (3, 12), pyvenv
    dev_tool = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-c", "import pytest"],
                              capture_output=True, check=False)
    assert dev_tool.returncode != 0, "the virtualenv holds a test tool: not installed from the runtime locks"
    print(f"\nplain python3: {'.'.join(version)}; virtualenv built with {built[1]}.{built[2]}")
    for command, wall in timings:
        print(f"{wall:7.1f} s  {command}")
    assert not problems, "\n\n".join(problems)
