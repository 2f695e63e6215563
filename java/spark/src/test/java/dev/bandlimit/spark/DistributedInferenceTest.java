package dev.bandlimit.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.models.MnistCnn;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Predictions over a Dataset on local[2] against the same model run here on each item alone:
 * logits within float32 rounding (the batch holds other items), the predicted class their argmax,
 * every input column kept; the three feature encodings; batches that do not divide the
 * partitions; time series through the FCN; and rows that do not fit the model, refused naming
 * the column.
 */
class DistributedInferenceTest {
    private static final Compression HALF = Compression.fixed(0.5);

    private static ModelState randomState(long seed) {
        try (MnistCnn model = new MnistCnn(HALF, HALF, seed)) {
            // Running statistics that are not the identity, so that evaluation uses them.
            SplittableRandom random = new SplittableRandom(seed);
            model.network().namedBuffers().forEach((name, t) -> {
                for (long i = 0; i < t.elementCount(); i++) {
                    t.set(i, name.endsWith("running_var") ? (float) (0.5 + random.nextDouble()) : (float) random.nextGaussian(0, 0.1));
                }
            });
            return ModelState.snapshot(model.network(), MnistCnn.NAME, HALF, seed);
        }
    }

    /** Logits of each item alone, through a model restored from {@code state}. */
    private static float[][] localLogits(ModelState state, float[][] items) {
        float[][] out = new float[items.length][];
        try (MnistCnn model = new MnistCnn(HALF, HALF, 0)) {
            state.restoreInto(model.network());
            for (int i = 0; i < items.length; i++) {
                try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(false)) {
                    Tensor x = Tensor.copyOf(arena, items[i], 1, 1, 28, 28);
                    out[i] = model.forward(tape, tape.input(x, false)).data().toArray();
                }
            }
        }
        return out;
    }

    @Test
    void predictionsMatchTheModelRunItemByItem() {
        int n = 75;
        SyntheticImages images = SparkTestSupport.images(n, MnistCnn.ITEM_SHAPE, 10, 5);
        ModelState state = randomState(3);
        float[][] expected = localLogits(state, images.items());
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] v = images.items()[i];
            List<Float> floats = new ArrayList<>();
            List<Double> doubles = new ArrayList<>();
            for (float f : v) {
                floats.add(f);
                doubles.add((double) f);
            }
            rows.add(RowFactory.create((long) i, SparkTestSupport.bytes(v), floats, doubles));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType).add("bin", DataTypes.BinaryType)
                .add("floats", DataTypes.createArrayType(DataTypes.FloatType)).add("doubles", DataTypes.createArrayType(DataTypes.DoubleType));
        Dataset<Row> frame = SparkTestSupport.session().createDataFrame(rows, schema).repartition(3);
        for (String column : List.of("bin", "floats", "doubles")) {
            try (DistributedInference inference = DistributedInference.builder(ModelSpec.mnistCnn(), state).featuresColumn(column)
                    .logitsColumn("logits").batchSize(8).build()) {
                List<Row> out = inference.transform(frame).collectAsList();
                assertEquals(n, out.size(), column);
                for (Row r : out) {
                    int id = (int) r.getLong(0);
                    List<Float> logits = r.getList(r.fieldIndex("logits"));
                    float[] want = expected[id];
                    double worst = 0, scale = 0;
                    int best = 0;
                    for (int c = 0; c < 10; c++) {
                        worst = Math.max(worst, Math.abs(logits.get(c) - want[c]));
                        scale = Math.max(scale, Math.abs(want[c]));
                        if (logits.get(c) > logits.get(best)) best = c;
                    }
                    assertTrue(worst <= 1e-5 * Math.max(scale, 1), column + " row " + id + ": logits differ by " + worst);
                    assertEquals(best, r.getInt(r.fieldIndex("prediction")), column + " row " + id);
                    assertEquals(4, r.fieldIndex("prediction"), "the input columns come first");
                }
            }
        }
    }

    /**
     * Broadcast ids restart with every SparkContext: the same sequence of calls in a second
     * application gets the same id, and the executor's pooled models (this JVM's) must not serve
     * the first application's weights to it.
     */
    @Test
    void aSecondApplicationInTheSameJvmGetsItsOwnWeights() {
        SyntheticImages images = SparkTestSupport.images(6, MnistCnn.ITEM_SHAPE, 10, 9);
        float[][] expected = null;
        for (long seed : new long[] {31, 32}) {
            SparkTestSupport.restart();
            ModelState state = randomState(seed);
            expected = localLogits(state, images.items());
            try (DistributedInference inference = DistributedInference.builder(ModelSpec.mnistCnn(), state)
                    .featuresColumn("features").logitsColumn("logits").build()) {
                for (Row r : inference.transform(SparkTestSupport.frame(images)).collectAsList()) {
                    List<Float> logits = r.getList(r.fieldIndex("logits"));
                    float[] want = expected[(int) r.getLong(0)];
                    for (int c = 0; c < 10; c++) {
                        assertEquals(want[c], logits.get(c), 1e-5 * Math.max(1, Math.abs(want[c])), "application of seed " + seed);
                    }
                }
            }
        }
        SparkTestSupport.restart();
    }

    /**
     * PNG files read by Spark's {@code image} data source (BGR bytes in a struct column): gray
     * 28x28 images through the MNIST CNN and colour 32x32 ones through a narrow ResNet-18, against
     * the models run here on the files' pixels as ImageIO decodes them (RGB order, scaled by the
     * same {@code pixel * scale + offset} in float), within float32 rounding.
     */
    @Test
    void pngFilesThroughSparksImageSource(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        float scale = (float) (1 / 127.5), offset = -1f;
        SplittableRandom random = new SplittableRandom(12);
        for (boolean colour : new boolean[] {false, true}) {
            ModelSpec spec = colour ? ModelSpec.resnet18(8, 10) : ModelSpec.mnistCnn();
            int c = colour ? 3 : 1, h = colour ? 32 : 28, w = h, n = 5;
            java.nio.file.Path folder = java.nio.file.Files.createDirectories(dir.resolve(colour ? "colour" : "gray"));
            float[][] items = new float[n][c * h * w];
            for (int i = 0; i < n; i++) {
                java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h,
                        colour ? java.awt.image.BufferedImage.TYPE_INT_RGB : java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int r = random.nextInt(256), g = random.nextInt(256), b = random.nextInt(256);
                        if (colour) {
                            img.setRGB(x, y, (r << 16) | (g << 8) | b);
                        } else {
                            img.getRaster().setSample(x, y, 0, r);
                        }
                    }
                }
                javax.imageio.ImageIO.write(img, "png", folder.resolve("img-" + i + ".png").toFile());
                java.awt.image.BufferedImage back = javax.imageio.ImageIO.read(folder.resolve("img-" + i + ".png").toFile());
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int[] px = colour ? new int[] {(back.getRGB(x, y) >> 16) & 0xff, (back.getRGB(x, y) >> 8) & 0xff,
                                back.getRGB(x, y) & 0xff} : new int[] {back.getRaster().getSample(x, y, 0)};
                        for (int k = 0; k < c; k++) items[i][(k * h + y) * w + x] = px[k] * scale + offset;
                    }
                }
            }
            ModelState state;
            try (dev.bandlimit.nn.models.Model m = spec.create(HALF, HALF, 40)) {
                state = ModelState.snapshot(m.network(), spec.name(), HALF, 40);
            }
            float[][] expected = new float[n][];
            try (dev.bandlimit.nn.models.Model m = spec.create(HALF, HALF, 0)) {
                state.restoreInto(m.network());
                for (int i = 0; i < n; i++) {
                    try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(false)) {
                        expected[i] = m.forward(tape, tape.input(Tensor.copyOf(arena, items[i], 1, c, h, w), false)).data().toArray();
                    }
                }
            }
            Dataset<Row> images = SparkTestSupport.session().read().format("image").load(folder.toString());
            try (DistributedInference inference = DistributedInference.builder(spec, state).featuresColumn("image")
                    .imagePixels(scale, offset).logitsColumn("logits").batchSize(2).build()) {
                List<Row> out = inference.transform(images).collectAsList();
                assertEquals(n, out.size(), spec.name());
                for (Row r : out) {
                    String origin = r.getStruct(0).getString(r.getStruct(0).fieldIndex("origin"));
                    int i = Integer.parseInt(origin.replaceAll(".*img-(\\d+)\\.png$", "$1"));
                    List<Float> logits = r.getList(r.fieldIndex("logits"));
                    for (int k = 0; k < 10; k++) {
                        assertEquals(expected[i][k], logits.get(k), 1e-5 * Math.max(1, Math.abs(expected[i][k])),
                                spec.name() + " " + origin + " logit " + k);
                    }
                }
            }
        }
        // An image of another size is refused naming the column.
        Dataset<Row> wrong = SparkTestSupport.session().read().format("image").load(dir.resolve("colour").toString());
        try (DistributedInference inference = DistributedInference.builder(ModelSpec.mnistCnn(), randomState(2))
                .featuresColumn("image").build()) {
            Exception e = assertThrows(Exception.class, () -> inference.transform(wrong).collectAsList());
            assertTrue(String.valueOf(e.getMessage()).contains("column image holds a 32x32 image of 3 channels"), e.getMessage());
        }
    }

    @Test
    void timeSeriesThroughTheFcn() {
        ModelSpec spec = ModelSpec.fcn(2, 40, 3);
        ModelState state;
        try (dev.bandlimit.nn.models.Model m = spec.create(HALF, HALF, 21)) {
            state = ModelState.snapshot(m.network(), spec.name(), HALF, 21);
        }
        SplittableRandom random = new SplittableRandom(8);
        int n = 13;
        float[][] series = new float[n][80];
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<Double> values = new ArrayList<>();
            for (int k = 0; k < 80; k++) {
                series[i][k] = (float) (Math.sin(0.3 * k * (1 + i % 3)) + 0.2 * random.nextGaussian());
                values.add((double) series[i][k]);
            }
            rows.add(RowFactory.create(i, values));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("series", DataTypes.createArrayType(DataTypes.DoubleType));
        float[][] expected = new float[n][];
        try (dev.bandlimit.nn.models.Model m = spec.create(HALF, HALF, 0)) {
            state.restoreInto(m.network());
            for (int i = 0; i < n; i++) {
                try (Arena arena = Arena.ofConfined(); Tape tape = new Tape(false)) {
                    expected[i] = m.forward(tape, tape.input(Tensor.copyOf(arena, series[i], 1, 2, 40), false)).data().toArray();
                }
            }
        }
        try (DistributedInference inference = DistributedInference.builder(spec, state).featuresColumn("series")
                .logitsColumn("logits").batchSize(4).build()) {
            List<Row> out = inference.transform(SparkTestSupport.session().createDataFrame(rows, schema).repartition(2)).collectAsList();
            assertEquals(n, out.size());
            for (Row r : out) {
                List<Float> logits = r.getList(3);
                for (int c = 0; c < 3; c++) {
                    float want = expected[r.getInt(0)][c];
                    assertEquals(want, logits.get(c), 1e-5 * Math.max(1, Math.abs(want)), "series " + r.getInt(0));
                }
            }
        }
    }

    @Test
    void rowsThatDoNotFitAreRefusedNamingTheColumn() {
        ModelState state = randomState(4);
        StructType schema = new StructType().add("features", DataTypes.BinaryType);
        Dataset<Row> shortRows = SparkTestSupport.session().createDataFrame(List.of(RowFactory.create((Object) new byte[12])), schema);
        try (DistributedInference inference = DistributedInference.builder(ModelSpec.mnistCnn(), state).build()) {
            Exception e = assertThrows(Exception.class, () -> inference.transform(shortRows).collectAsList());
            assertTrue(e instanceof SparkException && e.getMessage().contains("column features holds 12 bytes"), e.getMessage());
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                    () -> inference.transform(shortRows.withColumnRenamed("features", "image")));
            assertTrue(missing.getMessage().contains("no column features"), missing.getMessage());
            IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
                    () -> inference.transform(SparkTestSupport.session().range(3).toDF("features")));
            assertTrue(type.getMessage().contains("column features is bigint"), type.getMessage());
        }
        ModelState tiny;
        try (dev.bandlimit.nn.models.Model t = TinyCnn.create(HALF, HALF, 1)) {
            tiny = ModelState.snapshot(t.network(), TinyCnn.NAME, HALF, 1);
        }
        IllegalArgumentException wrongModel = assertThrows(IllegalArgumentException.class,
                () -> DistributedInference.builder(ModelSpec.mnistCnn(), tiny).build());
        assertTrue(wrongModel.getMessage().contains("tiny-cnn"), wrongModel.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DistributedInference.builder(ModelSpec.mnistCnn(), state).batchSize(0));
    }
}
