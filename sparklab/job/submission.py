"""A submission (``runner.py submit APP.py ...``), parsed and checked before anything starts.

Every check here is about what the user typed: the application file, the ``--py-files``, the
``--conf`` pairs, the executor shapes and the inputs. Each problem is one line naming the bad
value and the fix, raised as :class:`sparklab.core.errors.BadInput` (exit 2), before any AWS call
and before anything is staged, uploaded or submitted. The one check that needs AWS (an
``s3://`` input the user must be able to read) is :func:`check_s3_inputs`, called by the cluster
path before its first mutating call.

The inputs convention (docs/submit.md): every ``--input`` appears under its base name in one
folder, ``$SPARKLAB_INPUT``, at the same path in the driver and in every executor; a folder
input keeps its tree. What the application writes under ``$SPARKLAB_OUTPUT`` comes back to the
run folder's ``output/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklab.core.errors import BadInput

INPUT_ENV = "SPARKLAB_INPUT"
OUTPUT_ENV = "SPARKLAB_OUTPUT"
# Without --executors/--executor-cores/--executor-memory (None), the executors are sized as
# WordCount's are (roles/spark_wordcount: one per worker, a share of the instance type, capped by
# what the nodes have left). The numbers below only appear in the fix of an error line.
EXAMPLE_EXECUTORS = 2
EXAMPLE_EXECUTOR_CORES = 1
EXAMPLE_EXECUTOR_MEMORY = "2g"
MAX_EXECUTOR_CORES = 64
MAX_EXECUTORS = 64
PY_FILE_SUFFIXES = (".py", ".zip", ".egg")
_CONF_KEY = re.compile(r"^spark\.[A-Za-z0-9][A-Za-z0-9._-]*$")
_MEMORY = re.compile(r"^[1-9][0-9]*[mMgG]$")
# Keys sparklab sets itself, and why the user cannot.
OWNED_CONF = {
    "spark.master": "sparklab chooses the master (local[*] with --local, the cluster otherwise)",
    "spark.submit.deployMode": "the driver always runs in the cluster (or on this machine with --local)",
    "spark.kubernetes.namespace": ("sparklab runs jobs in the cluster's Spark namespace "
                                   "(cluster_spark_namespace)"),
    "spark.kubernetes.container.image": "the image is pinned by the spark_wordcount role",
    "spark.kubernetes.authenticate.driver.serviceAccountName": "the role's service account runs the driver",
    "spark.executor.instances": "use --executors N",
    "spark.executor.cores": "use --executor-cores C",
    "spark.executor.memory": "use --executor-memory M",
    "spark.driver.host": "sparklab binds the driver (127.0.0.1 with --local)",
    "spark.driver.bindAddress": "sparklab binds the driver (127.0.0.1 with --local)",
    "spark.ui.port": "the Spark UI is published on the cluster's NodePort",
}


@dataclass
class Submission:
    """What to run, checked: paths are absolute, conf is a dict, inputs keep the user's spelling."""

    app: Path
    app_args: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    py_files: list[Path] = field(default_factory=list)
    conf: dict[str, str] = field(default_factory=dict)
    executors: int | None = None
    executor_cores: int | None = None
    executor_memory: str | None = None
    local: bool = False

    @property
    def name(self) -> str:
        return self.app.name

    def describe(self) -> dict[str, Any]:
        """What the run folder records (no URL, no secret)."""
        return {"app": str(self.app), "app_args": self.app_args, "inputs": self.inputs,
                "py_files": [str(p) for p in self.py_files], "conf": self.conf,
                "executors": self.executors, "executor_cores": self.executor_cores,
                "executor_memory": self.executor_memory}


def check_app(spec: str) -> Path:
    path = Path(spec).expanduser()
    if not path.exists():
        raise BadInput(f"{spec}: no such file (fix: the path of your PySpark application, "
                       "e.g. examples/pi.py)")
    if not path.is_file() or path.suffix != ".py":
        raise BadInput(f"{spec}: not a Python application (fix: give a .py file; "
                       "other modules and archives go in --py-files)")
    if not os.access(path, os.R_OK):
        raise BadInput(f"{spec}: not readable (fix: chmod u+r {spec})")
    return path.resolve()


