package org.apache.spark.examples;

import java.util.Arrays;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Runs a small job on the executors, sleeps for the given seconds, then exits the driver JVM with
 * the given code: args are [exitCode] [sleepSeconds]. The end-to-end test uses it for a failing
 * application (non-zero code) and for one that is deleted while it runs (a long sleep).
 */
public final class SparkExit {
  public static void main(String[] args) throws InterruptedException {
    int code = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    long sleepSeconds = args.length > 1 ? Long.parseLong(args[1]) : 0;
    SparkSession spark = SparkSession.builder().appName("Spark Exit").getOrCreate();
    long sum = new JavaSparkContext(spark.sparkContext()).parallelize(Arrays.asList(1, 2, 3, 4), 2).count();
    System.out.println("SparkExit: counted " + sum + " elements; sleeping " + sleepSeconds + " s, then exiting with " + code);
    Thread.sleep(sleepSeconds * 1000);
    System.exit(code);
  }
}
