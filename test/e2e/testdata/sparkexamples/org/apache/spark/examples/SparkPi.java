package org.apache.spark.examples;

import java.util.ArrayList;
import java.util.List;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Estimates pi by throwing random darts at the unit square, spread over the executors, and prints
 * "Pi is roughly ...". Written for the project's end-to-end test: the Spark examples jar is not on
 * Maven Central, so hack/spark-examples-jar.sh compiles this class (same name and arguments as
 * Spark's own example: the number of slices, default 2) into a stand-in spark-examples.jar.
 */
public final class SparkPi {
  public static void main(String[] args) {
    SparkSession spark = SparkSession.builder().appName("Spark Pi").getOrCreate();
    JavaSparkContext jsc = new JavaSparkContext(spark.sparkContext());
    int slices = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    List<Integer> ids = new ArrayList<>(slices);
    for (int i = 0; i < slices; i++) {
      ids.add(i);
    }
    // Each slice (task) throws DARTS darts with its own generator, as Spark's example does with a
    // range of 100000 x slices elements, without materialising that range on the driver.
    long inside = jsc.parallelize(ids, slices).map(id -> {
      java.util.SplittableRandom random = new java.util.SplittableRandom(System.nanoTime() ^ ((long) id << 32));
      long hits = 0;
      for (int i = 0; i < DARTS; i++) {
        double x = random.nextDouble() * 2 - 1;
        double y = random.nextDouble() * 2 - 1;
        if (x * x + y * y <= 1) {
          hits++;
        }
      }
      return hits;
    }).reduce(Long::sum);
    System.out.println("Pi is roughly " + 4.0 * inside / ((long) DARTS * slices));
    spark.stop();
  }

  private static final int DARTS = 100000;
}
