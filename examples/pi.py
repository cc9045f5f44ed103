"""Estimate pi by throwing random points at a square (CPU only, no input, no output).

    python3 runner.py submit examples/pi.py --local -- 8
The argument is the number of partitions (default 4); each throws 200,000 points.
"""

import random
import sys
from operator import add

from pyspark.sql import SparkSession

POINTS_PER_PARTITION = 200_000


def inside(seed: int) -> int:
    rng = random.Random(seed)
    hits = 0
    for _ in range(POINTS_PER_PARTITION):
        x, y = rng.random() * 2 - 1, rng.random() * 2 - 1
        hits += x * x + y * y <= 1
    return hits


def main() -> None:
    partitions = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    spark = SparkSession.builder.appName("pi").getOrCreate()
    hits = spark.sparkContext.parallelize(range(partitions), partitions).map(inside).reduce(add)
    print(f"pi is roughly {4.0 * hits / (partitions * POINTS_PER_PARTITION):.4f}")
    spark.stop()


if __name__ == "__main__":
    main()
