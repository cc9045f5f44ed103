"""WordCount runs: run ids, result folders and the inputs for the job.

The job on the cluster never holds AWS credentials. Everything it reads or writes in S3 goes
through short-lived presigned URLs made here with the user's own credentials:

* ``https://...`` URLs are passed through unchanged;
* ``s3://bucket/key`` (or ``s3://bucket/prefix/`` for every object under it) become presigned
  GET URLs;
* local files (or every file in a local folder) are uploaded to the cluster's bucket under
  ``runs/<run-id>/input/`` first, then presigned;
* ``--generate SIZE`` needs no input at all: the job makes a synthetic corpus itself.

URL lifetime: ``DEFAULT_URL_EXPIRY_SECONDS`` (1 h). The executors open the GET URLs when the job
starts and the PUT URLs when it ends, and the playbook waits at most 30 min
(``spark_wordcount_timeout_seconds``) for the job, so 1 h covers a whole run with room for pod
scheduling; a URL signed with temporary credentials also stops working when they expire. The URLs
reach the playbook only through :func:`job_vars_file` (0600, deleted when the run ends) and the
cluster only through a Secret (see roles/spark_wordcount/README.md).

The full counts come back as CSV parts that the executors PUT to presigned URLs under
``runs/<run-id>/counts/``; :func:`collect_counts` merges them into ``counts.csv``.

The cluster bucket's name is predictable, so another account may own a bucket of that name. Nothing
is uploaded to it, no URL is presigned for it and nothing is read from it unless
:func:`require_own_bucket` found the caller's account owns it; every call on it also names that
account (``ExpectedBucketOwner``), which AWS enforces with 403.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklab.core.contract import module_utils
from sparklab.core.state import ClusterState

# The result the job logs is read in sparklab.job.result; its names stay importable from here.
from sparklab.job.result import Result as Result
from sparklab.job.result import ResultNotFoundError as ResultNotFoundError
from sparklab.job.result import parse_driver_log as parse_driver_log
from sparklab.job.wordcount_app import parse_size

# Shared with the spark_wordcount role: defined once in plugins/module_utils/cluster_names.py.
names = module_utils("cluster_names")
RUN_ID_PATTERN = re.compile(names.RUN_ID_PATTERN)
APP_NAME_PREFIX = names.JOB_APP_NAME_PREFIX
DEFAULT_URL_EXPIRY_SECONDS = 3600
DEFAULT_OUTPUT_PARTS = 4
JOB_VARS_FILE = "job-vars.json"


class InputError(ValueError):
    """A job input the user gave cannot be used; the message says how to fix it."""


class ForeignBucketError(RuntimeError):
    """The cluster bucket is missing or not the caller's account's; nothing was uploaded."""


def require_own_bucket(s3_client: Any, bucket: str, account: str) -> None:
    """Raise :class:`ForeignBucketError` unless ``account`` owns ``bucket`` (checked before any use)."""
    if not account:
        raise ForeignBucketError(f"S3 bucket {bucket}: the account that must own it is unknown; "
                                 "nothing was uploaded")
    scan = module_utils("aws_scan")
    owner = scan.bucket_ownership(s3_client, bucket, account)
    if owner == scan.BUCKET_FOREIGN:
        raise ForeignBucketError(f"S3 bucket {bucket} belongs to another AWS account (not {account}); "
                                 "nothing was uploaded (fix: `down`, then `up` with another cluster_name)")
    if owner != scan.BUCKET_OWN:
        raise ForeignBucketError(f"S3 bucket {bucket} does not exist; nothing was uploaded "
                                 "(fix: run `up` again to create it)")


# --------------------------------------------------------------------------- runs and folders
def new_run_id(now: float | None = None) -> str:
    """A sortable, unique, DNS-safe run id such as ``20261127-093000-3fa2``."""
    return str(names.new_run_id(now))


def app_name(run_id: str) -> str:
    """Name of the SparkApplication of a run (also the value of its pods' app-name label)."""
    if not RUN_ID_PATTERN.match(run_id):
        raise InputError(f"invalid run id {run_id!r}: expected YYYYMMDD-HHMMSS-xxxx (see new_run_id)")
    return APP_NAME_PREFIX + run_id


def run_dir(cluster_name: str, run_id: str, home: Path | None = None, region: str = "") -> Path:
    """``<the cluster's state folder>/runs/<run-id>/`` (not created)."""
    state = (ClusterState(cluster_name, home, region) if home
             else ClusterState.for_cluster(cluster_name, region))
    return state.runs / names.run_folder_name(run_id)


def bucket_name(cluster_name: str, account_id: str, region: str) -> str:
    """The cluster's job bucket: ``sparklab-<cluster>-<account-id>-<region>``."""
    return f"sparklab-{cluster_name}-{account_id}-{region}"


# --------------------------------------------------------------------------- inputs
@dataclass
class PreparedInputs:
    """What the job needs; ``sources`` describes the inputs without any URL (safe to store)."""

    input_urls: list[str] = field(default_factory=list)
    generate: str = ""
    output_urls: list[str] = field(default_factory=list)
    output_keys: list[str] = field(default_factory=list)
    bucket: str = ""
    sources: list[str] = field(default_factory=list)

    def job_vars(self, run_id: str, top: int = 20) -> dict[str, Any]:
        """The ``spark_wordcount_*`` variables of the playbook for this run."""
        return {
            "spark_wordcount_run_id": run_id,
            "spark_wordcount_input_urls": self.input_urls,
            "spark_wordcount_generate": self.generate,
            "spark_wordcount_output_urls": self.output_urls,
            "spark_wordcount_top": top,
        }


def _split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise InputError(f"{uri}: no bucket name; write s3://bucket/key or s3://bucket/prefix/")
    return bucket, key


def _s3_keys(s3_client: Any, bucket: str, key: str) -> list[str]:
    if key and not key.endswith("/"):
        return [key]
    keys: list[str] = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
        keys.extend(obj["Key"] for obj in page.get("Contents", []) if not obj["Key"].endswith("/"))
    if not keys:
        raise InputError(f"s3://{bucket}/{key}: no object under this prefix; check the name with `aws s3 ls`")
    return sorted(keys)


def _local_files(spec: str) -> list[Path]:
    path = Path(spec).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        if files:
            return files
        raise InputError(f"{spec}: folder holds no file; give a text file, a folder of them, s3:// or https://")
    raise InputError(f"{spec}: no such file; give a local text file, s3://bucket/key, https://... "
                     "or --generate SIZE")


def make_s3_client(region: str, session: Any = None) -> Any:
    """An S3 client that signs URLs with SigV4 (required by every region made since 2014)."""
    import boto3
    from botocore.config import Config

    factory = session if session is not None else boto3
    return factory.client("s3", region_name=region, config=Config(signature_version="s3v4"))


def presign_get(s3_client: Any, bucket: str, key: str, expiry: int) -> str:
    return s3_client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                            ExpiresIn=expiry)


