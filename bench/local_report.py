"""Make the sample report in docs/sample-report/ from a LOCAL run (no cluster, no metrics API).

Runs the WordCount application with ``local[2]`` on this machine against a Zipf corpus served
by a local HTTP server (so it takes the same path as presigned S3 URLs on a cluster: byte
ranges streamed by Python workers), while a /proc sampler writes ``metrics.csv`` in the format of
:mod:`sparklab.monitor`. Then :func:`sparklab.report.render` draws ``usage.png`` and writes
``summary.txt``. What the rows mean here:

* node ``localhost``: the whole machine, from /proc/stat and /proc/meminfo;
* role ``jvm``: the one local-mode JVM (driver and executor threads together), from /proc/<pid>;
* role ``python-workers``: the PySpark worker processes that stream the input.

    .venv/bin/python bench/local_report.py --size 200MB --out docs/sample-report
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_wordcount import make_corpus  # noqa: E402

from sparklab import report  # noqa: E402
from sparklab.monitor import CSV_FIELDS, MetricRow  # noqa: E402
from sparklab.wordcount_app import JobConfig, parse_size, run  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class RangeFileHandler(SimpleHTTPRequestHandler):
    """Static files with single byte-range support (what S3 gives presigned GETs)."""

    def log_message(self, *args: object) -> None:
        pass

    def send_head(self):  # noqa: ANN201 - http.server signature
        header = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not header or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first, _, last = header.removeprefix("bytes=").partition("-")
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
        handle = path.open("rb")
        handle.seek(start)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return _Limited(handle, end - start + 1)


class QuietServer(ThreadingHTTPServer):
    """The job closes a ranged download as soon as its lines are read: not an error."""

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001 - socketserver signature
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Limited:
    def __init__(self, handle, remaining: int) -> None:
        self.handle, self.remaining = handle, remaining

    def read(self, size: int = -1) -> bytes:
        size = self.remaining if size < 0 else min(size, self.remaining)
        data = self.handle.read(size)
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    result, queue = [], [pid]
    while queue:
        kids = children(queue.pop())
        result.extend(kids)
        queue.extend(kids)
    return result


def machine() -> tuple[int, int, int]:
    cpu = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    used = (int(meminfo["MemTotal"].split()[0]) - int(meminfo["MemAvailable"].split()[0])) * 1024
    return sum(cpu) - cpu[3] - cpu[4], used, sum(cpu)  # busy, used bytes, total jiffies


class ProcSampler:
    def __init__(self, jvm_pid: int, output: Path, interval: float) -> None:
        self.jvm_pid, self.output, self.interval = jvm_pid, output, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        ncpu = os.cpu_count() or 1
        last_time, (last_busy, _, last_total) = time.time(), machine()
        last_proc: dict[int, float] = {}
        with self.output.open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(CSV_FIELDS)
            while not self._stop.wait(self.interval):
                now = time.time()
                busy, used, total = machine()
                node_cpu = ncpu * (busy - last_busy) / max(1, total - last_total)
                rows = [MetricRow(now, "node", "localhost", "", node_cpu, used)]
                last_busy, last_total = busy, total
                groups = {"jvm": [self.jvm_pid], "python-workers": descendants(self.jvm_pid)}
                for role, pids in groups.items():
                    cpu = rss = 0.0
                    for pid in pids:
                        try:
                            seconds, memory = proc_cpu_seconds(pid), proc_rss(pid)
                        except OSError:
                            continue
                        cpu += (seconds - last_proc.get(pid, seconds)) / (now - last_time)
                        last_proc[pid] = seconds
                        rss += memory
                    if pids:
                        rows.append(MetricRow(now, "pod", f"local-{role}", role, cpu, int(rss)))
                last_time = now
                writer.writerows(row.as_csv() for row in rows)
                handle.flush()

    def __enter__(self) -> ProcSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def main() -> None:
    parser = argparse.ArgumentParser(description="sample report from a local run")
    parser.add_argument("--size", default="200MB")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--out", default=str(REPO / "docs" / "sample-report"))
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "sparklab-bench"))
    args = parser.parse_args()
    size, out, workdir = parse_size(args.size), Path(args.out), Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    corpus = workdir / f"corpus-{size}-7.txt"
    if not corpus.exists():
        make_corpus(corpus, size, 7)

    server = QuietServer(("127.0.0.1", 0), partial(RangeFileHandler, directory=str(workdir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/{corpus.name}"

    from pyspark.sql import SparkSession

    # Python workers import the application's functions from the sparklab package.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    spark = (SparkSession.builder.master("local[2]").appName("sparklab-sample-report")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    jvm_pid = int(spark.sparkContext._jvm.ProcessHandle.current().pid())  # noqa: SLF001
    with ProcSampler(jvm_pid, out / "metrics.csv", args.interval):
        time.sleep(3 * args.interval)
        started = time.time()
        result = run(spark, JobConfig(inputs=[url], chunk_bytes=32 << 20, top=20))
        ended = time.time()
        time.sleep(3 * args.interval)
    spark.stop()
    server.shutdown()
    (out / "result.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (out / "job.json").write_text(json.dumps({
        "run_id": "local-sample", "state": "COMPLETED", "submitted_at": stamp(started),
        "terminated_at": stamp(ended), "note": "local[2] run on one machine, sampled from /proc",
    }, indent=2) + "\n")
    summary = report.render(out)
    print(report.summary_text(summary))


if __name__ == "__main__":
    main()
