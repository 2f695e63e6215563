package dev.bandlimit.spark;

import dev.bandlimit.Compression;
import dev.bandlimit.Tensor;
import dev.bandlimit.nn.Checkpoint;
import dev.bandlimit.nn.Tape;
import dev.bandlimit.nn.Var;
import dev.bandlimit.nn.models.Model;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.jspecify.annotations.Nullable;

/**
 * Predictions of a band-limited model over a Dataset: {@link #transform} adds the predicted class
 * (and, on request, the logits) to every row. The weights are broadcast once per instance (not
 * shipped with every task); each executor builds models from them on first use and keeps them
 * ({@code ModelPool}): every task running at once has its own model, hence its own convolution
 * plans; the rows of a partition go through it in batches, each batch copied once into one
 * native tensor that the convolutions then read in place.
 *
 * <pre>{@code
 * try (DistributedInference inference = DistributedInference.builder(ModelSpec.mnistCnn(), state)
 *         .featuresColumn("image").batchSize(256).build()) {
 *     Dataset<Row> predicted = inference.transform(images);   // + "prediction": int
 *     predicted.write().parquet(out);
 * }
 * }</pre>
 *
 * <p>The features column holds one item per row: {@code binary} (float32, little-endian; the
 * fastest), {@code array<float>} or {@code array<double>}, with exactly {@link ModelSpec#itemSize()}
 * values, or an image of the item's size as Spark's {@code image} data source reads it (pixels
 * scaled by {@link Builder#imagePixels}). A row that does not fit fails its task with an
 * {@link IllegalArgumentException} naming the column. {@link #close()} destroys the broadcast: use the transformed Datasets before it.
 */
public final class DistributedInference implements AutoCloseable {
    private final ModelSpec spec;
    private final ModelState state;
    private final String featuresColumn, predictionColumn;
    private final @Nullable String logitsColumn;
    private final int batchSize;
    private final Compression eval;
    private final Features.Pixels pixels;
    private @Nullable Broadcast<ModelState> broadcast;

    private DistributedInference(Builder b) {
        this.spec = b.spec;
        this.state = b.state;
        this.featuresColumn = b.featuresColumn;
        this.predictionColumn = b.predictionColumn;
        this.logitsColumn = b.logitsColumn;
        this.batchSize = b.batchSize;
        this.pixels = b.pixels;
        this.eval = b.eval != null ? b.eval : b.state.trainCompression();
        if (!spec.name().equals(state.model())) {
            throw new IllegalArgumentException("the state holds a " + state.model() + ", the spec builds a " + spec.name());
        }
    }

    public static Builder builder(ModelSpec spec, ModelState state) {
        return new Builder(spec, state);
    }

    public static final class Builder {
        private final ModelSpec spec;
        private final ModelState state;
        private String featuresColumn = "features", predictionColumn = "prediction";
        private @Nullable String logitsColumn;
        private int batchSize = 64;
        private @Nullable Compression eval;
        private Features.Pixels pixels = Features.Pixels.DEFAULT;

        private Builder(ModelSpec spec, ModelState state) {
            this.spec = Objects.requireNonNull(spec, "spec");
            this.state = Objects.requireNonNull(state, "state");
        }

        /** The input column of items (default {@code features}). */
        public Builder featuresColumn(String c) {
            this.featuresColumn = Objects.requireNonNull(c, "featuresColumn");
            return this;
        }

        /** The output column of predicted classes, {@code int} (default {@code prediction}). */
        public Builder predictionColumn(String c) {
            this.predictionColumn = Objects.requireNonNull(c, "predictionColumn");
            return this;
        }

        /** Also output the logits, {@code array<float>}, in this column (default: not output). */
        public Builder logitsColumn(@Nullable String c) {
            this.logitsColumn = c;
            return this;
        }

        /** Rows per forward pass (default 64). */
        public Builder batchSize(int n) {
            if (n < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + n);
            this.batchSize = n;
            return this;
        }

        /** The compression of the convolutions at inference (default: the one the state was trained at). */
        public Builder evalCompression(Compression c) {
            this.eval = Objects.requireNonNull(c, "evalCompression");
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

        public DistributedInference build() {
            return new DistributedInference(this);
        }
    }