def prepare_inputs(
    specs: Sequence[str],
    *,
    s3_client: Any = None,
    bucket: str = "",
    owner: str = "",
    run_id: str,
    generate: str = "",
    expiry: int = DEFAULT_URL_EXPIRY_SECONDS,
    output_parts: int = DEFAULT_OUTPUT_PARTS,
) -> PreparedInputs:
    """Turn user inputs into URLs the executors read, and make the output URLs.

    ``s3_client`` is a boto3 S3 client with the user's credentials (needed for s3:// and local
    inputs and for the CSV output); ``bucket`` is the cluster's job bucket and ``owner`` the account
    that must own it (checked before anything is uploaded or presigned for it). Without a client,
    only https:// URLs and ``generate`` are accepted and no CSV is written.
    """
    prepared = PreparedInputs(generate=generate, bucket=bucket)
    if generate:
        try:
            parse_size(generate)
        except ValueError as err:
            raise InputError(str(err)) from None
        prepared.sources.append(f"generate:{generate}")
    if not specs and not generate:
        raise InputError("no input: give files, s3://bucket/key, https:// URLs, or --generate SIZE")
    uploads: list[Path] = []
    for spec in specs:
        if spec.startswith(("https://", "http://")):
            prepared.input_urls.append(spec)
            prepared.sources.append(spec.split("?", 1)[0])
        elif spec.startswith("s3://"):
            if s3_client is None:
                raise InputError(f"{spec}: s3:// inputs need AWS credentials; run through runner.py")
            src_bucket, key = _split_s3_uri(spec)
            for found in _s3_keys(s3_client, src_bucket, key):
                prepared.input_urls.append(presign_get(s3_client, src_bucket, found, expiry))
                prepared.sources.append(f"s3://{src_bucket}/{found}")
        else:
            uploads.extend(_local_files(spec))
    if uploads and (s3_client is None or not bucket):
        raise InputError("local files are uploaded to the cluster bucket first; run through runner.py")
    if s3_client is not None and bucket and (uploads or output_parts > 0):
        require_own_bucket(s3_client, bucket, owner)
    for index, path in enumerate(uploads):
        key = f"runs/{run_id}/input/{index:04d}-{path.name}"
        s3_client.upload_file(str(path), bucket, key, ExtraArgs={"ExpectedBucketOwner": owner})
        prepared.input_urls.append(presign_get(s3_client, bucket, key, expiry))
        prepared.sources.append(f"{path} -> s3://{bucket}/{key}")
    if s3_client is not None and bucket and output_parts > 0:
        for part in range(output_parts):
            key = f"runs/{run_id}/counts/part-{part:05d}.csv"
            prepared.output_keys.append(key)
            prepared.output_urls.append(s3_client.generate_presigned_url(
                "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expiry))
    return prepared


def write_job_vars(directory: Path, data: dict[str, Any]) -> Path:
    """Write the playbook variables ``data`` (they hold presigned URLs) readable by the owner only."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / JOB_VARS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    path.chmod(0o600)
    return path


def remove_job_vars(path: Path) -> None:
    """Delete a job-vars file (no presigned URL stays on disk after the run); absent is fine."""
    path.unlink(missing_ok=True)


def remove_stale_job_vars(runs: Path) -> list[Path]:
    """Delete the job-vars files that earlier runs left behind (a killed run cannot clean up).

    Call it while holding the cluster's lock (:mod:`sparklab.core.lock`): then no other run is using one.
    """
    stale = sorted(runs.glob(f"*/{JOB_VARS_FILE}")) if runs.is_dir() else []
    for path in stale:
        remove_job_vars(path)
    return stale


@contextlib.contextmanager
def job_vars_file(directory: Path, data: dict[str, Any]) -> Iterator[Path]:
    """A 0600 job-vars file of ``data`` that exists only while the ``with`` block runs, however it ends."""
    path = write_job_vars(directory, data)
    try:
        yield path
    finally:
        remove_job_vars(path)


def collect_counts(s3_client: Any, bucket: str, keys: Sequence[str], dest: Path, owner: str) -> int:
    """Download the CSV parts the executors wrote to ``owner``'s bucket, merge them sorted into
    ``dest``; return rows."""
    require_own_bucket(s3_client, bucket, owner)
    rows: list[tuple[str, int]] = []
    for key in keys:
        got = s3_client.get_object(Bucket=bucket, Key=key, ExpectedBucketOwner=owner)
        body = got["Body"].read().decode("utf-8")
        reader = csv.reader(body.splitlines())
        next(reader, None)
        rows.extend((word, int(count)) for word, count in reader)
    rows.sort(key=lambda item: (-item[1], item[0]))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["word", "count"])
        writer.writerows(rows)
    return len(rows)
