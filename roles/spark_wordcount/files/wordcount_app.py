"""sparklab WordCount: a PySpark application that counts words in one pass over its inputs.

This file is shipped as-is to the cluster (in a ConfigMap mounted into the driver of the
``apache/spark`` image), so it imports only pyspark and the Python standard library and must run
on the image's Python (3.10).

The word rule (the same everywhere in sparklab)
    Lowercase the text, then a word is a maximal run of code points whose Unicode general
    category is a letter (L*), a mark (M*: accents and vowel signs that belong to letters) or a
    number (N*). Every other code point separates words: spaces, line ends, apostrophes,
    underscores, hyphens, punctuation and symbols.

The rule is defined once, by ``WORD_CATEGORIES``. From it come the Java regular expression that
Spark evaluates in the JVM (``JAVA_WORD_PATTERN``) and the plain-Python reference
(``reference_words``) that the tests compare Spark's counts against. When the jar of
``sparklab/job/jvm/Words.java`` is on Spark's class path (``spark.jars``: ``--local`` and the cluster
give it), that Java function lowercases and splits instead of ``lower`` and the expression, in one
pass: the same words, less time per row; the result's ``word_splitter`` says which ran.

Inputs
    ``--input URL`` (http/https, e.g. presigned S3 URLs): read by the executors; each object is
    split into byte ranges of ``--chunk-mib`` that are fetched in parallel, so no single node
    carries all the data. ``--input PATH`` (a local or Hadoop path): read with Spark's text
    source. ``--generate SIZE``: a Zipf-distributed synthetic corpus of about SIZE bytes,
    produced inside the job. ``--urls-file FILE``: a JSON object ``{"input_urls": [...],
    "output_urls": [...]}`` (on the cluster: a Secret mounted into the driver), so presigned URLs
    never appear in the application's arguments, which anyone who can read pods sees.

Outputs
    One driver-log line ``SPARKLAB_RESULT {json}`` with the top N words and the totals (lines,
    words, distinct words, bytes read, timings). The full counts as CSV: ``--output-url`` (one
    presigned PUT URL per part, written by the executors) or ``--output-dir`` (a Spark path).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import re
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - type names only
    from pyspark.sql import Column, DataFrame, SparkSession

RESULT_PREFIX = "SPARKLAB_RESULT"
ERROR_PREFIX = "SPARKLAB_ERROR"
RESULT_VERSION = 1

# The word rule: Unicode general-category classes whose code points make up words.
WORD_CATEGORIES = ("L", "M", "N")
JAVA_WORD_PATTERN = "[" + "".join(f"\\p{{{cat}}}" for cat in WORD_CATEGORIES) + "]+"
# The same rule as a Java function of our own (sparklab/job/jvm/Words.java), used when its jar is given.
JVM_WORDS_CLASS = "sparklab.wordcount.Words"
JVM_WORDS_FUNCTION = "sparklab_words"
ICU_CASE_MAPPINGS = "spark.sql.icu.caseMappings.enabled"  # what lower() uses; on unless set

MAX_UNICODE = 0x10FFFF
HTTP_TIMEOUT_SECONDS = 60
READ_BLOCK_BYTES = 1 << 20
DEFAULT_CHUNK_MIB = 64
DEFAULT_TOP = 20

# Synthetic corpus: rank r (1..vocabulary) is drawn log-uniformly, P(r) ~ 1/r (Zipf, s = 1);
# the word of rank r spells the hexadecimal digits of r with these two-letter syllables.
SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "fa", "gu", "he", "ji", "ko", "la", "mu")
GENERATED_WORDS_PER_LINE = 12
DEFAULT_VOCABULARY = 1_000_000
GENERATED_PARTITION_BYTES = 64 << 20

_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}


# --------------------------------------------------------------------------- word rule (Python)
@functools.lru_cache(maxsize=1)
def _python_word_regex() -> re.Pattern[str]:
    """Compile a character-class regex of every code point in WORD_CATEGORIES (built once)."""
    ranges: list[tuple[int, int]] = []
    for cp in range(MAX_UNICODE + 1):
        if unicodedata.category(chr(cp))[0] in WORD_CATEGORIES:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    parts = [re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges]
    return re.compile("[" + "".join(parts) + "]+")


def reference_words(text: str) -> list[str]:
    """The words of ``text`` under the sparklab word rule, in order (plain Python)."""
    return _python_word_regex().findall(text.lower())


def reference_counts(lines: Iterable[str]) -> Counter[str]:
    """Word counts of ``lines`` computed without Spark: the reference the tests use."""
    counts: Counter[str] = Counter()
    for line in lines:
        counts.update(reference_words(line))
    return counts


def parse_size(text: str) -> int:
    """Parse ``200MB``, ``1.5GiB``, ``4096`` into bytes (KB/MB/GB decimal, KiB/MiB/GiB binary)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _SIZE_UNITS:
        raise ValueError(f"invalid size {text!r}: use a number with an optional unit such as 500MB or 2GiB")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