    /** {@code input} with the prediction column (and the logits column, if asked) appended. */
    public Dataset<Row> transform(Dataset<Row> input) {
        StructType in = input.schema();
        int field = Features.index(in, featuresColumn);
        Features kind = Features.of(in, featuresColumn, spec, pixels);
        for (String out : logitsColumn == null ? List.of(predictionColumn) : List.of(predictionColumn, logitsColumn)) {
            if (List.of(in.fieldNames()).contains(out)) {
                throw new IllegalArgumentException("the input already has a column " + out);
            }
        }
        StructType schema = in.add(predictionColumn, DataTypes.IntegerType, false);
        if (logitsColumn != null) schema = schema.add(logitsColumn, DataTypes.createArrayType(DataTypes.FloatType, false), false);
        Broadcast<ModelState> b = broadcast(input.sparkSession());
        PredictPartition f = new PredictPartition(spec, b, input.sparkSession().sparkContext().applicationId(),
                Checkpoint.describe(eval), field, kind, batchSize, logitsColumn != null, in.length());
        return input.mapPartitions(f, Encoders.row(schema));
    }

    private synchronized Broadcast<ModelState> broadcast(SparkSession session) {
        if (broadcast == null) broadcast = JavaSparkContext.fromSparkContext(session.sparkContext()).broadcast(state);
        return broadcast;
    }

    /** Destroys the broadcast weights (the executors' models of them are closed when the next broadcast arrives). */
    @Override
    public synchronized void close() {
        if (broadcast != null) broadcast.destroy();
        broadcast = null;
    }

    /** The task: batches of rows through a pooled model. */
    private record PredictPartition(ModelSpec spec, Broadcast<ModelState> weights, String applicationId, String eval, int field,
            Features kind, int batchSize, boolean withLogits, int inputWidth)
            implements MapPartitionsFunction<Row, Row> {

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new Batches(this, rows);
        }
    }

    private static final class Batches implements Iterator<Row> {
        private final PredictPartition task;
        private final Iterator<Row> rows;
        private final List<Row> pending = new ArrayList<>();
        private final List<Row> out = new ArrayList<>();
        private int next;
        private @Nullable Model model;
        private String key = "";
        private @Nullable Arena arena;
        private MemorySegment input = MemorySegment.NULL;
        private boolean done;

        Batches(PredictPartition task, Iterator<Row> rows) {
            this.task = task;
            this.rows = rows;
            TaskContext tc = TaskContext.get();
            if (tc != null) tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) context -> release());
        }

        @Override
        public boolean hasNext() {
            if (next < out.size()) return true;
            if (done) return false;
            out.clear();
            next = 0;
            pending.clear();
            while (pending.size() < task.batchSize() && rows.hasNext()) pending.add(rows.next());
            if (pending.isEmpty()) {
                release();
                return false;
            }
            predict();
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) throw new NoSuchElementException();
            return out.get(next++);
        }

        private void predict() {
            ModelSpec spec = task.spec();
            if (model == null) {
                Compression eval = Checkpoint.parseCompression(task.eval(), java.nio.file.Path.of("<inference>"));
                key = ModelPool.key(task.applicationId(), task.weights().id(), eval);
                model = ModelPool.borrow(key, spec, task.weights().value(), eval);
                arena = Arena.ofConfined();
                input = arena.allocate(4L * spec.itemSize() * task.batchSize(), 64);
            }
            int n = pending.size(), itemSize = spec.itemSize();
            for (int i = 0; i < n; i++) {
                task.kind().copy(pending.get(i), task.field(), input, 4L * i * itemSize);
            }
            Tensor x = Tensor.wrap(input.asSlice(0, 4L * n * itemSize), spec.batchShape(n));
            float[] logits;
            try (Tape tape = new Tape(false)) {
                Var y = model.forward(tape, tape.input(x, false));
                logits = y.data().toArray();
            }
            int classes = logits.length / n;
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
                Row r = pending.get(i);
                Object[] values = new Object[task.inputWidth() + (task.withLogits() ? 2 : 1)];
                for (int k = 0; k < task.inputWidth(); k++) values[k] = r.get(k);
                values[task.inputWidth()] = best;
                if (task.withLogits()) values[task.inputWidth() + 1] = java.util.Arrays.copyOfRange(logits, i * classes, (i + 1) * classes);
                out.add(RowFactory.create(values));
            }
        }

        private void release() {
            done = true;
            if (model != null) {
                ModelPool.giveBack(key, model);
                model = null;
            }
            if (arena != null) {
                arena.close();
                arena = null;
            }
        }
    }
}
