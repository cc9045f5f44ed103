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

``--as-user`` measures the product instead, as a user runs it: ``runner.py wordcount --local
--plain --input FILE``, the whole process (the runner, Spark, sampling, the CSV, the chart and the
summary), paired with the example under ``spark-submit --master local[2]``, fresh JVMs, the order
alternating inside each pair, the median of the pairs' ratios printed per corpus. Every run of the
runner must give the same totals and top words.

The corpora (``bench/wordcount_corpora.py``, made once into the work folder, the same bytes every
time): ``natural``, this machine's man pages (every language installed) and ``/usr/share/doc``,
mostly ASCII English, the corpus this benchmark always had; ``real``, the translated man pages
(Japanese, Korean, Russian, ...), Debian copyright files and vim's help files; ``scripts``, text
generated in many scripts (Latin with diacritics and combining marks, Cyrillic, Greek, CJK,
Devanagari, special case mappings, characters beyond the Basic Multilingual Plane). ``wc -w`` on
the same file is the single-core physical reference. The load average is printed with the figures:
on a shared machine, times are only comparable within a pair.

    .venv/bin/python bench/bench_wordcount.py                       # natural, 40 MB and 200 MB, 3 pairs each
    SPARKLAB_BENCH_LARGE=400MB .venv/bin/python bench/bench_wordcount.py --repeat 5
    .venv/bin/python bench/bench_wordcount.py --as-user   # scripts 200 MB, real 40 MB, natural 40/200 MB
    .venv/bin/python bench/bench_wordcount.py --as-user --corpus scripts:200MB --corpus real:40MB
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import wordcount_corpora  # noqa: E402

from sparklab.job import splitter as word_splitter  # noqa: E402
from sparklab.job import tuning as spark_tuning  # noqa: E402
from sparklab.job.runs import parse_driver_log  # noqa: E402
from sparklab.job.wordcount_app import parse_size  # noqa: E402

CORES = 2
AS_USER_CORPORA = ("scripts:200MB", "real:40MB", "natural:40MB", "natural:200MB")
# What both programs get: the master, no UI, no progress bar, the same driver memory.
COMMON_CONF = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
               "spark.driver.memory": "2g"}
APP = REPO / "sparklab" / "job" / "wordcount_app.py"


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


@dataclass(frozen=True)
class Runner:
    """A checkout of sparklab whose ``runner.py`` is measured, and the cache folder it uses."""

    checkout: Path
    cache: Path | None = None  # XDG_CACHE_HOME; None: the user's own

    def compile(self) -> None:
        """Byte-compile the checkout's Python once, as a user's first run leaves it.

        Without this a checkout that has never run (``--before``'s) would compile every module of
        sparklab on every measured run when ``PYTHONDONTWRITEBYTECODE`` is set (the test machine
        sets it), while this checkout's ``__pycache__`` is warm: 1 to 1.5 s a run on a one-line input.
        """
        targets = [str(self.checkout / name) for name in ("runner.py", "sparklab", "plugins")]
        subprocess.run([sys.executable, "-m", "compileall", "-q", *targets], check=True, capture_output=True)

    def env(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "SPARK_HOME", "PYTHONDONTWRITEBYTECODE")}
        env["SPARKLAB_HOME"] = str(home)
        if self.cache is not None:
            env["XDG_CACHE_HOME"] = str(self.cache)
        return env


