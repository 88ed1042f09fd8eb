"""A Structured Streaming query for the fault-tolerance end-to-end tests (test/e2e/streaming_test.go).

    exactly_once.py OUTPUT CHECKPOINT ROWS_PER_BATCH SLEEP_MS_PER_ROW TRIGGER_MS

The source is "rate-micro-batch": batch b holds the values [b*ROWS, (b+1)*ROWS), whatever the
wall-clock time, so that a batch replayed after a failure holds the same records. Each row sleeps
SLEEP_MS_PER_ROW in the executor (so that a batch lasts long enough to be interrupted). The sink is
files (JSON lines) with the checkpoint in CHECKPOINT: Spark's file sink commits a batch's files in
OUTPUT/_spark_metadata, so readers see each record once even when a batch ran twice.

Graceful stop: the driver's PID 1 is the JVM and this Python process its child, so SIGTERM (a pod
deletion) reaches the JVM only. The script replaces the JVM's SIGTERM handler (through Py4J's
callback server) with one that only sets a flag; the main loop then lets the batch in flight
commit, stops the query, and exits 0. Structured Streaming has no such
switch of its own: spark.streaming.stopGracefullyOnShutdown applies to DStreams only.
"""
import sys
import threading
import time

from pyspark.java_gateway import ensure_callback_server_started
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

output, checkpoint, rows, sleep_ms, trigger_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

spark = SparkSession.builder.appName("exactly-once").getOrCreate()
stop_requested = threading.Event()


class TermHandler:
    """A sun.misc.SignalHandler implemented in Python: SIGTERM asks for a graceful stop."""

    def handle(self, signal):
        print("exactly_once: SIGTERM: stopping after the batch in flight", flush=True)
        stop_requested.set()

    class Java:
        implements = ["sun.misc.SignalHandler"]


gateway = spark.sparkContext._gateway
ensure_callback_server_started(gateway)
jvm = spark.sparkContext._jvm
jvm.sun.misc.Signal.handle(jvm.sun.misc.Signal("TERM"), TermHandler())

records = (
    spark.readStream.format("rate-micro-batch")
    .option("rowsPerBatch", rows)
    .option("numPartitions", 2)
    .load()
    .select("value", F.expr(f"reflect('java.lang.Thread', 'sleep', cast({sleep_ms} as bigint))").alias("slept"))
)
query = (
    records.writeStream.format("json")
    .option("path", output)
    .option("checkpointLocation", checkpoint)
    .trigger(processingTime=f"{trigger_ms} milliseconds")
    .start()
)
print(f"exactly_once: query started, id {query.id}", flush=True)


def last_committed():
    progress = query.lastProgress  # posted once a batch has committed
    return progress["batchId"] if progress else -1


while query.isActive and not stop_requested.is_set():
    stop_requested.wait(0.2)
if query.isActive:
    # Let the batch in flight commit, then stop. When batches take longer than the trigger interval
    # the next one starts at once and query.stop() interrupts it: it stays planned, not committed,
    # and the next run replays it from the checkpoint (the sink's log keeps it exactly once).
    target = last_committed() + 1 if query.status["isTriggerActive"] else last_committed()
    while last_committed() < target and query.isActive:
        time.sleep(0.02)
    query.stop()
    print(f"exactly_once: stopped gracefully after batch {last_committed()}", flush=True)
    spark.stop()
    sys.exit(0)
query.awaitTermination()
