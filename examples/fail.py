"""A job that fails on purpose: it finds a bad record with Spark, then raises in the driver.

    python3 runner.py submit examples/fail.py --local
runner.py ends with the traceback's last line (``ValueError: record 3 is bad on purpose``) and
exit status 1; the full traceback is in the run folder's driver.log.
"""

from pyspark.sql import SparkSession


def main() -> None:
    spark = SparkSession.builder.appName("fail").getOrCreate()
    bad = spark.sparkContext.parallelize(range(5), 2).filter(lambda value: value == 3).collect()
    if bad:
        raise ValueError(f"record {bad[0]} is bad on purpose")


if __name__ == "__main__":
    main()