# --------------------------------------------------------------------------- word rule (Spark)
def use_jvm_splitter(spark: SparkSession) -> str:
    """Register the JVM word splitter when its class is on Spark's class path; the splitter to use.

    ``jvm`` when ``JVM_WORDS_CLASS`` (``sparklab/job/jvm/Words.java``, shipped in ``spark.jars``)
    loads: Spark's ``lower`` and the split in one pass, the same words as the expression after
    ``lower``, without its engine on every row. ``regex`` when it does not (no jar given), or when
    Spark's ICU case mappings are turned off (``spark.sql.icu.caseMappings.enabled``: the class
    lowercases as ``lower`` does with them on): ``lower``, then the expression, evaluated by
    Spark's ``regexp_extract_all``.
    """
    from pyspark.sql.types import ArrayType, StringType

    if str(spark.conf.get(ICU_CASE_MAPPINGS, "true")).lower() != "true":
        return "regex"
    try:
        spark.udf.registerJavaFunction(JVM_WORDS_FUNCTION, JVM_WORDS_CLASS, ArrayType(StringType()))
    except Exception:  # noqa: BLE001 - Spark reports a missing class as an AnalysisException
        return "regex"
    return "jvm"


def words_column(text: Column | str, splitter: str = "regex") -> Column:
    """Array of the words of a string column, evaluated in the JVM (same rule as Python).

    ``splitter`` is what :func:`use_jvm_splitter` returned; both give the same words.
    """
    from pyspark.sql import functions as F

    column = F.col(text) if isinstance(text, str) else text
    if splitter == "jvm":  # lowercases as Spark's lower() does and splits, in one pass
        return F.call_function(JVM_WORDS_FUNCTION, column)
    return F.regexp_extract_all(F.lower(column), F.lit(JAVA_WORD_PATTERN), 0)


def count_words(lines: DataFrame, text_column: str = "value", splitter: str = "regex") -> DataFrame:
    """Word counts (columns ``word``, ``count``) of a DataFrame of text."""
    from pyspark.sql import functions as F

    words = lines.select(F.explode(words_column(text_column, splitter)).alias("word"))
    return words.groupBy("word").agg(F.count(F.lit(1)).alias("count"))


# --------------------------------------------------------------------------- inputs over HTTP
@dataclass(frozen=True)
class Chunk:
    """A byte range [start, end) of one object; ``end`` None means read to the end."""

    url: str
    start: int
    end: int | None


def _is_url(spec: str) -> bool:
    return spec.startswith(("https://", "http://"))


