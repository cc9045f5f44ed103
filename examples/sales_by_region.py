"""Total sales per region from a CSV input, written as CSV into $SPARKLAB_OUTPUT.

    python3 runner.py submit examples/sales_by_region.py --input examples/sales.csv --local
Every --input is in $SPARKLAB_INPUT under its base name; what the job writes under
$SPARKLAB_OUTPUT comes back to the run folder's output/.
"""

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
    totals.coalesce(1).write.csv(os.path.join(os.environ["SPARKLAB_OUTPUT"], "by_region"), header=True)
    spark.stop()


if __name__ == "__main__":
    main()
