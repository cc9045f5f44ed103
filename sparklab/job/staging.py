"""A submission's inputs and output on a cluster: presigned URLs, never credentials.

``$SPARKLAB_INPUT`` in every pod is filled by an init container from a list of
``{"name": <path under it>, "url": <URL>}`` (roles/spark_wordcount/files/fetch_inputs.py):

* a local file is uploaded to the cluster's bucket under ``runs/<run id>/input/<name>`` and
  presigned; a local folder, each file under it, keeping its tree;
* an ``s3://bucket/key`` object is presigned with the user's credentials (read with
  :func:`sparklab.job.submission.check_s3_inputs` before any upload);
* an ``https://`` (or ``http://``) URL passes through.

The output is one object, ``runs/<run id>/output.tar.gz``: a presigned PUT URL for the launcher,
read back by :func:`sparklab.job.outputs.collect`. The URLs live as long as
:data:`sparklab.job.runs.DEFAULT_URL_EXPIRY_SECONDS`; the job's files travel in its ConfigMap,
whose size Kubernetes caps, so :func:`check_shipped_size` refuses more before anything starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklab.core.errors import BadInput
from sparklab.job import runs as jobs
from sparklab.job.submission import Submission, input_name

# A ConfigMap is one etcd object (at most 1 MiB); its binaryData is base64 (4/3 of the bytes) and the
# launcher and the manifests take their share: the application and its --py-files stay under this.
MAX_SHIPPED_BYTES = 700 * 1024
OUTPUT_KEY = "output.tar.gz"


@dataclass
class StagedJob:
    """The URLs the job needs (kept out of every file but the 0600 job vars) and what to record."""

    inputs: list[dict[str, str]] = field(default_factory=list)
    output_url: str = ""
    output_key: str = ""
    sources: list[str] = field(default_factory=list)


def check_shipped_size(sub: Submission) -> int:
    """Bytes of the application and its --py-files; BadInput when the ConfigMap could not carry them."""
    files = [sub.app, *sub.py_files]
    total = sum(path.stat().st_size for path in files)
    if total > MAX_SHIPPED_BYTES:
        raise BadInput(f"{sub.name} and its --py-files: {total} bytes, over the {MAX_SHIPPED_BYTES} the "
                       "job's ConfigMap carries (fix: pass data files with --input, not as code)")
    return total


def _local_items(spec: str) -> list[tuple[str, Path]]:
    """(name under $SPARKLAB_INPUT, file) of a local file, or of every file under a local folder."""
    path = Path(spec).expanduser().resolve()
    base = input_name(spec)
    if path.is_file():
        return [(base, path)]
    items = [(f"{base}/{child.relative_to(path).as_posix()}", child)
             for child in sorted(path.rglob("*")) if child.is_file() and not child.is_symlink()]
    if not items:
        raise BadInput(f"--input {spec}: the folder holds no file (fix: give a folder with files)")
    return items


def stage(sub: Submission, *, s3_client: Any, bucket: str, owner: str, run_id: str,
          expiry: int = jobs.DEFAULT_URL_EXPIRY_SECONDS) -> StagedJob:
    """Upload the local inputs to ``owner``'s ``bucket`` and make every URL the job needs."""
    local = {spec: _local_items(spec) for spec in sub.inputs
             if not spec.startswith(("https://", "http://", "s3://"))}  # every check before the first upload
    jobs.require_own_bucket(s3_client, bucket, owner)  # before anything is uploaded or presigned
    staged = StagedJob(output_key=f"runs/{run_id}/{OUTPUT_KEY}")
    for spec in sub.inputs:
        if spec.startswith(("https://", "http://")):
            staged.inputs.append({"name": input_name(spec), "url": spec})
            staged.sources.append(spec.split("?", 1)[0])
        elif spec.startswith("s3://"):
            src_bucket, _, key = spec[len("s3://"):].partition("/")
            url = jobs.presign_get(s3_client, src_bucket, key, expiry)
            staged.inputs.append({"name": input_name(spec), "url": url})
            staged.sources.append(spec)
        else:
            for name, path in local[spec]:
                key = f"runs/{run_id}/input/{name}"
                s3_client.upload_file(str(path), bucket, key, ExtraArgs={"ExpectedBucketOwner": owner})
                staged.inputs.append({"name": name, "url": jobs.presign_get(s3_client, bucket, key, expiry)})
            staged.sources.append(f"{spec} -> s3://{bucket}/runs/{run_id}/input/{input_name(spec)}")
    staged.output_url = s3_client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": staged.output_key}, ExpiresIn=expiry)
    return staged


def job_vars(sub: Submission, staged: StagedJob, run_id: str) -> dict[str, Any]:
    """The ``spark_wordcount_*`` variables of playbooks/submit.yml for this run (URLs included)."""
    given = {"spark_wordcount_executor_instances": sub.executors or 0,
             "spark_wordcount_executor_cores": sub.executor_cores or 0,
             "spark_wordcount_executor_memory": sub.executor_memory or ""}
    return {
        "spark_wordcount_run_id": run_id,
        "spark_wordcount_app_path": str(sub.app),
        "spark_wordcount_app_arguments": list(sub.app_args),
        "spark_wordcount_py_files": [str(p) for p in sub.py_files],
        "spark_wordcount_spark_conf": dict(sub.conf),
        "spark_wordcount_stage_inputs": staged.inputs,
        "spark_wordcount_output_archive_url": staged.output_url,
        **given,
    }
