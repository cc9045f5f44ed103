"""The output archive of a cluster run, unpacked: what the launcher packs comes back as it was, and
an archive that would write outside the output folder (absolute name, ``..``, a link) or is too
big is refused before anything is written."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from sparklab.job import launcher, outputs


def archive_of(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def test_what_the_launcher_packs_comes_back_as_it_was(tmp_path: Path) -> None:
    written = tmp_path / "driver-output"
    (written / "by_region").mkdir(parents=True)
    (written / "by_region" / "part-0.csv").write_text("region,total\nnorth,3\n")
    (written / "summary.json").write_text("{}")
    dest = tmp_path / "run" / "output"
    assert outputs.unpack(launcher.pack(written), dest) == 2
    assert (dest / "by_region" / "part-0.csv").read_text() == "region,total\nnorth,3\n"
    assert (dest / "summary.json").read_text() == "{}"


def symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize(("member", "says"), [
    (tarfile.TarInfo("../escaped.csv"), "points outside the output folder"),
    (tarfile.TarInfo("ok/../../escaped.csv"), "points outside the output folder"),
    (tarfile.TarInfo("/tmp/escaped.csv"), "points outside the output folder"),
    (symlink("passwd", "/etc/passwd"), "is a link or a device"),
    (symlink("up", "../../.."), "is a link or a device"),
])
def test_an_archive_that_would_write_outside_is_refused_and_writes_nothing(
        tmp_path: Path, member: tarfile.TarInfo, says: str) -> None:
    good = tarfile.TarInfo("good.csv")
    dest = tmp_path / "run" / "output"
    with pytest.raises(outputs.UnsafeOutputError, match=says):
        outputs.unpack(archive_of((good, b"a\n"), (member, b"evil\n")), dest)
    assert not dest.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == []


def test_an_archive_bigger_than_the_limit_is_refused(tmp_path: Path) -> None:
    big = archive_of((tarfile.TarInfo("a.bin"), b"x" * 600), (tarfile.TarInfo("b.bin"), b"x" * 600))
    with pytest.raises(outputs.UnsafeOutputError, match="more than 1000 bytes"):
        outputs.unpack(big, tmp_path / "output", limit=1000)
    assert not (tmp_path / "output").exists()
