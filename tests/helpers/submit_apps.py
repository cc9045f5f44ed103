"""A PySpark application that reports every ``submit`` convention at once, written into a test's folder.

The same application runs under ``submit --local`` (tests/spark/test_submit_local.py) and on the
stand-in cluster (tests/cluster/test_runner_submit.py): a folder input's tree under
``$SPARKLAB_INPUT``, a module from ``--py-files`` imported inside a task (a Python worker), a
``--conf`` value, the application's own arguments, and a file input when one is given; what it
found goes to ``$SPARKLAB_OUTPUT/found.json``.
"""

from __future__ import annotations

from pathlib import Path

APP = """\
import json, os, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
inputs = os.environ['SPARKLAB_INPUT']
lines = spark.sparkContext.textFile(inputs + '/data/2026/jan.txt')
def work(value):
    import helper
    return helper.triple(value)
words = inputs + '/words.txt'
found = {'sum': sum(lines.map(work).collect()), 'args': sys.argv[1:],
         'words': open(words).read() if os.path.exists(words) else None,
         'partitions': spark.conf.get('spark.sql.shuffle.partitions')}
with open(os.path.join(os.environ['SPARKLAB_OUTPUT'], 'found.json'), 'w') as out:
    json.dump(found, out)
"""
# What it finds with the folder below, ``--conf spark.sql.shuffle.partitions=3`` and ``-- --top 5``.
FOUND = {"sum": 21, "args": ["--top", "5"], "partitions": "3"}


def write_conventions_app(folder: Path) -> tuple[Path, Path, Path]:
    """The application, its input folder (``data/2026/jan.txt``: 3 and 4) and its ``--py-files`` module."""
    data = folder / "data"
    (data / "2026").mkdir(parents=True)
    (data / "2026" / "jan.txt").write_text("3\n4\n", encoding="utf-8")
    helper = folder / "helper.py"
    helper.write_text("def triple(value):\n    return 3 * int(value)\n", encoding="utf-8")
    app = folder / "conventions.py"
    app.write_text(APP, encoding="utf-8")
    return app, data, helper


def sales_totals(sales_csv: Path) -> dict[str, tuple[int, float]]:
    """Orders and total amount per region of examples/sales.csv, counted in plain Python: what
    examples/sales_by_region.py must write."""
    import csv
    from collections import defaultdict

    orders: dict[str, int] = defaultdict(int)
    totals: dict[str, float] = defaultdict(float)
    with sales_csv.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            orders[row["region"]] += 1
            totals[row["region"]] += float(row["amount"])
    return {region: (orders[region], round(totals[region], 2)) for region in orders}


def written_totals(by_region_csv: Path) -> dict[str, tuple[int, float]]:
    """What the application wrote (``by_region.csv``), in the same shape."""
    import csv

    with by_region_csv.open(encoding="utf-8") as handle:
        return {row["region"]: (int(row["orders"]), float(row["total"])) for row in csv.DictReader(handle)}
