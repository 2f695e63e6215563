package dev.bandlimit.spark;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** One local[2] session for the Spark tests, and seeded synthetic image datasets. */
final class SparkTestSupport {
    private static SparkSession session;

    private SparkTestSupport() {}

    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder().master("local[2]").appName("bandlimit-spark-tests")
                    .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .getOrCreate();
            session.sparkContext().setLogLevel("WARN");
        }
        return session;
    }

    /** Images of {@code shape} with labels in [0, classes): a class-dependent stripe pattern plus noise. */
    record Images(float[][] items, int[] labels) {}

    static Images images(int n, long[] shape, int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int h = (int) shape[shape.length - 2], w = (int) shape[shape.length - 1];
        int size = 1;
        for (long d : shape) size *= (int) d;
        float[][] items = new float[n][size];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int label = random.nextInt(classes);
            labels[i] = label;
            double phase = random.nextDouble(2 * Math.PI);
            for (int k = 0; k < size; k++) {
                int y = (k / w) % h, x = k % w;
                double stripe = Math.sin((label + 1) * Math.PI * (label % 2 == 0 ? x : y) / w + phase);
                items[i][k] = (float) (stripe + 0.5 * random.nextGaussian());
            }
        }
        return new Images(items, labels);
    }

    static byte[] bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    /** Columns id (long), features (binary float32 LE), label (int), rows in item order (a local relation keeps it). */
    static Dataset<Row> frame(Images images) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < images.items().length; i++) {
            rows.add(RowFactory.create((long) i, bytes(images.items()[i]), images.labels()[i]));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType, false)
                .add("features", DataTypes.BinaryType, false).add("label", DataTypes.IntegerType, false);
        return session().createDataFrame(rows, schema);
    }
}
