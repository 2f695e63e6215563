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

/**
 * Seeded labelled images for checks and benchmarks that must not depend on a download: class
 * {@code k} is a stripe pattern of frequency {@code k + 1} (horizontal for even {@code k},
 * vertical for odd) at a random phase, plus Gaussian noise of half its amplitude.
 */
public record SyntheticImages(float[][] items, int[] labels) {

    public static SyntheticImages generate(int n, long[] itemShape, int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int h = (int) itemShape[itemShape.length - 2], w = (int) itemShape[itemShape.length - 1];
        int size = 1;
        for (long d : itemShape) size = Math.multiplyExact(size, (int) d);
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
        return new SyntheticImages(items, labels);
    }

    /** float32 little-endian bytes, the binary features encoding. */
    public static byte[] bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    /** Columns id (long), features (binary), label (int), rows in item order (a local relation keeps it). */
    public Dataset<Row> toDataFrame(SparkSession session) {
        List<Row> rows = new ArrayList<>(items.length);
        for (int i = 0; i < items.length; i++) rows.add(RowFactory.create((long) i, bytes(items[i]), labels[i]));
        StructType schema = new StructType().add("id", DataTypes.LongType, false)
                .add("features", DataTypes.BinaryType, false).add("label", DataTypes.IntegerType, false);
        return session.createDataFrame(rows, schema);
    }
}
