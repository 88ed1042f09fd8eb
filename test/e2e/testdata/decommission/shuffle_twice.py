"""A batch job for the node-drain end-to-end test (test/e2e/decommission_test.go).

    shuffle_twice.py DIR

Job 0 runs a shuffle (4 map tasks over the executors) and caches an RDD, then the driver writes
DIR/ready (JSON: the pods whose Python workers ran map tasks) and waits for DIR/go, while the test
evicts one of those executors. Job 1 reads the same shuffle and cache again. Accumulators count
how many records the map function and the cached RDD's function computed in all: with the
evicted executor's shuffle and cached blocks migrated, job 1 computes none again.
"""
import json
import os
import socket
import sys
import time

from pyspark import AccumulatorParam
from pyspark.sql import SparkSession

RECORDS = 4000
directory = sys.argv[1]
spark = SparkSession.builder.appName("shuffle-twice").getOrCreate()
sc = spark.sparkContext


class SetParam(AccumulatorParam):
    def zero(self, value):
        return set()

    def addInPlace(self, a, b):
        a |= b
        return a


map_records = sc.accumulator(0)
cache_records = sc.accumulator(0)
map_hosts = sc.accumulator(set(), SetParam())


def mapper(records):
    map_hosts.add({socket.gethostname()})
    for x in records:
        map_records.add(1)
        yield (x % 40, x)


def doubler(x):
    cache_records.add(1)
    return 2 * x


sums = sc.parallelize(range(RECORDS), 4).mapPartitions(mapper).reduceByKey(lambda a, b: a + b, 4)
cached = sc.parallelize(range(RECORDS), 4).map(doubler).cache()
first = (sorted(sums.collect()), cached.sum())
print(f"shuffle_twice: job 0 done: {map_records.value} map records, {cache_records.value} cached records computed", flush=True)
with open(os.path.join(directory, "ready.tmp"), "w") as f:
    json.dump({"mapHosts": sorted(map_hosts.value)}, f)
os.rename(os.path.join(directory, "ready.tmp"), os.path.join(directory, "ready"))
while not os.path.exists(os.path.join(directory, "go")):
    time.sleep(0.2)
second = (sorted(sums.collect()), cached.sum())
if second != first:
    print("shuffle_twice: the second run's result differs", flush=True)
    sys.exit(2)
print(f"shuffle_twice: result {map_records.value} map records, {cache_records.value} cached records computed (of {RECORDS} each)", flush=True)
spark.stop()