def probe_size(url: str, timeout: float = HTTP_TIMEOUT_SECONDS) -> tuple[int | None, bool]:
    """Return (size in bytes or None, whether byte ranges work) with a one-byte GET."""
    request = urllib.request.Request(url, headers={"Range": "bytes=0-0"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
            if response.status == 206:
                total = response.headers.get("Content-Range", "").rpartition("/")[2]
                return (int(total), True) if total.isdigit() else (None, False)
            length = response.headers.get("Content-Length")
            return (int(length) if length and length.isdigit() else None), False
    except urllib.error.HTTPError as err:
        if err.code == 416:  # an empty object has no byte 0
            return 0, True
        raise


def plan_chunks(url: str, size: int | None, ranges: bool, chunk_bytes: int) -> list[Chunk]:
    """Split one object into byte ranges that executors read independently."""
    if size == 0:
        return []
    if not ranges or size is None or size <= chunk_bytes:
        return [Chunk(url, 0, None)]
    return [Chunk(url, start, min(start + chunk_bytes, size)) for start in range(0, size, chunk_bytes)]


def _count_line_ends(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def read_chunk(chunk: Chunk, timeout: float = HTTP_TIMEOUT_SECONDS) -> Iterator[tuple[str, int, int]]:
    """Yield (text, lines, bytes) blocks of the lines that start inside ``chunk``.

    Like Hadoop's line reader: a range that does not start at 0 skips the partial line it begins
    in (the previous range finishes it), and the last line that starts inside the range is read
    to its end even past the range. Blocks end after a newline, so no word is cut in two.
    """
    first = max(chunk.start - 1, 0)
    headers = {"Range": f"bytes={first}-"} if first else {}
    request = urllib.request.Request(chunk.url, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
        if first and response.status != 206:
            raise OSError(f"server ignored the byte range of {chunk.start}: cannot split this input")
        pos = first  # absolute offset of buffer[0]
        buffer = b""
        skipping = chunk.start > 0
        while True:
            block = response.read(READ_BLOCK_BYTES)
            buffer += block
            if skipping:
                newline = buffer.find(b"\n")
                if newline < 0:
                    if not block:
                        return
                    pos += len(buffer)
                    buffer = b""
                    continue
                pos += newline + 1
                buffer = buffer[newline + 1 :]
                skipping = False
            if chunk.end is not None and pos >= chunk.end:
                return
            if not block:  # end of object: the rest is the last line
                if buffer:
                    text = buffer.decode("utf-8", errors="replace")
                    unterminated = 0 if buffer.endswith((b"\n", b"\r")) else 1
                    yield text, _count_line_ends(text) + unterminated, len(buffer)
                return
            cut = buffer.rfind(b"\n")
            if cut < 0:
                continue
            if chunk.end is not None and pos + cut + 1 >= chunk.end:
                cut = buffer.find(b"\n", chunk.end - 1 - pos)
                segment = buffer[: cut + 1]
                text = segment.decode("utf-8", errors="replace")
                yield text, _count_line_ends(text), len(segment)
                return
            segment, buffer = buffer[: cut + 1], buffer[cut + 1 :]
            pos += len(segment)
            text = segment.decode("utf-8", errors="replace")
            yield text, _count_line_ends(text), len(segment)


def _read_chunks(chunks: Iterable[Chunk]) -> Iterator[tuple[str, int, int]]:
    for chunk in chunks:
        yield from read_chunk(chunk)


# --------------------------------------------------------------------------- input DataFrames
_SCHEMA = "value string, lines long, bytes long"


def url_lines(spark: SparkSession, urls: Sequence[str], chunk_bytes: int) -> tuple[DataFrame, int]:
    """DataFrame of text blocks read from URLs by the executors; also the number of ranges."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(16, len(urls))) as pool:  # sizes of many objects at once
        probes = list(pool.map(probe_size, urls))
    chunks: list[Chunk] = []
    for url, (size, ranges) in zip(urls, probes, strict=True):
        chunks.extend(plan_chunks(url, size, ranges, chunk_bytes))
    if not chunks:
        return spark.createDataFrame([], _SCHEMA), 0
    rdd = spark.sparkContext.parallelize(chunks, len(chunks)).mapPartitions(_read_chunks)
    return spark.createDataFrame(rdd, _SCHEMA), len(chunks)


def path_lines(spark: SparkSession, paths: Sequence[str]) -> tuple[DataFrame, int]:
    """DataFrame of the lines of files read by Spark's text source; also their total size."""
    from pyspark.sql import functions as F

    jvm = spark.sparkContext._jvm  # noqa: SLF001 - Hadoop FileSystem has no Python API
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # noqa: SLF001
    size = 0
    for spec in paths:
        path = jvm.org.apache.hadoop.fs.Path(spec)
        fs = path.getFileSystem(conf)
        for status in fs.globStatus(path) or []:
            size += fs.getContentSummary(status.getPath()).getLength()
    frame = spark.read.text(list(paths)).select("value", F.lit(1).cast("long").alias("lines"),
                                                F.lit(0).cast("long").alias("bytes"))
    return frame, size


def expected_word_length(vocabulary: int) -> float:
    """Mean length of a generated word: 2 letters per hexadecimal digit of its rank."""
    log_total = math.log(vocabulary + 1)
    mean, digits = 0.0, 1
    while 16 ** (digits - 1) <= vocabulary:
        low, high = 16 ** (digits - 1), min(16**digits, vocabulary + 1)
        mean += 2 * digits * (math.log(high) - math.log(low)) / log_total
        digits += 1
    return mean


def generated_lines(spark: SparkSession, size_bytes: int, seed: int = 7,
                    vocabulary: int = DEFAULT_VOCABULARY, partitions: int | None = None) -> DataFrame:
    """A synthetic Zipf corpus of about ``size_bytes``, generated in the JVM (deterministic)."""
    from pyspark.sql import functions as F

    line_bytes = GENERATED_WORDS_PER_LINE * (expected_word_length(vocabulary) + 1) + 1
    line_count = max(1, round(size_bytes / line_bytes))
    if partitions is None:
        parallelism = spark.sparkContext.defaultParallelism
        partitions = max(parallelism, math.ceil(size_bytes / GENERATED_PARTITION_BYTES))
    syllables = F.array(*[F.lit(s) for s in SYLLABLES])
    log_vocab = math.log(vocabulary + 1)
    mask = (1 << 53) - 1

    def word(i: Column) -> Column:
        unit = (F.xxhash64(F.lit(seed), F.col("id"), i).bitwiseAND(F.lit(mask)) / float(1 << 53))
        rank = F.least(F.floor(F.exp(unit * log_vocab)), F.lit(vocabulary))
        digits = F.split(F.hex(rank), "")
        return F.array_join(F.transform(digits, lambda d: F.element_at(
            syllables, F.conv(d, 16, 10).cast("int") + 1)), "")

    words = F.transform(F.sequence(F.lit(0), F.lit(GENERATED_WORDS_PER_LINE - 1)), word)
    text = F.array_join(words, " ")
    line = F.concat(F.upper(F.substring(text, 1, 1)), F.substring(text, 2, 1 << 30), F.lit("."))
    frame = spark.range(0, line_count, numPartitions=partitions).select(line.alias("value"))
    return frame.select("value", F.lit(1).cast("long").alias("lines"),
                        (F.octet_length("value") + 1).cast("long").alias("bytes"))


# --------------------------------------------------------------------------- outputs
def _put_part(index: int, rows: Iterable[Any], urls: Sequence[str]) -> Iterator[tuple[int, int, int]]:
    lines = ["word,count"] + [f"{row[0]},{row[1]}" for row in rows]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    request = urllib.request.Request(urls[index], data=body, method="PUT",
                                     headers={"Content-Type": "text/csv", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
        response.read()
    yield index, len(lines) - 1, len(body)


def upload_counts(counts: DataFrame, urls: Sequence[str]) -> list[tuple[int, int, int]]:
    """Write the counts as CSV parts, one per presigned PUT URL, from the executors."""
    from pyspark.sql import functions as F

    parts = counts.repartition(len(urls), F.col("word")).rdd
    url_list = list(urls)
    return parts.mapPartitionsWithIndex(lambda i, rows: _put_part(i, rows, url_list)).collect()


def top_of_parts(spark: SparkSession, folder: str, top: int) -> list[tuple[str, int]]:
    """The top ``top`` (word, count) of a CSV folder whose every part is sorted by count, then word.

    Only the header and the first ``top`` rows of each part are read (Hadoop's file system API, so
    any Spark path works). Words hold letters, marks and numbers only, so no field is quoted.
    """
    jvm = spark.sparkContext._jvm  # noqa: SLF001 - Hadoop FileSystem has no Python API
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # noqa: SLF001
    pattern = jvm.org.apache.hadoop.fs.Path(folder.rstrip("/") + "/part-*")
    fs = pattern.getFileSystem(conf)
    rows: list[tuple[str, int]] = []
    for status in fs.globStatus(pattern) or []:
        stream = fs.open(status.getPath())
        try:
            reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, "UTF-8"))
            lines = [reader.readLine() for _row in range(top + 1)]
        finally:
            stream.close()
        for line in lines[1:]:  # after the header
            if line:
                word, _comma, count = line.rpartition(",")
                rows.append((word, int(count)))
    return sorted(rows, key=lambda row: (-row[1], row[0]))[:top]


def warm_up_case_mapping(conf: Any = None) -> threading.Thread | None:
    """Set up Spark's case mapping in the JVM while the session starts; returns the thread doing it.

    Spark's ``lower`` goes through its collation support and ICU, whose first use in a JVM costs
    about a second (a one-row job's first task took 1.3 s, 0.3 s with ICU case mapping turned
    off). Called before the session is created, with the ``SparkConf`` that launches the JVM when
    none runs yet (under ``spark-submit`` it already runs): the set-up then overlaps the session's
    own start on another core. In local mode the tasks run in that same JVM. The word splitter's
    case tables (``sparklab/job/jvm/Words.java``) are made there too when its class loads. A failure
    here only loses the head start.
    """
    from pyspark import SparkContext

    try:
        SparkContext._ensure_initialized(conf=conf)  # noqa: SLF001 - the JVM, before the session
    except Exception:  # noqa: BLE001 - the session reports any real problem itself
        return None
    thread = threading.Thread(target=_set_up_case_mapping, args=(SparkContext._jvm,), daemon=True)  # noqa: SLF001
    thread.start()
    return thread


def _set_up_case_mapping(jvm: Any) -> None:
    with contextlib.suppress(Exception):
        util = jvm.org.apache.spark.sql.catalyst.util
        util.CollationFactory.fetchCollation(0)
        text = jvm.org.apache.spark.unsafe.types.UTF8String.fromString("\u00c4\u00df\u0130 A")
        util.CollationAwareUTF8String.toLowerCase(text)
    with contextlib.suppress(Exception):  # the word splitter's case tables, when its jar is given
        functools.reduce(getattr, JVM_WORDS_CLASS.split("."), jvm)().call("\u00c4\u00df\u0130 A")


# --------------------------------------------------------------------------- the job
@dataclass
class JobConfig:
    inputs: list[str] = field(default_factory=list)
    generate_bytes: int = 0
    seed: int = 7
    vocabulary: int = DEFAULT_VOCABULARY
    top: int = DEFAULT_TOP
    chunk_bytes: int = DEFAULT_CHUNK_MIB << 20
    output_urls: list[str] = field(default_factory=list)
    output_dir: str = ""


def source_frame(spark: SparkSession, config: JobConfig) -> tuple[DataFrame, int, int]:
    """Union of all inputs as (value, lines, bytes) rows; also bytes known up front and splits."""
    frames: list[DataFrame] = []
    known_bytes, splits = 0, 0
    urls = [spec for spec in config.inputs if _is_url(spec)]
    paths = [spec for spec in config.inputs if not _is_url(spec)]
    if urls:
        frame, count = url_lines(spark, urls, config.chunk_bytes)
        frames.append(frame)
        splits += count
    if paths:
        frame, size = path_lines(spark, paths)
        frames.append(frame)
        known_bytes += size
    if config.generate_bytes:
        frames.append(generated_lines(spark, config.generate_bytes, config.seed, config.vocabulary))
    if not frames:
        raise ValueError("no input: give --input URL/PATH (repeatable) or --generate SIZE")
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    return union, known_bytes, splits


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def size_shuffle(spark: SparkSession) -> int:
    """Partitions of the one shuffle (the words' partial counts): one per core of the job.

    Spark's default of 200 makes hundreds of tiny tasks for counts that are a few MB after the
    map side has counted; a value given at submission (``--conf``) is kept.
    """
    key = "spark.sql.shuffle.partitions"
    if not spark.sparkContext.getConf().contains(key):
        spark.conf.set(key, str(max(1, spark.sparkContext.defaultParallelism)))
    return int(spark.conf.get(key) or 1)


def run(spark: SparkSession, config: JobConfig) -> dict[str, Any]:
    """Count the words of every input in one pass; write the CSV; return the result record.

    One job reads the input, counts (one shuffle, sized by :func:`size_shuffle`), observes the
    totals on the way (``observe``, no job of their own) and takes the top N; when there is an
    output, it also keeps the counts, so the job that writes the CSV never reads the input again.
    """
    from pyspark import StorageLevel
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    started = time.time()
    size_shuffle(spark)
    source, known_bytes, splits = source_frame(spark, config)
    observation = Observation("sparklab_input")
    observed = source.observe(observation, F.sum("lines").alias("lines"), F.sum("bytes").alias("bytes"))
    splitter = use_jvm_splitter(spark)
    counts = count_words(observed, splitter=splitter)
    totals = Observation("sparklab_counts")
    sums = (F.count(F.lit(1)).alias("distinct"), F.sum("count").alias("words"))
    ordered = (F.desc("count"), F.asc("word"))
    output: dict[str, Any] = {"kind": "none"}
    if config.output_dir and not config.output_urls:
        # The one job: count, observe the totals, write every part sorted; the top N is then among
        # the first N rows of the parts.
        counts.observe(totals, *sums).sortWithinPartitions(*ordered).write.mode("overwrite") \
            .option("header", True).csv(config.output_dir)
        top = top_of_parts(spark, config.output_dir, config.top)
        output = {"kind": "dir", "path": config.output_dir}
    else:
        if config.output_urls:  # kept, so the upload job does not read the input again
            counts = counts.persist(StorageLevel.MEMORY_AND_DISK)
        # The one job over the input: count, observe the totals, take the top N.
        rows = counts.observe(totals, *sums).orderBy(*ordered).limit(config.top).collect()
        top = [(row["word"], int(row["count"])) for row in rows]
        if config.output_urls:
            parts = upload_counts(counts, config.output_urls)
            output = {"kind": "urls", "parts": len(parts), "rows": sum(p[1] for p in parts)}
            counts.unpersist()
    distinct, words = int(totals.get.get("distinct") or 0), int(totals.get.get("words") or 0)
    metrics = observation.get
    finished = time.time()
    return {
        "version": RESULT_VERSION,
        "top": [[word, count] for word, count in top],
        "lines": int(metrics.get("lines") or 0),
        "words": words,
        "distinct_words": distinct,
        "bytes": int(metrics.get("bytes") or 0) + known_bytes,
        "inputs": len(config.inputs) + (1 if config.generate_bytes else 0),
        "splits": splits,
        "word_splitter": splitter,
        "started_at": _utc(started),
        "finished_at": _utc(finished),
        "elapsed_seconds": round(finished - started, 3),
        "output": output,
    }


def result_line(result: dict[str, Any]) -> str:
    """The one driver-log line the runner parses."""
    return f"{RESULT_PREFIX} {json.dumps(result, ensure_ascii=True, sort_keys=True)}"


def read_urls_file(path: str) -> tuple[list[str], list[str]]:
    """Input and output URLs from a JSON file; errors name the file, never a URL."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read the URL file {path}: {type(err).__name__}") from None
    found: list[list[str]] = []
    for key in ("input_urls", "output_urls"):
        urls = data.get(key, []) if isinstance(data, dict) else None
        if not isinstance(urls, list) or not all(isinstance(u, str) and _is_url(u) for u in urls):
            raise ValueError(f"{path}: {key} must be a list of http(s) URLs")
        found.append(list(urls))
    return found[0], found[1]


def parse_args(argv: Sequence[str] | None = None) -> JobConfig:
    parser = argparse.ArgumentParser(prog="wordcount_app.py", description="sparklab WordCount")
    parser.add_argument("--input", action="append", default=[], metavar="URL_OR_PATH",
                        help="http(s) URL or Spark path; repeat for several inputs")
    parser.add_argument("--generate", default="", metavar="SIZE", help="synthetic Zipf corpus, e.g. 2GiB")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--vocabulary", type=int, default=DEFAULT_VOCABULARY)
    parser.add_argument("--top", type=int, default=DEFAULT_TOP)
    parser.add_argument("--chunk-mib", type=int, default=DEFAULT_CHUNK_MIB,
                        help="byte range each executor task reads from a URL")
    parser.add_argument("--output-url", action="append", default=[], metavar="URL",
                        help="presigned PUT URL for one CSV part; repeat for more parts")
    parser.add_argument("--output-dir", default="", metavar="PATH", help="Spark path for the CSV")
    parser.add_argument("--urls-file", default="", metavar="FILE",
                        help='JSON {"input_urls": [...], "output_urls": [...]} added to the options')
    args = parser.parse_args(argv)
    try:
        generate = parse_size(args.generate) if args.generate else 0
        file_inputs, file_outputs = read_urls_file(args.urls_file) if args.urls_file else ([], [])
    except ValueError as err:
        parser.error(str(err))
    args.input += file_inputs
    args.output_url += file_outputs
    if not args.input and not generate:
        parser.error("no input: give --input URL/PATH (repeatable) or --generate SIZE")
    return JobConfig(inputs=list(args.input), generate_bytes=generate, seed=args.seed,
                     vocabulary=args.vocabulary, top=args.top, chunk_bytes=max(1, args.chunk_mib) << 20,
                     output_urls=list(args.output_url), output_dir=args.output_dir)


def prefer_compiled_pyspark(path: list[str], spark_home: str | None) -> list[str]:
    """``sys.path`` with Spark's zipped Python last when the same pyspark is installed as a package.

    ``spark-submit`` puts ``$SPARK_HOME/python/lib/pyspark.zip`` and py4j's zip first on the path.
    Python keeps no compiled code for modules it imports from a zip, so every start compiles pyspark
    again: 0.68 s, against 0.19 s from pip's package folder with its ``.pyc`` files (2 cores). With
    pip's pyspark, ``SPARK_HOME`` is that package folder and the zip holds the same release of it, so
    importing from the folder changes only the time. Any other layout (a Spark distribution, the
    ``apache/spark`` image) is left as it is.
    """
    if not spark_home:
        return path
    home = Path(spark_home).resolve()
    entries = {os.path.realpath(entry) for entry in path if entry}
    if not (home / "__init__.py").is_file() or str(home.parent) not in entries:
        return path
    zipped = [entry for entry in path if entry.endswith(".zip")
              and Path(os.path.realpath(entry)).parent == home / "python" / "lib"]
    return [entry for entry in path if entry not in zipped] + zipped


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    sys.path[:] = prefer_compiled_pyspark(sys.path, os.environ.get("SPARK_HOME"))
    from pyspark.sql import SparkSession

    warm_up_case_mapping()
    spark = SparkSession.builder.appName("sparklab-wordcount").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try:
        result = run(spark, config)
    except Exception as err:  # report the cause in the form the runner parses, then fail
        print(f"{ERROR_PREFIX} {json.dumps({'error': f'{type(err).__name__}: {err}'[:2000]})}", flush=True)
        raise
    finally:
        spark.stop()
    print(result_line(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
