package dev.bandlimit.spark;

import dev.bandlimit.Bandlimit;
import dev.bandlimit.Compression;
import dev.bandlimit.Padding;
import dev.bandlimit.nn.Conv2d;
import dev.bandlimit.nn.Flatten;
import dev.bandlimit.nn.Linear;
import dev.bandlimit.nn.MaxPool2d;
import dev.bandlimit.nn.ReLU;
import dev.bandlimit.nn.Sequential;
import dev.bandlimit.nn.models.MnistCnn;
import dev.bandlimit.nn.models.Model;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The end-to-end check and benchmark of the Spark module, run by scripts/spark-cluster.sh against
 * a standalone cluster and by scripts/spark-bench.sh on local[2]: trains the MNIST CNN on seeded
 * synthetic 28x28 images with {@code --workers} workers (checkpoints in {@code --checkpoints}),
 * predicts a held-out set with {@link DistributedInference}, and with {@code --compare} also
 * trains a CNN without batch norm on 1 and on {@code --workers} workers and compares the two loss
 * curves. Prints one {@code RESULT key=value ...} line per measurement; exits 1 when a check fails.
 *
 * <p>{@code spark-submit --class dev.bandlimit.spark.SparkCheck ... bandlimit-spark.jar --workers 2
 * --items 2048 --epochs 2 --batch 64 --rho 0.5 --checkpoints /tmp/ckpt --compare} (the master from
 * spark-submit), or {@code java ... SparkCheck --master local[2] ...}.
 */
public final class SparkCheck {
    private SparkCheck() {}

    /** The MNIST CNN without batch norm: data-parallel training follows the one-process curve. */
    static Model plainCnn(Compression train, Compression eval, long seed) {
        Conv2d conv1 = Conv2d.builder(1, 8).kernel(5, 5).padding(Padding.symmetric(2)).compression(train)
                .evalCompression(eval).seed(seed + 1).build();
        Conv2d conv2 = Conv2d.builder(8, 16).kernel(5, 5).padding(Padding.symmetric(2)).compression(train)
                .evalCompression(eval).seed(seed + 2).build();
        Sequential net = new Sequential(conv1, new ReLU(), new MaxPool2d(2, 2), conv2, new ReLU(), new MaxPool2d(2, 2),
                new Flatten(), new Linear(16 * 7 * 7, 10, true, seed + 3));
        return Model.of(net, List.of(conv1, conv2), List.of("0", "3"));
    }

    static ModelSpec plainCnnSpec() {
        return ModelSpec.of("plain-cnn", MnistCnn.ITEM_SHAPE, 10, SparkCheck::plainCnn);
    }

