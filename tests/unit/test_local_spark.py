"""Which command lines need local Spark, and the one line that says what the first --local run installs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparklab.job.local import spark as local_spark

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("args", "expected"), [
    (["wordcount", "--local", "--generate", "100MB"], True),
    (["wordcount", "--generate", "1MB", "--local"], True),
    (["wordcount", "-c", "cluster.yml", "--generate", "1GB"], False),
    (["report", "--local"], False),  # the report draws with matplotlib, no Spark
    (["plan", "--local"], False),
    ([], False),
])
def test_only_wordcount_local_needs_local_spark(args, expected):
    assert local_spark.wanted(args) is expected


def test_the_line_names_the_locked_versions_the_size_and_the_virtualenv():
    line = local_spark.announcement(Path("/x/.venv"), REPO / local_spark.LOCK_FILE)
    assert line.startswith("first --local run: installing local Spark (pyspark 4.0.3 and py4j 0.10.9.9, "
                           "about ")
    assert line.endswith("MB download) into /x/.venv, once")


def test_the_local_lock_holds_exactly_the_modules_checked():
    text = (REPO / local_spark.LOCK_FILE).read_text()
    assert sorted(name for name in local_spark.MODULES) == sorted(
        line.split("==")[0] for line in text.splitlines() if "==" in line and not line.startswith((" ", "#")))
