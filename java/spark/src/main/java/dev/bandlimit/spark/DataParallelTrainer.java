package dev.bandlimit.spark;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.Checkpoint;
import dev.bandlimit.nn.models.Model;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.jspecify.annotations.Nullable;
import scala.Tuple2;
import scala.reflect.ClassTag$;

/**
 * Data-parallel training of a band-limited model on Spark, in barrier execution mode (all
 * workers' tasks start together or not at all, as XGBoost4J-Spark and TorchDistributor run):
 * every worker holds the same seeded model, computes the gradient of its share of each step's
 * batch, and the gradients are summed by a {@link RingAllReduce} over TCP between the tasks
 * before every worker takes the same optimizer step.
 *
 * <p><b>What is computed.</b> Row {@code i} of the input (in the Dataset's order) goes to worker
 * {@code i mod workers}. Each epoch draws one seeded permutation of all rows; step {@code s} of an
 * epoch takes the permutation's next {@code batchSize} rows (the last step the rest), and each
 * worker computes the loss gradient of those of its own rows, weighted by its share. The summed
 * gradient is the mean gradient over the whole batch, as one process would compute it: the same
 * batches, the same updates, whatever the number of workers, up to the rounding of the sum's
 * order (and exactly for one worker). Models with batch normalisation normalise with each
 * worker's own batch statistics (as PyTorch's DDP without SyncBatchNorm), so their curves
 * depend on the number of workers; their running statistics are averaged over the workers at
 * each checkpoint.
 *
 * <p><b>Checkpoints and failures.</b> The run is cut into segments of {@code checkpointEvery}
 * steps, one barrier stage each. After each, the driver receives the state from worker 0 (all
 * hold the same bits; checked) and writes {@code step-NNNNNNNN.safetensors} (the model, readable
 * by {@code bandlimit eval} and Python's safetensors) and {@code step-NNNNNNNN.optimizer.safetensors}
 * into the checkpoint folder. A failed task fails its stage cleanly (its ring neighbours see the
 * closed connection and fail too, nothing waits forever); the driver then restarts the segment
 * from the last checkpoint, up to {@code maxRestarts} times, and the result is the same bits as a
 * run without the failure. A new {@code fit} with the same folder resumes from its last
 * checkpoint.
 *
 * <p>Executors need Java 25 with {@code --enable-native-access=ALL-UNNAMED}
 * ({@code spark.executor.extraJavaOptions}) and the library jar (docs/SPARK.md).
 */
public final class DataParallelTrainer {
    private static final Pattern CHECKPOINT = Pattern.compile("step-(\\d{8})\\.safetensors");

    private final ModelSpec spec;
    private final Config config;
    private final @Nullable Path checkpointDir;
    private final Consumer<String> log;
    private final long failAtStep;
    private final int failRank;
    private final Features.Pixels pixels;

    /** Everything a task needs besides the data and the broadcast state (serialized into every task). */
    record Config(int workers, int epochs, int batchSize, String optimizer, double learningRate, double momentum,
            double weightDecay, String schedule, long seed, String trainCompression, String featuresColumn,
            String labelColumn, int checkpointEvery, int maxRestarts, @Nullable String ringHost,
            long connectTimeoutMillis, int nativeThreads) implements Serializable {}

    private DataParallelTrainer(Builder b) {
        this.spec = b.spec;
        this.checkpointDir = b.checkpointDir;
        this.log = b.log;
        this.failAtStep = b.failAtStep;
        this.failRank = b.failRank;
        this.pixels = b.pixels;
        this.config = new Config(b.workers, b.epochs, b.batchSize, b.optimizer, b.learningRate, b.momentum,
                b.weightDecay, b.schedule, b.seed, Checkpoint.describe(b.compression), b.featuresColumn, b.labelColumn,
                b.checkpointEvery, b.maxRestarts, b.ringHost, b.connectTimeoutMillis, b.nativeThreads);
    }

    public static Builder builder(ModelSpec spec) {
        return new Builder(spec);
    }

