package dev.bandlimit.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** One local[2] session for the Spark tests, and the seeded synthetic images as Datasets. */
final class SparkTestSupport {
    private static SparkSession session;

    private SparkTestSupport() {}

    static synchronized SparkSession session() {
        if (session == null || session.sparkContext().isStopped()) {
            session = SparkSession.builder().master("local[2]").appName("bandlimit-spark-tests")
                    .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .getOrCreate();
            session.sparkContext().setLogLevel("WARN");
        }
        return session;
    }

    /** Stops the session; the next {@link #session()} starts a new application. */
    static synchronized void restart() {
        if (session != null) session.stop();
        session = null;
    }

    static SyntheticImages images(int n, long[] shape, int classes, long seed) {
        return SyntheticImages.generate(n, shape, classes, seed);
    }

    static byte[] bytes(float[] v) {
        return SyntheticImages.bytes(v);
    }

    static Dataset<Row> frame(SyntheticImages images) {
        return images.toDataFrame(session());
    }
}
