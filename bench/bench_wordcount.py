"""Benchmark: sparklab WordCount against Spark's own Python example, whole process, fresh JVMs.

Both programs run as a user runs them: ``spark-submit --master local[2]`` on the same file, one
fresh JVM per run, in pairs (the order alternates inside each pair), and the median of the pairs
is reported. The baseline is the example shipped inside the pyspark package,
``pyspark/examples/src/main/python/wordcount.py`` (split on spaces, Python RDD, collect and print
every count). sparklab's application writes every count as CSV to a folder, as ``--local`` does,
and runs with the start-up options of :mod:`sparklab.job.tuning`, class archive included, as a
user's second and later ``--local`` runs do; the archive is made first when this machine has none
(as a first run does; its cost is printed), and with the word splitter's jar
(:mod:`sparklab.job.splitter`, built with this machine's javac when missing). It is also run with
the regular expression instead of the jar, without the archive, and with exactly the example's
options, so what each part gains is shown apart; every variant must give the same totals and top.

The corpus is natural text assembled from this machine's man pages (every language installed)
and ``/usr/share/doc`` (copyright files, READMEs, changelogs), files in an order fixed by a hash of
their path, so languages and scripts are mixed; repeated when the pool is smaller than the size
asked. ``wc -w`` on the same file is the single-core physical reference. The load average is
printed with the figures: on a shared machine, times are only comparable within a pair.

    .venv/bin/python bench/bench_wordcount.py                       # 40 MB and 200 MB, 3 pairs each
    SPARKLAB_BENCH_LARGE=400MB .venv/bin/python bench/bench_wordcount.py --repeat 5
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sparklab.job import splitter as word_splitter  # noqa: E402
from sparklab.job import tuning as spark_tuning  # noqa: E402
from sparklab.job.runs import parse_driver_log  # noqa: E402
from sparklab.job.wordcount_app import parse_size  # noqa: E402

CORES = 2
TEXT_ROOTS = ("/usr/share/man", "/usr/share/doc")
# What both programs get: the master, no UI, no progress bar, the same driver memory.
COMMON_CONF = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
               "spark.driver.memory": "2g"}
APP = REPO / "sparklab" / "job" / "wordcount_app.py"


def text_files() -> list[Path]:
    files = [Path(d, f) for root in TEXT_ROOTS for d, _, names in os.walk(root) for f in names]
    files = [f for f in files if not f.is_symlink() and f.is_file()]
    return sorted(files, key=lambda f: hashlib.sha256(str(f).encode()).hexdigest())


def readable_texts(files: list[Path]) -> Iterator[bytes]:
    """The UTF-8 text of each file (gzip unpacked); binaries and other encodings are left out."""
    for path in files:
        try:
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            data.decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile):
            continue
        if data and b"\0" not in data:
            yield data


def make_corpus(path: Path, size: int) -> None:
    files = text_files()
    written, passes = 0, 0
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        while written < size:
            before = written
            for data in readable_texts(files):
                out.write(data if data.endswith(b"\n") else data + b"\n")
                written += len(data) + (0 if data.endswith(b"\n") else 1)
                if written >= size:
                    break
            passes += 1
            if written == before:
                raise SystemExit(f"no readable text under {', '.join(TEXT_ROOTS)}: cannot build the corpus")
    partial.rename(path)
    print(f"corpus {path}: {written / 1e6:.1f} MB from {len(files)} files"
          f"{f', the pool repeated {passes} times' if passes > 1 else ''}", flush=True)


def spark_env() -> dict[str, str]:
    import pyspark

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(SPARK_HOME=str(Path(pyspark.__file__).parent), PYSPARK_PYTHON=sys.executable,
               PYSPARK_DRIVER_PYTHON=sys.executable)
    return env


@dataclass
class Timing:
    wall: float
    cpu: float  # user + system seconds of the whole process tree (JVM, Python driver and workers)
    stdout: str


def spark_submit(script: Path, args: list[str], conf: dict[str, str]) -> Timing:
    command = [str(Path(sys.executable).parent / "spark-submit"), "--master", f"local[{CORES}]"]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(command + [str(script), *args], env=spark_env(), capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{script.name} failed:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, proc.stdout)


def programs(example: Path, corpus: Path, out: Path,
             archive_options: str) -> dict[str, tuple[Path, list[str], dict[str, str]]]:
    ours_args = [f"--input={corpus}", "--top=20", f"--output-dir={out}"]
    size = corpus.stat().st_size
    tuned = spark_tuning.short_job_conf(CORES, archive_options, size)
    try:
        splitter = {"spark.jars": str(word_splitter.words_jar())}
    except word_splitter.BuildError as err:
        raise SystemExit(f"the word splitter: {err}") from None
    return {
        "example": (example, [str(corpus)], COMMON_CONF),
        "sparklab": (APP, ours_args, {**COMMON_CONF, **tuned, **splitter}),
        "sparklab, regex splitter": (APP, ours_args, {**COMMON_CONF, **tuned}),
        "sparklab, no class archive": (APP, ours_args, {**COMMON_CONF, **splitter,
                                                        **spark_tuning.short_job_conf(CORES, "", size)}),
        "sparklab, example's options": (APP, ours_args, COMMON_CONF),
    }


def prepare_archive(corpus: Path, workdir: Path) -> str:
    """The class archive's JVM options, the archive made first (timed) when this machine has none.

    As a user's first ``--local`` run does: one run of the application that writes the archive as
    its JVM exits. Its cost is printed, once; every measured run then maps the archive.
    """
    archive = spark_tuning.class_archive()
    if archive is None:
        raise SystemExit("no class archive: no Java, SPARKLAB_CLASS_CACHE=off, or an unusable cache path")
    log = workdir / "class-archive.log"
    if not archive.ready:
        conf = {**COMMON_CONF, **spark_tuning.short_job_conf(CORES, archive.java_options(log))}
        made = spark_submit(APP, [f"--input={corpus}", "--top=20"], conf)
        if not archive.finish():
            raise SystemExit(f"the JVM wrote no class archive; see {log}")
        print(f"class archive {archive.path}: {archive.path.stat().st_size / 1e6:.0f} MB, made by one run in "
              f"{made.wall:.1f} s (once per Java and Spark; later runs map it)", flush=True)
    return archive.java_options(log)


def measure(example: Path, corpus: Path, repeat: int) -> dict[str, list[Timing]]:
    with tempfile.TemporaryDirectory(dir=corpus.parent) as tmp:
        runs = programs(example, corpus, Path(tmp, "counts"), prepare_archive(corpus, Path(tmp)))
        timings: dict[str, list[Timing]] = {name: [] for name in runs}
        for pair in range(repeat):
            order = list(runs) if pair % 2 == 0 else list(reversed(runs))
            for name in order:
                script, args, conf = runs[name]
                timings[name].append(spark_submit(script, args, conf))
        results = {name: [parse_driver_log(t.stdout) for t in runs] for name, runs in timings.items()
                   if name != "example"}
        ours = [result for found in results.values() for result in found]
        totals = {(result.words, result.distinct_words, tuple(result.top)) for result in ours}
        if len(totals) != 1:
            raise SystemExit(f"sparklab's totals or top words differ between runs: {sorted(totals)[:2]}")
        used = {name: {result.word_splitter for result in found} for name, found in results.items()}
        if used["sparklab"] != {"jvm"} or used["sparklab, regex splitter"] != {"regex"}:
            raise SystemExit(f"the runs did not use the word splitters they name: {used}")
    return timings


def wc_words(corpus: Path) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run(["wc", "-w", str(corpus)], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, int(proc.stdout.split()[0])


def report(corpus: Path, repeat: int, timings: dict[str, list[Timing]], wc: tuple[float, int],
           load: tuple[float, float]) -> None:
    megabytes = corpus.stat().st_size / 1e6
    words = parse_driver_log(timings["sparklab"][0].stdout).words
    print(f"\ncorpus {corpus.name}: {megabytes:.1f} MB, {words} words by sparklab's rule, {wc[1]} by wc -w; "
          f"local[{CORES}], {repeat} pairs, median; load average {load[0]:.1f} before, {load[1]:.1f} after")
    print(f"{'program':<32}{'wall s':>8}{'CPU s':>8}{'MB/s':>8}{'MB/s/core':>11}{'ratio':>8}")
    print(f"{'wc -w':<32}{wc[0]:>8.2f}{wc[0]:>8.2f}{megabytes / wc[0]:>8.1f}{megabytes / wc[0]:>11.1f}"
          f"{'':>8}  single core, physical reference")
    base = timings["example"]
    for name, runs in timings.items():
        wall = statistics.median(t.wall for t in runs)
        cpu = statistics.median(t.cpu for t in runs)
        ratio = statistics.median(t.wall / b.wall for t, b in zip(runs, base, strict=True))
        print(f"{name:<32}{wall:>8.1f}{cpu:>8.1f}{megabytes / wall:>8.1f}{megabytes / wall / CORES:>11.2f}"
              f"{ratio:>8.2f}")
    counting = statistics.median(parse_driver_log(t.stdout).elapsed_seconds for t in timings["sparklab"])
    print(f"sparklab inside the application (JVM start-up and stop excluded): {counting:.1f} s")
    ratio = statistics.median(t.wall / b.wall for t, b in zip(timings["sparklab"], base, strict=True))
    print(f"ratio sparklab / example (median of pairs): {ratio:.2f} (goal: at most 0.50)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", default="40MB")
    parser.add_argument("--large", default=os.environ.get("SPARKLAB_BENCH_LARGE", "200MB"),
                        help="large corpus size (env SPARKLAB_BENCH_LARGE)")
    parser.add_argument("--repeat", type=int, default=3, help="pairs per corpus; the median counts")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "sparklab-bench"))
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    import pyspark

    example = Path(pyspark.__file__).parent / "examples" / "src" / "main" / "python" / "wordcount.py"
    if not example.is_file():
        raise SystemExit(f"Spark's example is missing from the pyspark package: {example}")
    for size in (parse_size(args.small), parse_size(args.large)):
        if not size:  # --large 0: the small corpus only
            continue
        corpus = workdir / f"natural-{size}.txt"
        if not corpus.exists():
            make_corpus(corpus, size)
        wc = wc_words(corpus)
        load_before = os.getloadavg()[0]
        timings = measure(example, corpus, args.repeat)
        report(corpus, args.repeat, timings, wc, (load_before, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
