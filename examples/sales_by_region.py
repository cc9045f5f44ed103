"""Total sales per region from a CSV input, written as CSV into $SPARKLAB_OUTPUT.

    python3 runner.py submit examples/sales_by_region.py --input examples/sales.csv --local
Every --input is in $SPARKLAB_INPUT under its base name; what the driver writes under
$SPARKLAB_OUTPUT comes back to the run folder's output/. The aggregate is small, so it is
collected to the driver and written there (Spark's own writers would write on each executor).
"""

import csv
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "sales.csv"
    source = os.path.join(os.environ["SPARKLAB_INPUT"], name)
    spark = SparkSession.builder.appName("sales-by-region").getOrCreate()
    sales = spark.read.csv(source, header=True, inferSchema=True)
    totals = (sales.groupBy("region")
              .agg(F.count("*").alias("orders"), F.round(F.sum("amount"), 2).alias("total"))
              .orderBy("region"))
    totals.show()
    with open(os.path.join(os.environ["SPARKLAB_OUTPUT"], "by_region.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["region", "orders", "total"])
        writer.writerows((row["region"], row["orders"], row["total"]) for row in totals.collect())
    spark.stop()


if __name__ == "__main__":
    main()
