"""A cluster run's output folder, brought back: the gzip tar the launcher PUT, unpacked safely.

The launcher (:mod:`sparklab.job.launcher`) packs ``$SPARKLAB_OUTPUT`` of the driver and PUTs it to
a presigned URL of the cluster's bucket; :func:`collect` reads it back with the user's credentials
(the bucket's owner named on the call) and :func:`unpack` writes it under ``<run folder>/output/``.
The archive comes from a pod that ran user code, so nothing in it is trusted: a member with an
absolute name, a ``..`` part, a link or a device, or members adding up to more than the launcher's
limit, stop the unpacking with :class:`UnsafeOutputError` before anything is written.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

from sparklab.job.launcher import OUTPUT_LIMIT_BYTES


class UnsafeOutputError(ValueError):
    """The output archive holds a member that would land outside the output folder, or too much."""


def check_members(tar: tarfile.TarFile, limit: int = OUTPUT_LIMIT_BYTES) -> list[tarfile.TarInfo]:
    """Every member, once each was found to be a plain file or folder inside the archive's root."""
    members = tar.getmembers()
    total = 0
    for member in members:
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts or not member.name.strip():
            raise UnsafeOutputError(f"output archive: member {member.name!r} points outside the "
                                    "output folder")
        if not (member.isfile() or member.isdir()):
            raise UnsafeOutputError(f"output archive: member {member.name!r} is a link or a device, "
                                    "not a file or a folder")
        total += member.size
        if total > limit:
            raise UnsafeOutputError(f"output archive: more than {limit} bytes once unpacked")
    return members


def unpack(archive: bytes, dest: Path, limit: int = OUTPUT_LIMIT_BYTES) -> int:
    """Unpack ``archive`` (gzip tar) into ``dest`` after checking every member; files written."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        members = check_members(tar, limit)
        dest.mkdir(mode=0o700, parents=True, exist_ok=True)
        tar.extractall(dest, members=members, filter="data")  # the standard library's checks too
    return sum(1 for member in members if member.isfile())


def collect(s3_client: Any, bucket: str, key: str, owner: str, dest: Path) -> int:
    """Download the output archive from ``owner``'s bucket and unpack it into ``dest``."""
    got = s3_client.get_object(Bucket=bucket, Key=key, ExpectedBucketOwner=owner)
    return unpack(got["Body"].read(), dest)
