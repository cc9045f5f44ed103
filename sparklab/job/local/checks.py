"""Checks of ``wordcount --local`` before anything starts: a usable Java, and the inputs as paths.

Each problem is one line naming what is wrong and the fix, raised as :class:`sparklab.core.errors.BadInput`
(exit 2) or returned for the caller to raise.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from sparklab.core.errors import BadInput
from sparklab.job.tuning import java_path

MIN_JAVA = 17
JAVA_FIX = ("install Java 17 or 21, e.g. `sudo apt-get install openjdk-17-jdk-headless` or "
            "`brew install openjdk@17`, or set JAVA_HOME")


def java_problem(environ: dict[str, str] | None = None) -> str | None:
    """Why local Spark cannot start here, in one line; ``None`` when a usable Java is found.

    pyspark starts ``$JAVA_HOME/bin/java`` when ``JAVA_HOME`` is set, else ``java`` from PATH.
    """
    env = os.environ if environ is None else environ
    home = env.get("JAVA_HOME")
    java = java_path(env)
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no `java` on PATH"
        return f"--local needs Java to run Spark: {where} (fix: {JAVA_FIX})"
    try:
        probe = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError as err:
        return f"--local needs Java to run Spark: {java} does not start: {err} (fix: {JAVA_FIX})"
    match = re.search(r'version "(\d+)(?:\.(\d+))?', probe.stderr + probe.stdout)
    if match is None:
        return f"--local needs Java to run Spark: {java} -version says nothing usable (fix: {JAVA_FIX})"
    major = int(match.group(1)) if match.group(1) != "1" else int(match.group(2) or 0)
    if major < MIN_JAVA:
        return f"--local: Spark 4 needs Java {MIN_JAVA} or newer, {java} is Java {major} (fix: {JAVA_FIX})"
    return None


def local_inputs(specs: Sequence[str], generate: str) -> list[str]:
    """Inputs as the local job reads them: http(s) URLs as given, files and folders as paths."""
    from sparklab.job.wordcount_app import parse_size

    if generate:
        try:
            parse_size(generate)
        except ValueError as err:
            raise BadInput(f"--generate: {err}") from None
    if not specs and not generate:
        raise BadInput("no input (fix: --generate 200MB, or --input a text file, a folder or https:// URL)")
    found: list[str] = []
    for spec in specs:
        if spec.startswith(("https://", "http://")):
            found.append(spec)
        elif spec.startswith("s3://"):
            raise BadInput(f"--input {spec}: s3:// needs AWS credentials and runs on a cluster only "
                           "(fix: download it and give the file, or give an https:// URL)")
        else:
            path = Path(spec).expanduser()
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file())
                if not files:
                    raise BadInput(f"--input {spec}: the folder holds no file (fix: give a text file)")
                found.extend(str(p.resolve()) for p in files)
            elif path.is_file():
                found.append(str(path.resolve()))
            else:
                raise BadInput(f"--input {spec}: no such file (fix: a text file, a folder or https:// URL)")
    return found