    public static final class Builder {
        private final ModelSpec spec;
        private int workers = 2, epochs = 1, batchSize = 64, checkpointEvery = Integer.MAX_VALUE, maxRestarts = 2;
        private String optimizer = "sgd", schedule = "constant", featuresColumn = "features", labelColumn = "label";
        private double learningRate = 0.05, momentum = 0.9, weightDecay = 0;
        private long seed = 1, connectTimeoutMillis = 120_000;
        private Compression compression = Compression.none();
        private @Nullable Path checkpointDir;
        private @Nullable String ringHost;
        private Consumer<String> log = s -> {};
        private long failAtStep = -1;
        private int failRank, nativeThreads;
        private Features.Pixels pixels = Features.Pixels.DEFAULT;

        private Builder(ModelSpec spec) {
            this.spec = Objects.requireNonNull(spec, "spec");
        }

        /** Tasks training at once, one per partition (default 2); the cluster must run that many together. */
        public Builder workers(int n) {
            if (n < 1) throw new IllegalArgumentException("workers must be >= 1, got " + n);
            this.workers = n;
            return this;
        }

        public Builder epochs(int n) {
            if (n < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + n);
            this.epochs = n;
            return this;
        }

        /** Items per step over all workers together (default 64). */
        public Builder batchSize(int n) {
            if (n < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + n);
            this.batchSize = n;
            return this;
        }

        /** {@code sgd} (default; with {@link #momentum}) or {@code adam}. */
        public Builder optimizer(String name) {
            String n = name.toLowerCase(Locale.ROOT);
            if (!n.equals("sgd") && !n.equals("adam")) throw new IllegalArgumentException("optimizer must be sgd or adam, got " + name);
            this.optimizer = n;
            return this;
        }

        public Builder learningRate(double lr) {
            if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learningRate must be >= 0, got " + lr);
            this.learningRate = lr;
            return this;
        }

        public Builder momentum(double m) {
            if (!(m >= 0 && m < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + m);
            this.momentum = m;
            return this;
        }

        public Builder weightDecay(double wd) {
            if (!(wd >= 0) || Double.isInfinite(wd)) throw new IllegalArgumentException("weightDecay must be >= 0, got " + wd);
            this.weightDecay = wd;
            return this;
        }

        /** {@code constant} (default) or {@code cosine} (over all steps). */
        public Builder schedule(String name) {
            String n = name.toLowerCase(Locale.ROOT);
            if (!n.equals("constant") && !n.equals("cosine")) throw new IllegalArgumentException("schedule must be constant or cosine, got " + name);
            this.schedule = n;
            return this;
        }

        /** Seeds the model's initial weights and the sampling order. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** The band-limited layers' compression in training (default none). */
        public Builder compression(Compression c) {
            this.compression = Objects.requireNonNull(c, "compression");
            return this;
        }

        public Builder featuresColumn(String c) {
            this.featuresColumn = Objects.requireNonNull(c, "featuresColumn");
            return this;
        }

        /** An integral column of classes in {@code [0, classes)} (default {@code label}). */
        public Builder labelColumn(String c) {
            this.labelColumn = Objects.requireNonNull(c, "labelColumn");
            return this;
        }

        /** Where the driver writes checkpoints, and resumes from (default: none, nothing written). */
        public Builder checkpointDir(@Nullable Path dir) {
            this.checkpointDir = dir;
            return this;
        }

        /** Steps per segment: a checkpoint after each, and the unit a failure repeats (default: the whole run). */
        public Builder checkpointEvery(int steps) {
            if (steps < 1) throw new IllegalArgumentException("checkpointEvery must be >= 1, got " + steps);
            this.checkpointEvery = steps;
            return this;
        }

        /** Restarts of failed segments before fit gives up (default 2). */
        public Builder maxRestarts(int n) {
            if (n < 0) throw new IllegalArgumentException("maxRestarts must be >= 0, got " + n);
            this.maxRestarts = n;
            return this;
        }

        /** The address the workers listen on for the ring (default: each executor's own host as Spark reports it). */
        public Builder ringHost(@Nullable String host) {
            this.ringHost = host;
            return this;
        }

        /**
         * How long a worker waits for its ring neighbours: to connect, and for their bytes during
         * an all-reduce without progress (default 120 s); then its task fails.
         */
        public Builder connectTimeoutMillis(long ms) {
            if (ms < 1) throw new IllegalArgumentException("connectTimeoutMillis must be >= 1, got " + ms);
            this.connectTimeoutMillis = ms;
            return this;
        }

        /**
         * Threads of the native library in each executor JVM while it trains
         * ({@code Bandlimit.setNumThreads}, JVM-wide); 0 (default) leaves the executors' setting.
         * With several workers in one JVM (local mode, or several cores per executor), cores
         * divided by workers keeps them from sharing the pool (docs/SPARK.md, "Measured").
         */
        public Builder nativeThreads(int threads) {
            if (threads < 0) throw new IllegalArgumentException("nativeThreads must be >= 0, got " + threads);
            this.nativeThreads = threads;
            return this;
        }

        /**
         * For a features column of images (Spark's {@code image} data source): each 8-bit pixel
         * becomes {@code pixel * scale + offset} (default {@code 1/255} and 0: values in [0, 1]).
         */
        public Builder imagePixels(double scale, double offset) {
            this.pixels = Features.Pixels.of(scale, offset);
            return this;
        }

        /** Progress lines (one per segment and restart); default: none. */
        public Builder log(Consumer<String> log) {
            this.log = Objects.requireNonNull(log, "log");
            return this;
        }

        /**
         * Makes worker {@code rank}'s task throw at step {@code step}, once (the first attempt of
         * the segment holding it): for testing recovery. Default: never.
         */
        public Builder failOnceAt(long step, int rank) {
            this.failAtStep = step;
            this.failRank = rank;
            return this;
        }

        public DataParallelTrainer build() {
            return new DataParallelTrainer(this);
        }
    }

