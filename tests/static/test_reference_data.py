"""The reference data fallback for a clone without ../shared/reference: the pinned chart trees are
fetched from a local HTTP server on 127.0.0.1 that answers like codeload.github.com, verified by
their pinned digests, laid out like the shared folder, cached, and refused when tampered with.

The archives are built here from the reference copies in use (byte for byte the upstream git trees at
the pinned commits), with extra files around the chart folder as a real repository archive has.
That GitHub serves the same trees at these URLs is not checked here (no test reaches the internet).
"""

from __future__ import annotations

import http.server
import io
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import reference_data
from reference_data import CHARTS, REFERENCE_DIR, ReferenceUnavailable, resolve


def github_archive(chart: reference_data.ChartTree, tamper: bool = False) -> bytes:
    """A tar.gz shaped like GitHub's: <name>-<commit>/<repository files>."""
    top = f"{chart.repo.split('/')[1]}-{chart.commit}"
    source = REFERENCE_DIR / "charts" / chart.folder
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        add("README.md", b"repository readme, outside the chart folder\n")
        add(f"{chart.path}-other/values.yaml", b"a sibling folder with a similar name\n")
        for i, path in enumerate(sorted(p for p in source.rglob("*") if p.is_file())):
            data = path.read_bytes()
            if tamper and i == 0:
                data += b"\n# changed\n"
            add(f"{chart.path}/{path.relative_to(source).as_posix()}", data)
    return buf.getvalue()


class Mirror(http.server.BaseHTTPRequestHandler):
    archives: dict[str, bytes] = {}
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        type(self).requests.append(self.path)
        body = type(self).archives.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"not found")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mirror() -> Iterator[str]:
    Mirror.archives = {f"/{c.repo}/tar.gz/{c.commit}": github_archive(c) for c in CHARTS}
    Mirror.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_without_shared_folder_the_pinned_trees_are_fetched_verified_and_cached(
    tmp_path: Path, mirror: str
) -> None:
    cache = tmp_path / "cache" / "ref"
    found = resolve(
        shared=tmp_path / "absent", cache=cache, url_for=lambda c: reference_data.archive_url(c, mirror)
    )
    assert found == cache
    assert sorted(Mirror.requests) == sorted(f"/{c.repo}/tar.gz/{c.commit}" for c in CHARTS)
    # Same layout and same bytes as the shared folder, derived files included.
    shared_files = sorted(p.relative_to(REFERENCE_DIR) for p in REFERENCE_DIR.rglob("*") if p.is_file())
    fetched = sorted(p.relative_to(cache) for p in cache.rglob("*") if p.is_file() and p.name != ".complete")
    shared_files = [p for p in shared_files if p.name != "README.md" or p.parent != Path(".")]
    assert fetched == shared_files
    for rel in fetched:
        assert (cache / rel).read_bytes() == (REFERENCE_DIR / rel).read_bytes(), rel
    # A second resolution uses the cache and sends no request.
    Mirror.requests.clear()
    assert resolve(shared=tmp_path / "absent", cache=cache, url_for=lambda c: f"{mirror}/x") == cache
    assert Mirror.requests == []


def test_a_tree_that_differs_from_its_pin_is_refused_and_nothing_is_cached(
    tmp_path: Path, mirror: str
) -> None:
    bad = CHARTS[2]
    Mirror.archives[f"/{bad.repo}/tar.gz/{bad.commit}"] = github_archive(bad, tamper=True)
    cache = tmp_path / "ref"
    with pytest.raises(ReferenceUnavailable) as err:
        resolve(
            shared=tmp_path / "absent", cache=cache, url_for=lambda c: reference_data.archive_url(c, mirror)
        )
    message = str(err.value)
    assert f"pinned {bad.tree_sha256}" in message and bad.path in message
    assert "\n" not in message
    assert not cache.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / ".lock"], "no partial folder is left behind"


def test_offline_without_shared_folder_fails_in_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    # Port 9 (discard) on the loopback address: nothing listens, the connection is refused.
    with pytest.raises(ReferenceUnavailable) as err:
        resolve(shared=tmp_path / "absent", cache=tmp_path / "ref", url_for=lambda c: "http://127.0.0.1:9/x")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"upstream reference data not found at {tmp_path / 'absent'}")
    assert "fix: run the tests once with network access" in message
    assert "SPARKLAB_REFERENCE_DIR" in message


def test_pins_are_full_commit_ids_and_their_tree_digests_match_the_shared_copies() -> None:
    """Format of each pinned commit and the tree digest of each copy in use. That a commit is the
    one behind its tag was read from GitHub when it was pinned; no test here reaches GitHub, so no
    test checks it (the fetch above checks that the tree at the commit has the pinned digest)."""
    assert len({c.folder for c in CHARTS}) == len(CHARTS)
    for chart in CHARTS:
        assert len(chart.commit) == 40 and int(chart.commit, 16) >= 0
        assert reference_data.tree_sha256(REFERENCE_DIR / "charts" / chart.folder) == chart.tree_sha256


def test_under_xdist_a_missing_reference_stops_the_run_once_before_any_worker_starts(tmp_path: Path) -> None:
    """pytest -n 2 without the data: one line from the controller and exit 2, no worker crashed
    and restarted (each restart tried the download again and the run went on)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["SPARKLAB_REFERENCE_DIR"] = str(tmp_path / "absent")
    repo = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "2"]
        + ["tests/static/test_cluster_pins.py"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 2, output[-3000:]
    lines = [line for line in output.splitlines() if "SPARKLAB_REFERENCE_DIR=" in line]
    assert len(lines) == 1, output[-3000:]
    assert lines[0].endswith("set SPARKLAB_REFERENCE_DIR to a copy of it)"), lines[0]
    assert not {"crashed", "node down", "passed"} & set(output.split()), output[-3000:]
