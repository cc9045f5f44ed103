"""Fixtures for the WordCount tests: one local Spark session and small local servers."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from wordcount_corpus import REPO


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep every test that needs the Spark session on one xdist worker: one JVM, not two."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("spark-session"))


@pytest.fixture(scope="session")
def words_jar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JVM word splitter's jar, built from source with this machine's javac (a fresh cache)."""
    from sparklab.job import splitter as word_splitter

    cache = tmp_path_factory.mktemp("cache")
    return word_splitter.words_jar({**os.environ, "XDG_CACHE_HOME": str(cache)})


@pytest.fixture(scope="session")
def spark(words_jar: Path):
    """One local[2] SparkSession for the whole test session (the JVM starts slowly), with the
    word splitter's jar on its class path as ``--local`` and the cluster run it."""
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.jars", str(words_jar))
        .appName("sparklab-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


class RangeHandler(BaseHTTPRequestHandler):
    """Serves files from ``server.files`` (name -> bytes), honouring single byte ranges."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        name = self.path.lstrip("/").split("?", 1)[0]
        body = self.server.files.get(name)  # type: ignore[attr-defined]
        if body is None:
            self.send_error(404)
            return
        self.server.requests.append((name, self.headers.get("Range")))  # type: ignore[attr-defined]
        header = self.headers.get("Range")
        if header and self.server.ranges:  # type: ignore[attr-defined]
            first, _, last = header.removeprefix("bytes=").partition("-")
            start = int(first)
            end = min(int(last), len(body) - 1) if last else len(body) - 1
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            part = body[start : end + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
        else:
            part = body
            self.send_response(200)
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        self.wfile.write(part)


@pytest.fixture
def file_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    server.files = {}  # type: ignore[attr-defined]
    server.requests = []  # type: ignore[attr-defined]
    server.ranges = True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
