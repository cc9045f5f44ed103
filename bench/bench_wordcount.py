"""Benchmark: sparklab WordCount against Spark's own Python example on the same corpus.

The corpus is a synthetic Zipf text written to a local file (made once, then reused). Two
measurements, both with ``local[2]``:

* warm: both programs run in this process on one SparkSession (the example's own file is executed
  with runpy), after one warm-up run of each on a slice, so the JIT has compiled both paths;
* cold: each program in a fresh JVM with ``spark-submit`` (start-up and JIT warm-up included).

``wc -w`` on the same file is printed as a single-core physical reference. Prints times, MB/s,
MB/s per core and the ratios.

    .venv/bin/python bench/bench_wordcount.py            # 200 MB
    .venv/bin/python bench/bench_wordcount.py --size 1GB --repeat 2
"""

from __future__ import annotations

import argparse
import contextlib
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sparklab.jobs import parse_driver_log  # noqa: E402
from sparklab.wordcount_app import JobConfig, generated_lines, parse_size, run  # noqa: E402

CORES = 2
SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "2g",
}


def spark_env() -> dict[str, str]:
    import pyspark

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        SPARK_HOME=str(Path(pyspark.__file__).parent),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
    )
    return env


def make_corpus(path: Path, size: int, seed: int) -> None:
    """Write a Zipf corpus of about ``size`` bytes with the application's own generator."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{CORES}]")
        .appName("corpus")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        generated_lines(spark, size, seed=seed).select("value").write.mode("overwrite").text(f"{tmp}/parts")
        spark.stop()
        partial = path.with_suffix(".partial")
        with partial.open("wb") as out:
            for part in sorted(Path(tmp, "parts").glob("part-*")):
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        partial.rename(path)


def spark_submit(script: Path, args: list[str]) -> tuple[float, str]:
    command = [str(Path(sys.executable).parent / "spark-submit"), "--master", f"local[{CORES}]"]
    for key, value in SPARK_CONF.items():
        command += ["--conf", f"{key}={value}"]
    started = time.perf_counter()
    proc = subprocess.run(
        command + [str(script), *args], env=spark_env(), capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{script.name} failed:\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout


def run_example_in_process(spark, example: Path, corpus: Path) -> float:
    """Execute Spark's example file as __main__ on our session (its spark.stop() is held back)."""
    from pyspark.sql import SparkSession

    stop, argv = SparkSession.stop, sys.argv
    SparkSession.stop = lambda self: None  # type: ignore[method-assign]
    sys.argv = [str(example), str(corpus)]
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            started = time.perf_counter()
            runpy.run_path(str(example), run_name="__main__")
            return time.perf_counter() - started
    finally:
        SparkSession.stop, sys.argv = stop, argv  # type: ignore[method-assign]


def run_ours_in_process(spark, corpus: Path) -> tuple[float, int]:
    started = time.perf_counter()
    result = run(spark, JobConfig(inputs=[str(corpus)], top=20))
    return time.perf_counter() - started, int(result["words"])


def warm_measurements(example: Path, corpus: Path, repeat: int) -> tuple[float, float, int]:
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(f"local[{CORES}]").appName("bench")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", SPARK_CONF["spark.driver.memory"]).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    warmup = corpus.with_suffix(".warmup.txt")
    if not warmup.exists():
        with corpus.open("rb") as src, warmup.open("wb") as out:
            out.write(src.read(20_000_000))
            out.write(src.readline())
    run_example_in_process(spark, example, warmup)
    run_ours_in_process(spark, warmup)
    best_example = best_ours = float("inf")
    words = 0
    for _ in range(repeat):
        best_example = min(best_example, run_example_in_process(spark, example, corpus))
        seconds, words = run_ours_in_process(spark, corpus)
        best_ours = min(best_ours, seconds)
    spark.stop()
    return best_example, best_ours, words


def cold_measurements(example: Path, corpus: Path, repeat: int) -> tuple[float, float, float]:
    best_example = best_ours = counting = float("inf")
    for _ in range(repeat):
        seconds, _ = spark_submit(example, [str(corpus)])
        best_example = min(best_example, seconds)
        ours = REPO / "sparklab" / "wordcount_app.py"
        seconds, stdout = spark_submit(ours, [f"--input={corpus}", "--top=20"])
        best_ours = min(best_ours, seconds)
        counting = min(counting, parse_driver_log(stdout).elapsed_seconds)
    return best_example, best_ours, counting


def print_row(name: str, seconds: float, megabytes: float, cores: int, note: str = "") -> None:
    rate = megabytes / seconds
    print(f"{name:<34}{seconds:>9.1f}{rate:>9.1f}{rate / cores:>11.1f}  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="200MB")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each program; the best counts")
    parser.add_argument("--no-cold", action="store_true", help="skip the fresh-JVM spark-submit runs")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "sparklab-bench"))
    args = parser.parse_args()
    size = parse_size(args.size)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    corpus = workdir / f"corpus-{size}-{args.seed}.txt"
    if not corpus.exists():
        print(f"writing a {size / 1e6:.0f} MB Zipf corpus to {corpus} ...", flush=True)
        make_corpus(corpus, size, args.seed)
    megabytes = corpus.stat().st_size / 1e6

    import pyspark

    example = Path(pyspark.__file__).parent / "examples" / "src" / "main" / "python" / "wordcount.py"
    started = time.perf_counter()
    wc = subprocess.run(["wc", "-w", str(corpus)], capture_output=True, text=True, check=True)
    wc_seconds = time.perf_counter() - started
    load_before = os.getloadavg()[0]
    warm_example, warm_ours, words = warm_measurements(example, corpus, args.repeat)
    cold = None if args.no_cold else cold_measurements(example, corpus, args.repeat)

    print(f"\ncorpus {megabytes:.1f} MB, {words} words (sparklab rule), local[{CORES}], "
          f"best of {args.repeat}; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"{'program':<34}{'seconds':>9}{'MB/s':>9}{'MB/s/core':>11}  note")
    print_row("wc -w", wc_seconds, megabytes, 1, f"{wc.stdout.split()[0]} words, single core reference")
    print_row("warm: Spark example wordcount.py", warm_example, megabytes, CORES, "split(' '), Python RDD")
    print_row("warm: sparklab wordcount_app.py", warm_ours, megabytes, CORES, "lowercase + Unicode word rule")
    if cold is not None:
        print_row("cold: Spark example wordcount.py", cold[0], megabytes, CORES, "spark-submit, fresh JVM")
        print_row("cold: sparklab wordcount_app.py", cold[1], megabytes, CORES, "spark-submit, fresh JVM")
        print_row("cold: sparklab, counting only", cold[2], megabytes, CORES, "JVM start-up excluded")
    print(f"\nwarm ratio example / sparklab: {warm_example / warm_ours:.2f}x (aim: at least 2x)")
    if cold is not None:
        print(f"cold ratio example / sparklab: {cold[0] / cold[1]:.2f}x")


if __name__ == "__main__":
    main()