    /** Sends row {@code index} to partition {@code index mod workers}. */
    static final class ModuloPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int partitions;

        ModuloPartitioner(int partitions) {
            this.partitions = partitions;
        }

        @Override
        public int numPartitions() {
            return partitions;
        }

        @Override
        public int getPartition(Object key) {
            return (int) Math.floorMod((Long) key, (long) partitions);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ModuloPartitioner m && m.partitions == partitions;
        }

        @Override
        public int hashCode() {
            return partitions;
        }
    }

    /**
     * Trains on {@code data} (a features column and a label column, see the builder), resuming
     * from the checkpoint folder's last checkpoint if it has one.
     */
    public TrainingResult fit(Dataset<Row> data) {
        StructType schema = data.schema();
        Features kind = Features.of(schema, config.featuresColumn(), spec, pixels);
        DataType labelType = schema.fields()[Features.index(schema, config.labelColumn())].dataType();
        if (!List.of(DataTypes.IntegerType, DataTypes.LongType, DataTypes.ShortType, DataTypes.ByteType).contains(labelType)) {
            throw new IllegalArgumentException("column " + config.labelColumn() + " is " + labelType.simpleString()
                    + ": expected an integral type");
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(data.sparkSession().sparkContext());
        checkSlots(jsc, config.workers());
        int classes = spec.classes(), workers = config.workers();
        String fc = config.featuresColumn(), lc = config.labelColumn();
        long prepareStart = System.nanoTime();
        JavaRDD<TrainingItem> items = data.select(fc, lc).javaRDD().zipWithIndex()
                .mapToPair(t -> new Tuple2<>(t._2(), TrainingItem.of(t._1(), t._2(), kind, lc, classes)))
                .partitionBy(new ModuloPartitioner(workers)).values().persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long n = countRows(items);
            if (n == 0) throw new IllegalArgumentException("no training rows");
            log.accept(String.format(Locale.ROOT, "prepared %d rows for %d workers in %.2f s", n, workers,
                    (System.nanoTime() - prepareStart) / 1e9));
            long stepsPerEpoch = (n + config.batchSize() - 1) / config.batchSize();
            long total = stepsPerEpoch * config.epochs();
            Compression train = Checkpoint.parseCompression(config.trainCompression(), Path.of("<config>"));

            ModelState state;
            OptimizerState optimizerState;
            long step;
            Path last = checkpointDir == null ? null : latestCheckpoint(checkpointDir);
            if (last != null) {
                state = ModelState.load(last);
                optimizerState = OptimizerState.load(optimizerFile(last));
                step = optimizerState.steps();
                checkResumable(state, optimizerState, last);
                log.accept("resuming from " + last + " (step " + step + " of " + total + ")");
            } else {
                try (Model fresh = spec.create(train, train, config.seed())) {
                    state = ModelState.snapshot(fresh.network(), spec.name(), train, config.seed());
                }
                optimizerState = OptimizerState.initial(config.optimizer());
                step = 0;
            }
            long resumedFrom = step;
            List<StepReport> reports = new ArrayList<>();
            int restarts = 0;
            boolean failurePending = failAtStep >= step && failAtStep < total;
            Path written = last;
            while (step < total) {
                long end = Math.min(total, step + config.checkpointEvery());
                boolean inject = failurePending && failAtStep < end;
                Segment segment = new Segment(spec, config, n, stepsPerEpoch, total, step, end,
                        new SecureRandom().nextLong(), inject ? failAtStep : -1, failRank);
                Broadcast<ModelState> b1 = jsc.broadcast(state);
                Broadcast<OptimizerState> b2 = jsc.broadcast(optimizerState);
                List<SegmentResult> results;
                long stageStart = System.nanoTime();
                try {
                    results = items.rdd().barrier()
                            .mapPartitions(new SegmentTask(segment, b1, b2), false, ClassTag$.MODULE$.apply(SegmentResult.class))
                            .toJavaRDD().collect();
                } catch (Exception e) {  // SparkException is checked, but Scala throws it undeclared
                    failurePending &= !inject;
                    if (restarts >= config.maxRestarts()) {
                        throw new IllegalStateException("training failed in steps [" + step + ", " + end + ") after "
                                + restarts + " restarts: " + rootMessage(e), e);
                    }
                    restarts++;
                    log.accept("steps [" + step + ", " + end + ") failed (" + rootMessage(e) + "): restart " + restarts
                            + " of " + config.maxRestarts() + " from " + (written != null ? written : "the start"));
                    if (written != null) {  // from disk, as a new job would
                        state = ModelState.load(written);
                        optimizerState = OptimizerState.load(optimizerFile(written));
                    }
                    continue;
                } finally {
                    b1.destroy();
                    b2.destroy();
                }
                failurePending &= !inject;
                SegmentResult first = merge(results, reports, workers, end - step);
                state = first.state();
                optimizerState = first.optimizerState();
                step = end;
                if (checkpointDir != null) written = writeCheckpoint(checkpointDir, step, state, optimizerState);
                StepReport lastStep = reports.get(reports.size() - 1);
                log.accept(String.format(Locale.ROOT, "step %d/%d: loss %.4f, %.1f items/s, all-reduce %.1f ms/step, %d bytes"
                        + " sent/step/worker, stage %.2f s (task setup %.2f s)%s", step, total, lastStep.loss(),
                        lastStep.items() / lastStep.seconds(), 1e3 * lastStep.allReduceSeconds(), lastStep.bytesSent(),
                        (System.nanoTime() - stageStart) / 1e9, results.stream().mapToDouble(SegmentResult::setupSeconds).max().orElse(0),
                        written != null ? ", checkpoint " + written.getFileName() : ""));
            }
            return new TrainingResult(state, optimizerState, List.copyOf(reports), restarts, n, stepsPerEpoch, resumedFrom, written);
        } finally {
            items.unpersist(false);
        }
    }