    public static void main(String[] args) {
        Map<String, String> o = new HashMap<>(Map.of("--workers", "2", "--items", "2048",
                "--test-items", "512", "--epochs", "2", "--batch", "64", "--rho", "0.5", "--seed", "1"));
        boolean compare = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--compare")) {
                compare = true;
            } else if (i + 1 < args.length && args[i].startsWith("--")) {
                o.put(args[i], args[++i]);
            } else {
                throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        int workers = Integer.parseInt(o.get("--workers")), items = Integer.parseInt(o.get("--items"));
        int epochs = Integer.parseInt(o.get("--epochs")), batch = Integer.parseInt(o.get("--batch"));
        long seed = Long.parseLong(o.get("--seed"));
        Compression rho = Compression.fixed(Double.parseDouble(o.get("--rho")));
        int nativeThreads = Integer.parseInt(o.getOrDefault("--native-threads", "0"));
        if (nativeThreads > 0) Bandlimit.setNumThreads(nativeThreads);  // the driver's (local mode: the executors' too)
        // --master, or spark-submit's (spark.master), or local[2] when run by hand.
        SparkSession.Builder sb = SparkSession.builder().appName("bandlimit-spark-check").config("spark.ui.enabled", "false");
        String master = o.getOrDefault("--master", System.getProperty("spark.master", "local[2]"));
        sb.master(master);
        System.out.println("master " + master);
        if (o.containsKey("--jars")) sb.config("spark.jars", o.get("--jars"));
        SparkSession spark = sb.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        boolean ok = true;
        try {
            SyntheticImages train = SyntheticImages.generate(items, MnistCnn.ITEM_SHAPE, 10, seed);
            SyntheticImages test = SyntheticImages.generate(Integer.parseInt(o.get("--test-items")), MnistCnn.ITEM_SHAPE, 10, seed + 1);
            Dataset<Row> trainFrame = train.toDataFrame(spark).cache(), testFrame = test.toDataFrame(spark).cache();
            trainFrame.count();
            testFrame.count();

            DataParallelTrainer.Builder tb = DataParallelTrainer.builder(ModelSpec.mnistCnn()).workers(workers).epochs(epochs)
                    .batchSize(batch).optimizer("adam").learningRate(0.002).seed(seed).compression(rho)
                    .nativeThreads(nativeThreads).log(line -> System.out.println("  " + line));
            if (o.containsKey("--checkpoints")) {
                tb.checkpointDir(Path.of(o.get("--checkpoints"))).checkpointEvery(Integer.parseInt(o.getOrDefault("--every", "16")));
            }
            if (o.containsKey("--ring-host")) tb.ringHost(o.get("--ring-host"));
            long t0 = System.nanoTime();
            TrainingResult r = tb.build().fit(trainFrame);
            double wall = (System.nanoTime() - t0) / 1e9;
            double[] losses = r.losses();
            // Steady state: the median step after the first of each segment's stage start-up.
            double[] stepSeconds = r.steps().stream().skip(Math.min(2, r.steps().size() - 1)).mapToDouble(StepReport::seconds).sorted().toArray();
            double[] reduceMs = r.steps().stream().mapToDouble(s -> 1e3 * s.allReduceSeconds()).sorted().toArray();
            double median = stepSeconds[stepSeconds.length / 2];
            System.out.printf(Locale.ROOT, "RESULT train workers=%d steps=%d batch=%d rho=%s first_loss=%.4f last_loss=%.4f"
                    + " median_step_ms=%.1f images_per_s=%.1f wall_images_per_s=%.1f allreduce_ms_median=%.2f bytes_per_step_per_worker=%d"
                    + " restarts=%d wall_s=%.1f%n", workers, r.steps().size(), batch, o.get("--rho"), losses[0], losses[losses.length - 1],
                    1e3 * median, batch / median, (double) r.items() * epochs / wall, reduceMs[reduceMs.length / 2],
                    r.steps().get(0).bytesSent(), r.restarts(), wall);
            ok &= losses[losses.length - 1] < losses[0];

            // Where each executor JVM loaded the native library from (extracted from the shipped jar).
            List<String> natives = spark.range(0, 8, 1, 8).toJavaRDD()
                    .mapPartitions(rows -> List.of("pid=" + ProcessHandle.current().pid() + " native=" + Bandlimit.nativeVersion()
                            + " library=" + Bandlimit.nativeLibraryLocation()).iterator())
                    .collect().stream().distinct().sorted().toList();
            for (String line : natives) System.out.println("RESULT executor " + line);
            System.out.println("RESULT driver pid=" + ProcessHandle.current().pid());

            try (DistributedInference inference = DistributedInference.builder(ModelSpec.mnistCnn(), r.state()).batchSize(128).build()) {
                long p0 = System.nanoTime();
                List<Row> predicted = inference.transform(testFrame).select("label", "prediction").collectAsList();
                double seconds = (System.nanoTime() - p0) / 1e9;
                long correct = predicted.stream().filter(row -> row.getInt(0) == row.getInt(1)).count();
                double accuracy = (double) correct / predicted.size();
                System.out.printf(Locale.ROOT, "RESULT predict items=%d accuracy=%.4f images_per_s=%.1f%n", predicted.size(),
                        accuracy, predicted.size() / seconds);
                ok &= accuracy > 0.5;
            }

            if (compare) {
                DataParallelTrainer.Builder cb = DataParallelTrainer.builder(plainCnnSpec()).epochs(1).batchSize(batch)
                        .learningRate(0.02).momentum(0.9).seed(seed).compression(rho);
                if (o.containsKey("--ring-host")) cb.ringHost(o.get("--ring-host"));
                double[] one = cb.workers(1).build().fit(trainFrame).losses();
                double[] many = cb.workers(workers).build().fit(trainFrame).losses();
                double worst = 0;
                for (int i = 0; i < one.length; i++) worst = Math.max(worst, Math.abs(one[i] - many[i]) / one[i]);
                System.out.printf(Locale.ROOT, "RESULT compare steps=%d workers=1,%d max_relative_loss_difference=%.3e%n",
                        one.length, workers, worst);
                ok &= worst < 1e-4;
            }
        } finally {
            spark.stop();
        }
        System.out.println(ok ? "CHECK PASS" : "CHECK FAIL");
        if (!ok) System.exit(1);
    }
}
