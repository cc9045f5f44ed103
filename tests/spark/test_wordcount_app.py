"""The WordCount application under local pyspark equals the plain-Python word rule."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import independent_reference
import pytest
from pyspark.sql import functions as F
from wordcount_corpus import HANDWRITTEN, HANDWRITTEN_COUNTS_BY_HAND, REPO

from sparklab.job import runs as jobs
from sparklab.job import wordcount_app as app

pytestmark = pytest.mark.slow


def expected_lines(text: str) -> int:
    ends = text.count("\n") + text.count("\r") - text.count("\r\n")
    return ends + (0 if text.endswith(("\n", "\r")) or not text else 1)


def spark_counts(spark, config: app.JobConfig) -> tuple[dict, dict[str, int]]:
    result = app.run(spark, config)
    return result, dict(result["top"])


def test_reference_rule_splits_on_apostrophes_underscores_and_keeps_accents_and_digits():
    assert app.reference_words("L'ÉTÉ snake_case don't Cafe\u0301 x²y 12,50 नमस्ते") == [
        "l",
        "été",
        "snake",
        "case",
        "don",
        "t",
        "cafe\u0301",
        "x²y",
        "12",
        "50",
        "नमस्ते",
    ]


def test_application_rule_and_independent_reference_agree_with_the_counts_made_by_hand():
    """Both plain-Python counters (the application's and the one in tests/) give the hand count."""
    lines = HANDWRITTEN.splitlines()
    assert dict(independent_reference.counts(lines)) == HANDWRITTEN_COUNTS_BY_HAND
    assert dict(app.reference_counts(lines)) == HANDWRITTEN_COUNTS_BY_HAND


def test_handwritten_corpus_counts_in_spark_equal_the_counts_made_by_hand(spark, tmp_path):
    corpus = tmp_path / "handwritten.txt"
    corpus.write_bytes(HANDWRITTEN.encode("utf-8"))
    expected = HANDWRITTEN_COUNTS_BY_HAND
    out = tmp_path / "counts"
    result = app.run(spark, app.JobConfig(inputs=[str(corpus)], top=1000, output_dir=str(out)))
    assert dict(result["top"]) == expected
    assert result["words"] == sum(expected.values()) == 81
    assert result["distinct_words"] == len(expected) == 65
    assert result["lines"] == expected_lines(HANDWRITTEN) == 13
    assert result["bytes"] == len(HANDWRITTEN.encode("utf-8"))
    csv_rows = spark.read.option("header", True).csv(str(out)).collect()
    assert {r["word"]: int(r["count"]) for r in csv_rows} == expected


def test_generated_corpus_counts_equal_the_independent_reference_and_follow_zipf(spark):
    lines = app.generated_lines(spark, 300_000, seed=11, vocabulary=5000)
    text = [row["value"] for row in lines.select("value").collect()]
    reference = independent_reference.counts(text)
    result = app.run(spark, app.JobConfig(generate_bytes=300_000, seed=11, vocabulary=5000, top=100_000))
    assert dict(result["top"]) == dict(reference)
    assert result["lines"] == len(text)
    assert result["bytes"] == sum(len(line.encode("utf-8")) + 1 for line in text)
    assert abs(result["bytes"] - 300_000) < 300_000 * 0.05  # about the size asked for
    # Ranks 1..4 are spelt "lo", "mi", "ne", "su" (hexadecimal digits 1..4 as syllables) and are
    # drawn with probability log((r + 1) / r) / log(vocabulary + 1): counts fall with the rank,
    # and the first two stand in the ratio log 2 / log 1.5 = 1.71.
    by_rank = [reference[word] for word in ("lo", "mi", "ne", "su")]
    assert by_rank[0] > by_rank[1] > by_rank[2] > by_rank[3] > 500
    assert 1.71 * 0.85 < by_rank[0] / by_rank[1] < 1.71 * 1.15


# Characters each Unicode version added (unicode.org, "Unicode N.0.0" release pages), and the
# Unicode version of each Java release's Character database (JDK release notes).
UNICODE_ADDED = {(14, 0): 838, (15, 0): 4489, (15, 1): 627, (16, 0): 5185}
JAVA_UNICODE = {17: (13, 0), 19: (14, 0), 20: (15, 0), 21: (15, 0), 22: (15, 1), 24: (16, 0), 25: (16, 0)}


@pytest.mark.parametrize("splitter", ["regex", "jvm"])
def test_word_rule_in_the_jvm_equals_python_for_every_code_point_both_unicode_databases_know(spark, splitter):
    """Both splitters in the JVM (the regular expression, sparklab/job/jvm/Words.java) against Python."""
    if splitter == "jvm":
        assert app.use_jvm_splitter(spark) == "jvm"  # the session has the jar (conftest.py)
    universe = [
        chr(cp)
        for cp in range(app.MAX_UNICODE + 1)
        if unicodedata.category(chr(cp)) not in ("Cn", "Cs", "Co")
    ]
    probe = spark.createDataFrame([("".join(universe),)], "value string")
    unknown_to_jvm = set(probe.select(F.regexp_extract_all("value", F.lit(r"\p{Cn}"), 0)).first()[0])
    known = [c for c in universe if c not in unknown_to_jvm]
    # Python may know a newer Unicode than the JVM: exactly the characters added in between are
    # unknown to the JVM (Python 3.12: Unicode 15.0; Java 17: Unicode 13.0, so 838 + 4489).
    java = int(spark.sparkContext._jvm.System.getProperty("java.specification.version"))  # noqa: SLF001
    python_unicode = tuple(int(part) for part in unicodedata.unidata_version.split(".")[:2])
    newer = sum(n for version, n in UNICODE_ADDED.items() if JAVA_UNICODE[java] < version <= python_unicode)
    assert len(unknown_to_jvm) == newer
    assert len(known) > 140_000
    block = 500
    rows = [(i, " ".join(f"a{c}b" for c in known[i : i + block])) for i in range(0, len(known), block)]
    frame = spark.createDataFrame(rows, "i int, value string")
    jvm = dict(frame.select("i", F.array_join(app.words_column("value", splitter), "|")).collect())
    mismatched = [i for i, text in rows if jvm[i] != "|".join(app.reference_words(text))]
    assert mismatched == []


def test_job_uses_the_jvm_splitter_when_its_class_loads_and_the_expression_when_not(
    spark, tmp_path, monkeypatch
):
    """Same counts either way; the result says which splitter ran (no jar: the regular expression)."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(HANDWRITTEN * 5 + "\u00c9T\u00c9 \U0001d7d8\u0301x ma\u0303e\n", encoding="utf-8")
    with_jar = app.run(spark, app.JobConfig(inputs=[str(corpus)], top=100_000))
    monkeypatch.setattr(app, "JVM_WORDS_CLASS", "sparklab.wordcount.NotShipped")
    without = app.run(spark, app.JobConfig(inputs=[str(corpus)], top=100_000))
    assert (with_jar["word_splitter"], without["word_splitter"]) == ("jvm", "regex")
    assert with_jar["top"] == without["top"]
    assert dict(with_jar["top"]) == dict(independent_reference.counts([corpus.read_text(encoding="utf-8")]))


def test_url_inputs_are_read_in_byte_ranges_and_count_like_the_reference(spark, file_server):
    first = HANDWRITTEN * 20
    second = "".join(f"Line {i} of the SECOND file, it's here\r\n" for i in range(400)) + "tail"
    file_server.files.update({"a.txt": first.encode(), "b.txt": second.encode(), "empty.txt": b""})
    base = f"http://127.0.0.1:{file_server.server_port}"
    urls = [f"{base}/a.txt?X-Amz-Signature=x", f"{base}/b.txt", f"{base}/empty.txt"]
    result = app.run(spark, app.JobConfig(inputs=urls, top=100_000, chunk_bytes=2999))
    reference = independent_reference.counts([first, second])
    assert dict(result["top"]) == dict(reference)
    assert result["lines"] == expected_lines(first) + expected_lines(second)
    assert result["bytes"] == len(first.encode()) + len(second.encode())
    size = len(first.encode()) + len(second.encode())
    assert result["splits"] == -(-len(first.encode()) // 2999) + -(-len(second.encode()) // 2999)
    assert result["splits"] > size // 2999 - 2
    ranged = [r for r in file_server.requests if r[1] and r[1] != "bytes=0-0"]
    assert len(ranged) >= result["splits"] - 2


def test_url_input_without_range_support_is_read_whole(spark, file_server):
    file_server.ranges = False
    file_server.files["c.txt"] = HANDWRITTEN.encode()
    url = f"http://127.0.0.1:{file_server.server_port}/c.txt"
    result = app.run(spark, app.JobConfig(inputs=[url], top=1000, chunk_bytes=100))
    assert result["splits"] == 1
    assert dict(result["top"]) == dict(independent_reference.counts([HANDWRITTEN]))


def test_local_file_goes_through_the_bucket_and_counts_come_back_as_csv(spark, tmp_path, monkeypatch):
    from sparklab.cluster.emulator import Emulator

    with Emulator(regions=("eu-west-1",)) as emulator:
        for key, value in emulator.client_env().items():
            monkeypatch.setenv(key, value)
        s3 = jobs.make_s3_client("eu-west-1")
        bucket = jobs.bucket_name("lab", "123456789012", "eu-west-1")
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        corpus = tmp_path / "corpus.txt"
        corpus.write_text(HANDWRITTEN * 5, encoding="utf-8")
        run_id = jobs.new_run_id()
        prepared = jobs.prepare_inputs(
            [str(corpus)], s3_client=s3, bucket=bucket, owner="123456789012", run_id=run_id, expiry=600,
            output_parts=3,
        )
        assert prepared.input_urls[0].startswith(emulator.endpoint_url)
        assert all("?" not in source for source in prepared.sources)
        result = app.run(
            spark,
            app.JobConfig(
                inputs=prepared.input_urls, output_urls=prepared.output_urls, chunk_bytes=1500, top=5
            ),
        )
        assert result["output"] == {"kind": "urls", "parts": 3, "rows": result["distinct_words"]}
        rows = jobs.collect_counts(s3, bucket, prepared.output_keys, tmp_path / "counts.csv", "123456789012")
    reference = independent_reference.counts([HANDWRITTEN * 5])
    assert rows == len(reference)
    lines = (tmp_path / "counts.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "word,count"
    assert {w: int(c) for w, c in (line.rsplit(",", 1) for line in lines[1:])} == dict(reference)
    assert [line.rsplit(",", 1)[0] for line in lines[1:6]] == [w for w, _ in result["top"]]


def test_shipped_file_runs_alone_and_logs_the_result_line(tmp_path, words_jar):
    """The ConfigMap copy imports nothing from sparklab: run it from an empty folder, with the word
    splitter's jar in ``--jars`` as the cluster's SparkApplication gives it (``spark.jars``)."""
    script = tmp_path / "wordcount_app.py"
    shutil.copy(REPO / "roles" / "spark_wordcount" / "files" / "wordcount_app.py", script)
    import pyspark

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        SPARK_HOME=str(Path(pyspark.__file__).parent),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
    )
    spark_submit = Path(sys.executable).parent / "spark-submit"
    proc = subprocess.run(
        [
            str(spark_submit),
            "--master",
            "local[2]",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.sql.shuffle.partitions=2",
            "--conf",
            "spark.ui.showConsoleProgress=false",
            "--jars",
            str(words_jar),
            str(script),
            "--generate=50KB",
            "--top=3",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # a JVM start and a small job; generous for a busy machine
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = jobs.parse_driver_log(proc.stdout)
    assert len(result.top) == 3 and result.words > 5000 and result.bytes > 45_000
    assert result.word_splitter == "jvm"


def test_urls_file_adds_inputs_and_outputs_and_errors_never_show_a_url(tmp_path):
    urls = tmp_path / "urls.json"
    urls.write_text(json.dumps({"input_urls": ["https://h/a?X-Amz-Signature=s1"], "output_urls": ["https://h/p0"]}))
    config = app.parse_args(["--urls-file", str(urls), "--input", "/data/b.txt", "--top", "3"])
    assert config.inputs == ["/data/b.txt", "https://h/a?X-Amz-Signature=s1"]
    assert config.output_urls == ["https://h/p0"] and config.top == 3
    urls.write_text(json.dumps({"input_urls": ["s3://b/k?X-Amz-Signature=s2"]}))
    with pytest.raises(ValueError, match="input_urls must be a list of http") as err:
        app.read_urls_file(str(urls))
    assert "s2" not in str(err.value)
    with pytest.raises(ValueError, match="cannot read the URL file"):
        app.read_urls_file(str(tmp_path / "missing.json"))


@pytest.mark.parametrize("top", [1, 4, 9, 500])
def test_top_n_from_the_written_parts_equals_a_global_sort_ties_included(spark, tmp_path, top):
    """With a CSV folder the job writes sorted parts and takes the top N from their first rows.

    Counts tie across parts (the order among equal counts is by word), and N crosses the tie groups
    and exceeds the number of distinct words.
    """
    counts = {f"w{i:02d}": 1 + i // 3 for i in range(40)}  # 3 words share each count
    corpus = tmp_path / "ties.txt"
    corpus.write_text("".join(f"{word} " * count + "\n" for word, count in counts.items()), encoding="utf-8")
    out = tmp_path / "counts"
    key = "spark.sql.adaptive.coalescePartitions.enabled"  # else 40 words end in one part
    spark.conf.set(key, "false")
    try:
        result = app.run(spark, app.JobConfig(inputs=[str(corpus)], top=top, output_dir=str(out)))
    finally:
        spark.conf.unset(key)
    assert len(list(out.glob("part-*"))) >= 2  # the top N really is merged from several parts
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    assert [tuple(pair) for pair in result["top"]] == expected
    assert result["distinct_words"] == len(counts) and result["words"] == sum(counts.values())


def test_case_mapping_warm_up_calls_what_spark_lower_calls_in_this_spark(spark):
    """The warm-up's thread ends, and the classes and methods it names exist in the pinned Spark.

    It swallows its own errors (it is only a head start), so a renamed class would go unnoticed
    but for this test, which makes the same calls without the guard.
    """
    thread = app.warm_up_case_mapping()
    assert thread is not None
    thread.join(timeout=60)
    assert not thread.is_alive()
    jvm = spark.sparkContext._jvm
    util = jvm.org.apache.spark.sql.catalyst.util
    from py4j.java_gateway import get_field

    assert get_field(util.CollationFactory.fetchCollation(0), "collationName") == "UTF8_BINARY"
    text = jvm.org.apache.spark.unsafe.types.UTF8String.fromString("\u00c4\u00df\u0130 A")
    assert util.CollationAwareUTF8String.toLowerCase(text).toString() == "\u00e4\u00dfi\u0307 a"
    assert spark.sql("SELECT lower('\u00c4\u00df\u0130 A') AS x").collect()[0]["x"] == "\u00e4\u00dfi\u0307 a"
    # The word splitter's class, reached from Python as the warm-up reaches it (its jar is given).
    words = functools.reduce(getattr, app.JVM_WORDS_CLASS.split("."), jvm)().call("\u00c4\u00df\u0130 A")
    assert list(words) == ["\u00e4\u00dfi\u0307", "a"]


def test_under_spark_submit_pyspark_is_imported_from_the_installed_package_not_its_zip(tmp_path):
    """spark-submit's path (zips first) is reordered for pip's pyspark only; a subprocess given the
    reordered path imports the compiled package, one given spark-submit's imports the zip."""
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    zips = sorted(str(z) for z in (home / "python" / "lib").glob("*.zip"))
    assert len(zips) == 2  # pyspark.zip and py4j's source zip, as spark-submit adds them
    site = str(home.parent)
    submitted = [str(tmp_path), *zips, "/usr/lib/python312.zip", site]
    reordered = app.prefer_compiled_pyspark(submitted, str(home))
    assert reordered == [str(tmp_path), "/usr/lib/python312.zip", site, *zips]

    probe = ("import sys; std = [p for p in sys.path if p and 'site-packages' not in p]; "
             "sys.path[:] = sys.argv[1].split('\\n') + std; import pyspark.sql; print(pyspark.__file__)")
    where = {name: subprocess.run([sys.executable, "-c", probe, "\n".join(path)], capture_output=True,
                                  text=True, check=True, timeout=120).stdout.strip()
             for name, path in (("submitted", submitted), ("reordered", reordered))}
    assert where["submitted"] == str(home / "python" / "lib" / "pyspark.zip" / "pyspark" / "__init__.py")
    assert where["reordered"] == str(home / "__init__.py")

    # A Spark distribution (no package folder) or no SPARK_HOME: the path is left alone.
    distribution = tmp_path / "spark-4.0.3-bin"
    (distribution / "python" / "lib").mkdir(parents=True)
    own = [str(distribution / "python" / "lib" / "pyspark.zip"), site]
    assert app.prefer_compiled_pyspark(own, str(distribution)) == own
    assert app.prefer_compiled_pyspark(submitted, None) == submitted
    assert app.prefer_compiled_pyspark([str(tmp_path), *zips], str(home)) == [str(tmp_path), *zips]