    /**
     * A barrier stage of more tasks than the cluster runs at once is not refused by Spark but
     * retried for about ten minutes ({@code spark.scheduler.barrier.maxConcurrentTasksCheck.*}):
     * on a local master, where the slots are known, refuse it at once.
     */
    static void checkSlots(JavaSparkContext jsc, int workers) {
        String master = jsc.master();
        Matcher m = Pattern.compile("local(?:\\[(\\d+|\\*)(?:,\\d+)?\\])?").matcher(master);
        if (!m.matches()) return;
        int cores = m.group(1) == null ? 1
                : m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(1));
        int taskCpus = Integer.parseInt(jsc.getConf().get("spark.task.cpus", "1"));
        int slots = cores / Math.max(1, taskCpus);
        if (workers > slots) {
            throw new IllegalArgumentException("workers (" + workers + ") exceed the " + slots + " task slots of " + master
                    + (taskCpus > 1 ? " with spark.task.cpus " + taskCpus : "") + ": barrier mode runs every worker at once");
        }
    }

    /**
     * Runs the preparation job: a bad row (wrong length, label out of range) fails it with an
     * IllegalArgumentException inside a SparkException; rethrown as an IllegalArgumentException.
     */
    private static long countRows(JavaRDD<TrainingItem> items) {
        try {
            return items.count();
        } catch (Exception e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException bad) throw new IllegalArgumentException(bad.getMessage(), e);
            }
            if (e instanceof RuntimeException r) throw r;
            throw new IllegalStateException("reading the training rows failed: " + rootMessage(e), e);
        }
    }

    /** Checks that the workers agree, and appends their per-step reports (slowest worker's times). */
    private static SegmentResult merge(List<SegmentResult> results, List<StepReport> reports, int workers, long steps) {
        if (results.size() != workers) throw new IllegalStateException(results.size() + " results from " + workers + " workers");
        SegmentResult first = null;
        for (SegmentResult r : results) if (r.rank() == 0) first = r;
        if (first == null || first.state() == null || first.optimizerState() == null) {
            throw new IllegalStateException("worker 0 returned no state");
        }
        for (SegmentResult r : results) {
            if (r.checksum() != first.checksum()) {
                throw new IllegalStateException("worker " + r.rank() + " ends with other weights than worker 0 (checksums "
                        + Long.toHexString(r.checksum()) + " vs " + Long.toHexString(first.checksum()) + ")");
            }
            if (r.steps().size() != steps) throw new IllegalStateException("worker " + r.rank() + " reported " + r.steps().size() + " steps");
        }
        for (int i = 0; i < steps; i++) {
            StepReport s = first.steps().get(i);
            double seconds = 0, allReduce = 0;
            for (SegmentResult r : results) {
                seconds = Math.max(seconds, r.steps().get(i).seconds());
                allReduce = Math.max(allReduce, r.steps().get(i).allReduceSeconds());
            }
            reports.add(new StepReport(s.step(), s.epoch(), s.loss(), s.items(), seconds, allReduce, s.bytesSent()));
        }
        return first;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        String message = String.valueOf(e.getMessage());
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            if (t.getMessage() != null) message = t.getMessage();
        }
        int newline = message.indexOf('\n');
        return newline > 0 ? message.substring(0, newline) : message;
    }

    private void checkResumable(ModelState state, OptimizerState opt, Path file) {
        if (opt.steps() != stepOf(file)) {
            throw new IllegalArgumentException(optimizerFile(file) + " holds the state after " + opt.steps()
                    + " steps, its model file is named for step " + stepOf(file) + ": the pair does not belong together");
        }
        if (!state.model().equals(spec.name())) {
            throw new IllegalArgumentException(file + " holds a " + state.model() + ", this training builds a " + spec.name());
        }
        if (!opt.kind().equals(config.optimizer())) {
            throw new IllegalArgumentException(file + " was trained with " + opt.kind() + ", this training uses " + config.optimizer());
        }
    }

    static Path optimizerFile(Path model) {
        return model.resolveSibling(model.getFileName().toString().replace(".safetensors", ".optimizer.safetensors"));
    }

    /** The checkpoint of the highest step in {@code dir} whose optimizer file is there too; null if none. */
    static @Nullable Path latestCheckpoint(Path dir) {
        if (!Files.isDirectory(dir)) return null;
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> CHECKPOINT.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(optimizerFile(p)))
                    .max(Comparator.comparing(p -> p.getFileName().toString())).orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The optimizer's file first, then the model's: a model file present means both are complete. */
    private static Path writeCheckpoint(Path dir, long step, ModelState state, OptimizerState opt) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        Path model = dir.resolve(String.format(Locale.ROOT, "step-%08d.safetensors", step));
        opt.save(optimizerFile(model));
        state.save(model);
        return model;
    }

    /** The step number in a checkpoint's file name. */
    static long stepOf(Path checkpoint) {
        Matcher m = CHECKPOINT.matcher(checkpoint.getFileName().toString());
        if (!m.matches()) throw new IllegalArgumentException(checkpoint + " is not a step-NNNNNNNN.safetensors file");
        return Long.parseLong(m.group(1));
    }
}