def run_as_user(runner: Runner, corpus: Path, home: Path) -> tuple[Timing, dict]:
    """``runner.py wordcount --local --plain --input FILE``, timed whole; its result.json."""
    from sparklab.job.local.run import list_runs

    command = [sys.executable, str(runner.checkout / "runner.py"), "wordcount", "--local", "--plain",
               "--input", str(corpus)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(command, env=runner.env(home), capture_output=True, text=True, check=False,
                          cwd=runner.checkout)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"runner.py wordcount --local failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = json.loads((list_runs(home)[-1] / "result.json").read_text(encoding="utf-8"))
    return Timing(wall, cpu, proc.stdout), result


def measure_as_user(example: Path, corpus: Path, repeat: int, workdir: Path,
                    runners: dict[str, Runner]) -> dict[str, list[Timing]]:
    """Rounds of every runner and the example, the order reversed every other round; every
    runner's every run must give the same totals and top words.

    A runner runs once first, unmeasured, when its cache folder has no class archive yet (a
    user's first ``--local`` run makes it; every later run maps it).
    """
    timings: dict[str, list[Timing]] = {name: [] for name in [*runners, "example"]}
    results: dict[str, list[dict]] = {name: [] for name in runners}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for name, runner in runners.items():
            archive = spark_tuning.class_archive(runner.env(Path(tmp)))
            if archive is not None and not archive.ready:
                made, _ = run_as_user(runner, corpus, Path(tmp, f"home-{len(name)}"))
                print(f"{name}: first run (made the class archive {archive.path}): {made.wall:.1f} s, "
                      "not counted", flush=True)
        for pair in range(repeat):
            order = list(timings) if pair % 2 == 0 else list(reversed(timings))
            for name in order:
                if name == "example":
                    timings[name].append(spark_submit(example, [str(corpus)], COMMON_CONF))
                else:
                    timing, result = run_as_user(runners[name], corpus, Path(tmp, f"home-{name}"))
                    timings[name].append(timing)
                    results[name].append(result)
                print(f"  round {pair + 1}: {name} {timings[name][-1].wall:.1f} s", flush=True)
    every = [r for found in results.values() for r in found]
    seen = {(r["words"], r["distinct_words"], json.dumps(r["top"])) for r in every}
    if len(seen) != 1:
        raise SystemExit(f"the runners' totals or top words differ between runs: {sorted(seen)[:2]}")
    for name, found in results.items():
        splitters = {r["word_splitter"] for r in found}
        print(f"  {name}: {found[0]['words']} words, {found[0]['distinct_words']} distinct; word splitter: "
              f"{', '.join(sorted(splitters))}; in the application: "
              f"{statistics.median(r['elapsed_seconds'] for r in found):.1f} s (median)", flush=True)
    return timings


Row = tuple[str, Path, dict[str, list[Timing]], tuple[float, float]]


def report_as_user(rows: list[Row], repeat: int) -> None:
    print(f"\nas the user runs it: runner.py wordcount --local --plain against Spark's example under "
          f"spark-submit --master local[{CORES}]; {repeat} rounds, fresh JVMs, median; ratio: median of "
          "the rounds' ratios")
    for label, corpus, timings, load in rows:
        theirs = statistics.median(t.wall for t in timings["example"])
        print(f"{label} ({corpus.stat().st_size / 1e6:.1f} MB), load average {load[0]:.1f} before, "
              f"{load[1]:.1f} after: example {theirs:.1f} s")
        for name, runs in timings.items():
            if name == "example":
                continue
            ratio = statistics.median(t.wall / b.wall for t, b in zip(runs, timings["example"], strict=True))
            print(f"  {name:<12}{statistics.median(t.wall for t in runs):>8.1f} s  ratio {ratio:.2f}")
    print("goal: at most 0.50 on every corpus, at most 0.35 at 200 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", default="40MB")
    parser.add_argument("--large", default=os.environ.get("SPARKLAB_BENCH_LARGE", "200MB"),
                        help="large corpus size (env SPARKLAB_BENCH_LARGE)")
    parser.add_argument("--repeat", type=int, default=3, help="pairs per corpus; the median counts")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "sparklab-bench"),
                        help="where the corpora are kept (made once) and the runs write")
    parser.add_argument("--as-user", action="store_true",
                        help="time runner.py wordcount --local --plain (whole process) against the example")
    parser.add_argument("--before", metavar="CHECKOUT",
                        help="with --as-user: also time runner.py of this checkout (an earlier version) in "
                             "the same rounds, with its own cache folder under the work folder")
    parser.add_argument("--corpus", action="append", default=[], metavar="KIND:SIZE",
                        help=f"corpus to measure ({', '.join(wordcount_corpora.KINDS)}), e.g. scripts:200MB; "
                             f"repeatable; default natural at --small and --large (with --as-user: "
                             f"{' '.join(AS_USER_CORPORA)})")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    import pyspark

    example = Path(pyspark.__file__).parent / "examples" / "src" / "main" / "python" / "wordcount.py"
    if not example.is_file():
        raise SystemExit(f"Spark's example is missing from the pyspark package: {example}")
    specs = args.corpus or (list(AS_USER_CORPORA) if args.as_user else [f"natural:{args.small}",
                                                                       f"natural:{args.large}"])
    corpora: list[tuple[str, Path]] = []
    for spec in specs:
        kind, _, size_text = spec.partition(":")
        if kind not in wordcount_corpora.KINDS:
            kinds = ", ".join(wordcount_corpora.KINDS)
            raise SystemExit(f"--corpus {spec}: unknown kind {kind!r} (fix: one of {kinds})")
        size = parse_size(size_text or "40MB")
        if size:  # --large 0: the small corpus only
            corpora.append((f"{kind} {size_text}", wordcount_corpora.corpus(kind, size, workdir)))
    runners = {"sparklab": Runner(REPO)}
    if args.before:
        cache = workdir / "before-cache"
        cache.mkdir(mode=0o700, exist_ok=True)
        runners["before"] = Runner(Path(args.before).resolve(), cache)
    for runner in runners.values():
        runner.compile()
    rows = []
    for label, corpus in corpora:
        load_before = os.getloadavg()[0]
        if args.as_user:
            print(f"{label}: {corpus}", flush=True)
            timings = measure_as_user(example, corpus, args.repeat, workdir, runners)
            rows.append((label, corpus, timings, (load_before, os.getloadavg()[0])))
            continue
        wc = wc_words(corpus)
        timings = measure(example, corpus, args.repeat)
        report(corpus, args.repeat, timings, wc, (load_before, os.getloadavg()[0]))
    if rows:
        report_as_user(rows, args.repeat)


if __name__ == "__main__":
    main()
