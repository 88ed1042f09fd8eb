"""A Spark Connect client query for the SparkConnect end-to-end test (test/e2e/sparkconnect_test.go).

Usage: python query.py sc://HOST:15002 ROWS PARTITIONS

Connects with PySpark's Connect client, counts ROWS ids by id % 10 over PARTITIONS partitions, and
prints one line "counts {k: n, ...}" for the test to check.
"""
import sys

from pyspark.sql import SparkSession
from pyspark.sql.functions import col

url, rows, partitions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
spark = SparkSession.builder.remote(url).getOrCreate()
df = spark.range(0, rows, 1, partitions).groupBy((col("id") % 10).alias("k")).count().orderBy("k")
counts = {r["k"]: r["count"] for r in df.collect()}
print("counts", counts, flush=True)
spark.stop()