def check_py_files(specs: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for spec in specs:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise BadInput(f"--py-files {spec}: no such file (fix: a .py, .zip or .egg file)")
        if path.suffix not in PY_FILE_SUFFIXES:
            raise BadInput(f"--py-files {spec}: not a .py, .zip or .egg file (fix: zip your package)")
        if not os.access(path, os.R_OK):
            raise BadInput(f"--py-files {spec}: not readable (fix: chmod u+r {spec})")
        found.append(path.resolve())
    return found


def check_conf(pairs: Sequence[str]) -> dict[str, str]:
    conf: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not _CONF_KEY.match(key):
            raise BadInput(f"--conf {pair}: not spark.KEY=VALUE "
                           "(fix: e.g. --conf spark.sql.shuffle.partitions=8)")
        if key in OWNED_CONF:
            raise BadInput(f"--conf {key}: set by sparklab, not by --conf ({OWNED_CONF[key]})")
        if not value:
            raise BadInput(f"--conf {key}=: no value (fix: --conf {key}=VALUE)")
        conf[key] = value
    return conf


def check_count(flag: str, value: str | None, example: int, limit: int) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= limit:
        raise BadInput(f"{flag} {value}: not a whole number from 1 to {limit} (fix: e.g. {flag} {example})")
    return int(value)


def check_memory(value: str | None) -> str | None:
    if value is None:
        return None
    if not _MEMORY.match(value):
        raise BadInput(f"--executor-memory {value}: not a size like 512m or 2g "
                       f"(fix: e.g. --executor-memory {EXAMPLE_EXECUTOR_MEMORY})")
    return value.lower()


def input_name(spec: str) -> str:
    """The base name an input has in ``$SPARKLAB_INPUT``."""
    if spec.startswith(("https://", "http://", "s3://")):
        return spec.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return Path(spec).expanduser().resolve().name


def _unreadable(path: Path) -> Path | None:
    if not os.access(path, os.R_OK):
        return path
    if path.is_dir():
        if not os.access(path, os.X_OK):
            return path
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                child = Path(root) / name
                if not os.access(child, os.R_OK) or (child.is_dir() and not os.access(child, os.X_OK)):
                    return child
    return None


def check_inputs(specs: Sequence[str], local: bool) -> list[str]:
    """Local inputs exist and are readable; URLs have a name; no two inputs share a base name."""
    names: dict[str, str] = {}
    for spec in specs:
        if spec.startswith("s3://"):
            if local:
                raise BadInput(f"--input {spec}: s3:// needs AWS credentials and runs on a cluster only "
                               "(fix: download it and give the file, or give an https:// URL)")
            bucket, _, key = spec[len("s3://"):].partition("/")
            if not bucket or not key or key.endswith("/"):
                raise BadInput(f"--input {spec}: not s3://bucket/key of one object "
                               "(fix: one --input per object)")
        elif spec.startswith(("https://", "http://")):
            pass
        else:
            path = Path(spec).expanduser()
            if not path.exists():
                raise BadInput(f"--input {spec}: no such file or folder (fix: check the path)")
            bad = _unreadable(path)
            if bad is not None:
                raise BadInput(f"--input {spec}: {bad} is not readable (fix: chmod -R u+rX {spec})")
        name = input_name(spec)
        if not name or name in (".", ".."):
            raise BadInput(f"--input {spec}: no base name to stage it under (fix: name a file, not a root)")
        if name in names:
            raise BadInput(f"--input {spec}: same base name {name!r} as --input {names[name]} "
                           "(fix: rename one; inputs sit side by side in $SPARKLAB_INPUT)")
        names[name] = spec
    return list(specs)


def check_s3_inputs(specs: Sequence[str], s3_client: Any) -> None:
    """HeadObject on every s3:// input with the user's credentials; read-only, before any upload."""
    from botocore.exceptions import ClientError

    for spec in specs:
        if not spec.startswith("s3://"):
            continue
        bucket, _, key = spec[len("s3://"):].partition("/")
        try:
            s3_client.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "error")
            raise BadInput(f"--input {spec}: cannot be read with your credentials ({code}) "
                           "(fix: check the name with `aws s3 ls`, or your access to the bucket)") from None


def check_url_inputs(specs: Sequence[str], timeout: float = 30) -> None:
    """Every http(s) input answers from this machine (HEAD, else a one-byte GET) before anything is
    uploaded or submitted: a wrong URL is one line here, not a pod that never starts."""
    import urllib.error
    import urllib.request

    for spec in specs:
        if not spec.startswith(("https://", "http://")):
            continue
        shown = spec.split("?", 1)[0]  # a query string may be a signature
        problem = ""
        for method, headers in (("HEAD", {}), ("GET", {"Range": "bytes=0-0"})):
            try:
                with urllib.request.urlopen(urllib.request.Request(spec, method=method, headers=headers),
                                            timeout=timeout):  # noqa: S310 - the user's own URL
                    problem = ""
                    break
            except urllib.error.HTTPError as err:
                problem = f"HTTP {err.code}"
            except (OSError, ValueError) as err:
                problem = type(err).__name__ if not str(err) else str(err)
        if problem:
            raise BadInput(f"--input {shown}: cannot be read from this machine ({problem}) "
                           "(fix: check the URL)")


def parse(args: Any) -> Submission:
    """A :class:`Submission` from the ``submit`` verb's arguments, every check done."""
    local = bool(getattr(args, "local", False))
    return Submission(
        app=check_app(args.app),
        app_args=list(getattr(args, "app_args", None) or []),
        inputs=check_inputs(list(args.input or []), local),
        py_files=check_py_files(list(args.py_files or [])),
        conf=check_conf(list(args.conf or [])),
        executors=check_count("--executors", args.executors, EXAMPLE_EXECUTORS, MAX_EXECUTORS),
        executor_cores=check_count("--executor-cores", args.executor_cores, EXAMPLE_EXECUTOR_CORES,
                                   MAX_EXECUTOR_CORES),
        executor_memory=check_memory(args.executor_memory),
        local=local,
    )
